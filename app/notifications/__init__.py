"""Notifications: the outbox every change that concerns a traveller writes to, in its own transaction."""
