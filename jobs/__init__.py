"""Scheduled work: digests, the downgrade scan, and their delivery channels."""
