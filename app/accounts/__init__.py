"""Accounts: registration, login, the current user, rate limits on both."""
