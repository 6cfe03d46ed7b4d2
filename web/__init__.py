"""The web edge: the worker's pages, the finder, the staff pages and the JSON API, over the rules
and data in feedback/, jobs/ and qr/."""
