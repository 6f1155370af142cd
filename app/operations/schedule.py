"""A booked flight's times moved (admin PUT): tell its travellers, flag broken trips.

Runs inside the PUT's transaction (the flights service calls it through ``context.schedule_hook``,
wired in ``app.context``), so the notices and ``needs_attention`` commit with the new times or
not at all. An order is broken when, with the new times, a slice's flights no longer connect
(MIN_CONNECTION_MINUTES..MAX_LAYOVER_MINUTES after the previous arrival) or a slice no longer
departs after the previous slice arrives; it is then ``needs_attention``, which lets its
traveller cancel for a full refund until departure (the orders domain's refund rule).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.flights.events import FlightSnapshot
from app.models import SEAT_HOLDING_STATUSES, NotificationKind
from app.notifications import outbox
from app.notifications.outbox import Notice

if TYPE_CHECKING:
    from app.context import AppContext
    from app.platform.config import Settings

_HELD = list(SEAT_HOLDING_STATUSES)

# Every seat-holding row of every order or itinerary with a seat-holding row on the flight, with
# its flight's current (just flushed) times.
_TRIPS = """
WITH hit AS (
    SELECT order_id, group_id, id FROM bookings WHERE flight_id = :flight AND status = ANY(:held)
)
SELECT b.id, b.order_id, b.group_id, b.user_id, b.flight_id, b.slice_index, b.leg_index,
       b.created_at, f.source, f.destination, f.departure_ts, f.arrival_ts,
       o.reference, o.contact_email, o.status AS order_status
FROM bookings b JOIN flights f ON f.id = b.flight_id LEFT JOIN orders o ON o.id = b.order_id
WHERE b.status = ANY(:held) AND (
    b.id IN (SELECT id FROM hit)
    OR b.order_id IN (SELECT order_id FROM hit WHERE order_id IS NOT NULL)
    OR (b.order_id IS NULL AND b.group_id IN (SELECT group_id FROM hit WHERE group_id IS NOT NULL))
)
"""


def broken(settings: Settings, legs: Sequence[Any]) -> bool:
    """True when the trip's legs (rows with slice_index, leg_index and times) no longer connect."""
    shortest = timedelta(minutes=settings.min_connection_minutes)
    longest = timedelta(minutes=settings.max_layover_minutes)
    slices: dict[int, list[Any]] = defaultdict(list)
    for leg in legs:
        slices[leg.slice_index or 0].append(leg)
    ordered = [
        sorted(slices[k], key=lambda leg: (leg.leg_index or 0, leg.departure_ts)) for k in sorted(slices)
    ]
    for flights in ordered:
        for previous, following in pairwise(flights):
            if not shortest <= following.departure_ts - previous.arrival_ts <= longest:
                return True
    return any(later[0].departure_ts <= earlier[-1].arrival_ts for earlier, later in pairwise(ordered))


def _moved(before: FlightSnapshot, after: FlightSnapshot) -> str:
    def at(moment: datetime) -> str:
        return f"{moment:%Y-%m-%d %H:%M} UTC"

    return (
        f"Flight {after.flight_number} {after.source}-{after.destination} has new times:\n"
        f"  departure {at(before.departure_ts)} -> {at(after.departure_ts)}\n"
        f"  arrival   {at(before.arrival_ts)} -> {at(after.arrival_ts)}\n"
    )


async def on_schedule_change(
    context: AppContext, session: AsyncSession, before: FlightSnapshot, after: FlightSnapshot
) -> None:
    rows = (await session.execute(text(_TRIPS), {"flight": after.id, "held": _HELD})).all()
    if not rows:
        return
    trips: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        trips[row.order_id or row.group_id or row.id].append(row)
    flagged: list[uuid.UUID] = []
    notices: list[Notice] = []
    for legs in trips.values():
        first = legs[0]
        is_broken = broken(context.settings, legs)
        attention = (
            "Your connections no longer work with these times: you may cancel for a full refund "
            "until departure, or contact us to rebook.\n"
            if is_broken
            else "Your trip still connects; no action is needed.\n"
        )
        if first.order_id is not None:
            if is_broken:
                flagged.append(first.order_id)
            notices.append(
                Notice(
                    user_id=first.user_id,
                    order_id=first.order_id,
                    kind=NotificationKind.SCHEDULE_CHANGED,
                    subject=f"Booking {first.reference}: flight {after.flight_number} has new times",
                    body=f"Booking {first.reference}.\n" + _moved(before, after) + attention,
                    email_to=first.contact_email,
                )
            )
        else:
            notices.append(
                Notice(
                    user_id=first.user_id,
                    order_id=None,
                    kind=NotificationKind.SCHEDULE_CHANGED,
                    subject=f"Flight {after.flight_number} has new times",
                    body=_moved(before, after) + attention,
                )
            )
    if flagged:
        await session.execute(
            text("UPDATE orders SET needs_attention = true, updated_at = now() WHERE id = ANY(:ids)"),
            {"ids": flagged},
        )
    await outbox.write_in(session, notices, email_enabled=context.settings.smtp_url is not None)
