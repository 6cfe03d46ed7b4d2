"""Ratings and their counts: recording, the counting rule, devices, the scale, rollups and windows."""
