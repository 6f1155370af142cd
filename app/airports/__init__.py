"""Airports: the names in use and their IANA timezones."""
