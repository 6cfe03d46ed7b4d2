"""Stations, ratings and the pages about them."""
