"""Stations and where they are: the station records, opening hours, geometry and the finder."""
