"""Booking rows in PostgreSQL: the PENDING insert guarded by the counter generation, and status changes.

The protocol that keeps PENDING + CONFIRMED within total_seats through any crash or Redis loss
(docs/decisions.md, "Booking"):
- PENDING insert: reserve in Redis first (learning the counter generation), then in one transaction
  insert the rows (and the Idempotency-Key), take the flights' shared seat locks, and commit only if
  every counter still has the generation the seats were taken from.
- Seats freed (FAILED, CANCELLED): change the rows, take the shared seat locks, read the
  generations, commit, and only then give the seats back to those generations.
A rebuild takes the seat locks exclusively, so it counts a row either before or after it changed,
and Redis agrees with whichever it saw.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import AppContext
from app.models import Booking, Flight, IdempotencyKey, User
from app.services.booking.reservation import Hold, ReservationStrategy
from app.services.seat_inventory import lock_seats_shared

BOOKINGS = cast(Table, Booking.__table__)
BOOKING_COLUMNS = tuple(BOOKINGS.c)


class FlightGone(Exception):
    """A flight was deleted while it was being booked."""


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


async def load_flights(context: AppContext, flight_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Flight]:
    async with context.session_factory() as session:
        flights = (await session.scalars(select(Flight).where(Flight.id.in_(list(flight_ids))))).all()
    return {flight.id: flight for flight in flights}


async def load_user_and_flights(
    context: AppContext, user_id: uuid.UUID, flight_ids: Sequence[uuid.UUID]
) -> tuple[User | None, dict[uuid.UUID, Flight]]:
    """The requesting user (None if deleted since the token was issued) and the flights, on one
    pooled connection without a transaction: two plain reads, no BEGIN/ROLLBACK round trips."""
    async with context.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(bind=connection, expire_on_commit=False) as session:
            user = await session.get(User, user_id)
            flights = (await session.scalars(select(Flight).where(Flight.id.in_(list(flight_ids))))).all()
    return user, {flight.id: flight for flight in flights}


async def insert_pending(
    context: AppContext,
    *,
    user_id: uuid.UUID,
    booking_ids: Sequence[uuid.UUID],
    group_id: uuid.UUID | None,
    flights: Sequence[Flight],
    seats: int,
    holds: Sequence[Hold],
    now: datetime,
    claim: Claim | None,
) -> set[uuid.UUID]:
    """Write the PENDING rows; returns the flights whose counter changed generation (then nothing is
    written and the caller reserves again)."""
    rows: list[dict[str, Any]] = [
        {
            "id": booking_id,
            "user_id": user_id,
            "flight_id": flight.id,
            "seats": seats,
            "status": "PENDING",
            "group_id": group_id,
            "unit_price": flight.price,
            "created_at": now,
            "updated_at": now,
        }
        for booking_id, flight in zip(booking_ids, flights, strict=True)
    ]
    flight_ids = [hold.flight_id for hold in holds]
    async with context.engine.connect() as connection:
        transaction = await connection.begin()
        try:
            if claim is not None:
                claimed = await connection.execute(
                    pg_insert(IdempotencyKey)
                    .values(
                        user_id=claim.user_id,
                        key=claim.key,
                        request_hash=claim.fingerprint,
                        response_body={
                            "booking_ids": [str(i) for i in claim.booking_ids],
                            "group_id": str(claim.group_id) if claim.group_id else None,
                        },
                    )
                    .on_conflict_do_nothing()
                    .returning(IdempotencyKey.key)
                )
                if claimed.first() is None:
                    raise IdempotencyKeyTaken(claim.key)
            try:
                await connection.execute(insert(BOOKINGS), rows)
            except IntegrityError as exc:
                # The foreign key: an admin deleted the flight after we loaded it.
                raise FlightGone from exc
            # After the insert: its foreign key check already waits for an admin update of the flight,
            # which may itself be rebuilding the counter under the exclusive seat lock.
            await lock_seats_shared(connection, flight_ids, durable=False)
            current = await context.inventory.generations(flight_ids)
            stale = {
                hold.flight_id for hold, gen in zip(holds, current, strict=True) if gen != hold.generation
            }
            if stale:
                await transaction.rollback()
                return stale
            await transaction.commit()
        except BaseException:
            if transaction.is_active:
                await transaction.rollback()
            raise
    return set()


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


async def record_response(context: AppContext, claim: Claim, status_code: int, body: Any) -> None:
    async with context.engine.begin() as connection:
        await connection.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.user_id == claim.user_id, IdempotencyKey.key == claim.key)
            .values(response_status=status_code, response_body=body)
        )


def total_price(flights: Sequence[Flight], seats: int) -> Decimal:
    return sum((flight.price * seats for flight in flights), Decimal("0.00"))
