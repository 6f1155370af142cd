"""Booking rows in PostgreSQL: the protocol, and the status changes that free seats.

The protocol that keeps PENDING + CONFIRMED within total_seats through any crash or Redis loss
(docs/decisions.md, "Booking"):
- PENDING insert: reserve in Redis first (learning the counter generation), then in one transaction
  insert the rows (and the Idempotency-Key), take the flights' shared seat locks, and commit only if
  every counter still has the generation the seats were taken from.
- Seats freed (FAILED, CANCELLED): change the rows, take the shared seat locks, read the
  generations, commit, and only then give the seats back to those generations.
A rebuild takes the seat locks exclusively, so it counts a row either before or after it changed,
and Redis agrees with whichever it saw. The PENDING insert and the CONFIRMED update run in
store.py, grouped across concurrent requests; freeing seats (rarer) runs here, one request at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import asyncpg
from sqlalchemy import Row, Table, update

from app.booking.reservation import ReservationStrategy
from app.flights.inventory import SEAT_LOCK_CLASS, lock_seats_shared, seat_lock_key
from app.models import Booking
from app.platform.errors import Conflict

if TYPE_CHECKING:
    from app.context import AppContext

BOOKINGS = cast(Table, Booking.__table__)
BOOKING_COLUMNS = tuple(BOOKINGS.c)


class FlightGone(Exception):
    """A flight was deleted while it was being booked."""


class FlightUnbookable(Conflict):
    """A flight was cancelled by the airline, or departs within BOOKING_CUTOFF_MINUTES (409)."""


# Run after the statement that inserted the rows: their foreign key check took each flight row's
# KEY SHARE lock, which the airline's cancellation (the row FOR UPDATE) waits for and which waits
# for it; this statement's snapshot is taken after that, so it sees a cancellation that committed
# first, and a cancellation that comes later finds our rows and cancels them (docs/decisions.md).
_UNBOOKABLE = (
    "SELECT id, status FROM flights WHERE id = ANY($1::uuid[]) "
    "AND (status <> 'SCHEDULED' OR departure_ts <= now() + make_interval(mins => $2))"
)


async def unbookable(
    connection: asyncpg.Connection, flight_ids: Sequence[uuid.UUID], cutoff_minutes: int
) -> FlightUnbookable | None:
    """The refusal for these flights if any is cancelled or departs within the cut-off, else None."""
    if not flight_ids:
        return None
    rows = await connection.fetch(_UNBOOKABLE, list(set(flight_ids)), cutoff_minutes)
    return _refusal([row[1] for row in rows], cutoff_minutes)


def _refusal(statuses: Sequence[str], cutoff_minutes: int) -> FlightUnbookable | None:
    if not statuses:
        return None
    if any(status != "SCHEDULED" for status in statuses):
        return FlightUnbookable("The flight has been cancelled by the airline")
    return FlightUnbookable(
        f"The flight departs within {cutoff_minutes} minutes or has departed: it is no longer bookable"
    )


# lock_seats_shared and the unbookable check in one round trip: the target list's scalar
# subqueries run in order, the locks first, whether or not any flight is refused.
_LOCK_AND_CHECK = (
    "WITH l AS (SELECT set_config('synchronous_commit', $1, true), pg_advisory_xact_lock_shared($2, k) "
    "FROM unnest($3::int4[]) AS k) "
    "SELECT (SELECT count(*) FROM l), ARRAY(SELECT status FROM flights WHERE id = ANY($4::uuid[]) "
    "AND (status <> 'SCHEDULED' OR departure_ts <= now() + make_interval(mins => $5)))"
)


async def lock_and_check(
    connection: asyncpg.Connection, flight_ids: Sequence[uuid.UUID], cutoff_minutes: int, *, durable: bool
) -> FlightUnbookable | None:
    """``lock_seats_shared`` then ``unbookable``, in one statement (after the rows' insert)."""
    keys = sorted({seat_lock_key(fid) for fid in flight_ids})
    row = await connection.fetchrow(
        _LOCK_AND_CHECK,
        "on" if durable else "off",
        SEAT_LOCK_CLASS,
        keys,
        list(set(flight_ids)),
        cutoff_minutes,
    )
    assert row is not None
    return _refusal(list(row[1]), cutoff_minutes)


class IdempotencyKeyTaken(Exception):
    """Another request with the same Idempotency-Key got there first."""


@dataclass(frozen=True, slots=True)
class Claim:
    """An Idempotency-Key to record with the PENDING rows."""

    user_id: uuid.UUID
    key: str
    fingerprint: str
    booking_ids: list[uuid.UUID]
    group_id: uuid.UUID | None


async def settle(
    context: AppContext,
    strategy: ReservationStrategy,
    booking_ids: Sequence[uuid.UUID],
    *,
    expected: str,
    status: str,
    payment_ref: str | None = None,
    frees_seats: bool,
) -> list[Row[Any]]:
    """Move the bookings still in ``expected`` to ``status``; returns the rows that moved."""
    values: dict[str, Any] = {"status": status, "updated_at": datetime.now(UTC)}
    if payment_ref is not None:
        values["payment_ref"] = payment_ref
    async with context.engine.connect() as connection:
        if not frees_seats:
            # One statement, nothing else to keep consistent with it: no BEGIN/COMMIT round trips.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        rows = (
            await connection.execute(
                update(BOOKINGS)
                .where(BOOKINGS.c.id.in_(list(booking_ids)), BOOKINGS.c.status == expected)
                .values(**values)
                .returning(*BOOKING_COLUMNS)
            )
        ).all()
        generations: list[bytes | None] = []
        if frees_seats and rows:
            flight_ids = [row.flight_id for row in rows]
            await lock_seats_shared(connection, flight_ids)
            generations = await context.inventory.generations(flight_ids)
        await connection.commit()
    for row, generation in zip(rows, generations, strict=False):
        # No generation: the counter is gone and its rebuild will count these rows as freed.
        if generation is not None:
            await strategy.release(row.flight_id, row.seats, generation)
    return list(rows)
