"""Booking: seat reservation, payment, cancellation, itineraries, recovery (docs/decisions.md, "Booking")."""

from app.booking.replies import list_for_user
from app.booking.workflow import book, cancel

__all__ = ["book", "cancel", "list_for_user"]
