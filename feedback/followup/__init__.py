"""What follows a rating: cases, signals for inspectors, visits, and the working-day calendar."""
