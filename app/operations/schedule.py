"""Booked flights' times moved: tell their travellers, flag broken trips.

One implementation for every writer that moves times: ``context.schedule_hook`` (wired in
``app.context``) runs ``on_schedule_change`` inside the writer's transaction, on its asyncpg
connection, after the new times are written: the admin PUT with its one move (the connection
under its session), a bulk import batch with all of the batch's moves (its raw connection). So
the notices and ``needs_attention`` commit with the new times or not at all.

Each affected trip (an order; or a plain booking, or an itinerary's legs booked together) gets
one ``schedule_changed`` notice per transaction, naming every one of its flights the transaction
moved. A trip is broken when, with the new times, a slice's flights no longer connect
(MIN_CONNECTION_MINUTES..MAX_LAYOVER_MINUTES after the previous arrival) or a slice no longer
departs after the previous slice arrives; a broken order is then ``needs_attention``, which lets
its traveller cancel for a full refund until departure (the orders domain's refund rule).

Cost: one query for all the moves (index probes on bookings by flight); a transaction whose moved
flights hold no seats writes nothing more.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NamedTuple

import asyncpg

from app.flights.events import FlightSnapshot, ScheduleMove
from app.models import SEAT_HOLDING_STATUSES, NotificationKind
from app.notifications import outbox
from app.notifications.outbox import Notice

if TYPE_CHECKING:
    from app.context import AppContext
    from app.platform.config import Settings

_HELD = list(SEAT_HOLDING_STATUSES)

# Every seat-holding row of every order or itinerary with a seat-holding row on a moved flight,
# with its flight's current (just written) times. Every step is an index probe per key (bookings by
# flight and status, by order, by group; flights and orders by id): ``OFFSET 0`` keeps each LATERAL
# subquery from being flattened into a join the planner may run as a scan of the whole table (it
# does, for a batch's 10,000 ids). So the query costs what the moved flights' bookings cost, not
# what the tables hold: a batch of unbooked flights pays one probe per flight.
_TRIPS = """
WITH hit AS MATERIALIZED (
    SELECT h.id, h.order_id, h.group_id
      FROM unnest($1::uuid[]) AS m(flight_id)
     CROSS JOIN LATERAL (
           SELECT id, order_id, group_id FROM bookings
            WHERE flight_id = m.flight_id AND status = ANY($2::text[]) OFFSET 0) AS h
), trip AS (
    SELECT id FROM hit
    UNION
    SELECT b.id FROM (SELECT DISTINCT order_id FROM hit WHERE order_id IS NOT NULL) AS k
     CROSS JOIN LATERAL (SELECT id FROM bookings WHERE order_id = k.order_id OFFSET 0) AS b
    UNION
    SELECT b.id FROM (SELECT DISTINCT group_id FROM hit WHERE group_id IS NOT NULL) AS k
     CROSS JOIN LATERAL (
           SELECT id FROM bookings WHERE group_id = k.group_id AND order_id IS NULL OFFSET 0) AS b
)
SELECT b.id, b.order_id, b.group_id, b.user_id, b.flight_id, b.slice_index, b.leg_index,
       f.departure_ts, f.arrival_ts, o.reference, o.contact_email
  FROM trip
 CROSS JOIN LATERAL (SELECT * FROM bookings WHERE id = trip.id OFFSET 0) AS b
 CROSS JOIN LATERAL (
       SELECT departure_ts, arrival_ts FROM flights WHERE id = b.flight_id OFFSET 0) AS f
  LEFT JOIN LATERAL (
       SELECT reference, contact_email FROM orders WHERE id = b.order_id OFFSET 0) AS o ON true
 WHERE b.status = ANY($2::text[])
"""
_NO_JIT = "SET LOCAL jit = off"
_FLAG = "UPDATE orders SET needs_attention = true, updated_at = now() WHERE id = ANY($1::uuid[])"


class Leg(NamedTuple):
    """One seat-holding row of an affected trip (``_TRIPS``'s columns, in order)."""

    id: uuid.UUID
    order_id: uuid.UUID | None
    group_id: uuid.UUID | None
    user_id: uuid.UUID
    flight_id: uuid.UUID
    slice_index: int | None
    leg_index: int | None
    departure_ts: datetime
    arrival_ts: datetime
    reference: str | None
    contact_email: str | None


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


def _flights(moved: Sequence[ScheduleMove]) -> str:
    numbers = [after.flight_number for _, after in moved]
    if len(numbers) == 1:
        return f"flight {numbers[0]} has new times"
    return f"flights {', '.join(numbers)} have new times"


def _notice(settings: Settings, legs: list[Leg], moves: dict[uuid.UUID, ScheduleMove]) -> tuple[Notice, bool]:
    """The trip's notice, and whether the trip is broken."""
    first = legs[0]
    # The trip's moved flights in travel order, each once (a flight booked twice in a trip: once).
    in_order = sorted(legs, key=lambda leg: (leg.slice_index or 0, leg.leg_index or 0, leg.departure_ts))
    moved = [moves[fid] for fid in dict.fromkeys(leg.flight_id for leg in in_order) if fid in moves]
    is_broken = broken(settings, legs)
    attention = (
        "Your connections no longer work with these times: you may cancel for a full refund "
        "until departure, or contact us to rebook.\n"
        if is_broken
        else "Your trip still connects; no action is needed.\n"
    )
    told = "".join(_moved(before, after) for before, after in moved)
    if first.order_id is not None:
        return Notice(
            user_id=first.user_id,
            order_id=first.order_id,
            kind=NotificationKind.SCHEDULE_CHANGED,
            subject=f"Booking {first.reference}: {_flights(moved)}",
            body=f"Booking {first.reference}.\n" + told + attention,
            email_to=first.contact_email,
        ), is_broken
    subject = _flights(moved)
    return Notice(
        user_id=first.user_id,
        order_id=None,
        kind=NotificationKind.SCHEDULE_CHANGED,
        subject=subject[0].upper() + subject[1:],
        body=told + attention,
    ), is_broken


async def on_schedule_change(
    context: AppContext, conn: asyncpg.Connection, moves: Sequence[ScheduleMove]
) -> None:
    """Notify and flag every trip on the moved flights, in the caller's transaction on ``conn``."""
    if not moves:
        return
    by_flight = {after.id: (before, after) for before, after in moves}
    # Planned for a batch's 10,000 ids, the query's estimate passes jit_above_cost, and compiling it
    # (~0.4 s) would cost ten times the probes themselves. Local to the caller's transaction, whose
    # remaining statements (the PUT's commit, a batch's progress row) are no better off with JIT.
    await conn.execute(_NO_JIT)
    records = await conn.fetch(_TRIPS, list(by_flight), _HELD)
    if not records:
        return
    trips: dict[uuid.UUID, list[Leg]] = defaultdict(list)
    for record in records:
        leg = Leg(*record)
        trips[leg.order_id or leg.group_id or leg.id].append(leg)
    flagged: list[uuid.UUID] = []
    notices: list[Notice] = []
    for legs in trips.values():
        notice, is_broken = _notice(context.settings, legs, by_flight)
        notices.append(notice)
        if is_broken and notice.order_id is not None:
            flagged.append(notice.order_id)
    if flagged:
        await conn.execute(_FLAG, flagged)
    await outbox.write(conn, notices, email_enabled=context.settings.smtp_url is not None)
