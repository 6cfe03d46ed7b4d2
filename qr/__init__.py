"""Station links, QR codes and posters."""
