"""Booking: seat reservation, payment, cancellation, itineraries, recovery (docs/decisions.md, "Booking")."""
