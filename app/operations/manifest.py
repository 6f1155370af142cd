"""Who is booked on a flight: every bookings row of it, with its order's reference and passengers."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import text

from app.flights import service as flights
from app.models import SEAT_HOLDING_STATUSES, BookingStatus, PassengerType
from app.operations.schemas import (
    ManifestEntry,
    ManifestOut,
    ManifestPassenger,
    ManifestTotals,
    StatusCounts,
)

if TYPE_CHECKING:
    from app.context import AppContext

# A flight has at most 1,000 seats; failed and cancelled rows come on top. Past this many rows
# the manifest lists the newest (the totals still count every row).
MAX_ENTRIES = 5000

_ENTRIES = """
SELECT b.id, b.order_id, o.reference, b.status, o.status AS order_status, b.seats, o.contact_email,
       u.username, coalesce(o.needs_attention, false) AS needs_attention, b.created_at
FROM bookings b JOIN users u ON u.id = b.user_id LEFT JOIN orders o ON o.id = b.order_id
WHERE b.flight_id = :id ORDER BY b.created_at DESC, b.id LIMIT :limit
"""
_PASSENGERS = """
SELECT order_id, given_name, family_name, born_on, type FROM order_passengers
WHERE order_id = ANY(:ids) ORDER BY order_id, seq
"""
_TOTALS = (
    "SELECT status, count(*), coalesce(sum(seats), 0) FROM bookings WHERE flight_id = :id GROUP BY status"
)


async def manifest(context: AppContext, flight_id: uuid.UUID) -> ManifestOut:
    flight = await flights.get(context, flight_id)
    async with context.engine.connect() as connection:
        rows = (await connection.execute(text(_ENTRIES), {"id": flight_id, "limit": MAX_ENTRIES})).all()
        order_ids = list({r.order_id for r in rows if r.order_id is not None})
        people = (await connection.execute(text(_PASSENGERS), {"ids": order_ids})).all() if order_ids else []
        by_status = (await connection.execute(text(_TOTALS), {"id": flight_id})).all()
    passengers: dict[uuid.UUID, list[ManifestPassenger]] = defaultdict(list)
    for p in people:
        passengers[p.order_id].append(
            ManifestPassenger(
                given_name=p.given_name, family_name=p.family_name, born_on=p.born_on, type=p.type
            )
        )
    entries = [
        ManifestEntry(
            booking_id=r.id,
            order_id=r.order_id,
            reference=r.reference,
            status=r.status,
            order_status=r.order_status,
            seats=r.seats,
            passengers=passengers.get(r.order_id, []) if r.order_id else [],
            contact_email=r.contact_email,
            username=r.username,
            needs_attention=r.needs_attention,
            created_at=r.created_at,
        )
        for r in rows
    ]
    seats = {status: int(total) for status, _, total in by_status}
    holding = [e for e in entries if e.status.value in SEAT_HOLDING_STATUSES]
    infants = sum(1 for e in holding for p in e.passengers if p.type == PassengerType.INFANT)
    return ManifestOut(
        flight=flight,
        entries=entries,
        totals=ManifestTotals(
            seats_taken=sum(seats.get(s, 0) for s in SEAT_HOLDING_STATUSES),
            seats_confirmed=seats.get(BookingStatus.CONFIRMED.value, 0),
            seats_held=seats.get(BookingStatus.HELD.value, 0) + seats.get(BookingStatus.PENDING.value, 0),
            passengers=sum(len(e.passengers) if e.order_id else e.seats for e in holding),
            infants=infants,
            bookings=sum(int(count) for _, count, _ in by_status),
            by_status=StatusCounts(**{status: int(count) for status, count, _ in by_status}),
        ),
    )
