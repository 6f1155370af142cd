"""What clients see of bookings (single, itinerary, list), and the seat-change event."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.booking.schemas import BookingGroupOut, BookingOut
from app.flights.schemas import FlightOut
from app.models import Booking, BookingStatus, Flight
from app.platform.redis.client import publish

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from app.booking.group_commit import FlightWithSeats
    from app.context import AppContext
    from app.flights.inventory import SeatInventory
    from app.platform.redis.client import Keys


@dataclass(frozen=True, slots=True)
class Reply:
    status_code: int
    body: Any


STATUS_CODES = {
    BookingStatus.CONFIRMED.value: 201,
    # A cancelled booking was confirmed first: an idempotent replay answers as the first request did.
    BookingStatus.CANCELLED.value: 201,
    BookingStatus.FAILED.value: 402,
}


async def seats_changed(context: AppContext, flight_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Publish the flights on the seat_updates channel (the seed's event), mark them for write-back,
    and return their live counts, all in one round trip."""
    return await publish_seat_changes(
        context.redis, context.keys, context.settings.seat_updates_channel, context.inventory, flight_ids
    )


async def publish_seat_changes(
    redis: Redis, keys: Keys, channel: str, inventory: SeatInventory, flight_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """seats_changed for a caller without a context (the booking store's batches)."""
    if not flight_ids:
        return {}
    pipe = redis.pipeline(transaction=False)
    for flight_id in flight_ids:
        publish(pipe, channel, str(flight_id))
    # Also marked here: pub/sub drops messages while the write-back worker is down.
    pipe.sadd(keys.seat_sync_dirty, *(str(fid) for fid in flight_ids))
    for flight_id in flight_ids:
        pipe.get(keys.seats(flight_id))
    values = (await pipe.execute())[len(flight_ids) + 1 :]
    counts = {fid: int(v) for fid, v in zip(flight_ids, values, strict=True) if v is not None}
    if len(counts) < len(flight_ids):
        counts.update(await inventory.live_counts([f for f in flight_ids if f not in counts]))
    return counts


def booking_out(row: Any, flight: Flight | FlightWithSeats, available: int | None) -> BookingOut:
    out = FlightOut.model_validate(flight)
    if available is not None:
        out.available_seats = available
    return BookingOut(
        id=row.id,
        user_id=row.user_id,
        flight_id=row.flight_id,
        seats=row.seats,
        status=row.status,
        payment_ref=row.payment_ref,
        created_at=row.created_at,
        updated_at=row.updated_at,
        flight=out,
    )


def reply_for(
    rows: Iterable[Any],
    flights: Mapping[uuid.UUID, Flight] | Mapping[uuid.UUID, FlightWithSeats],
    counts: Mapping[uuid.UUID, int],
    *,
    leg_order: Sequence[uuid.UUID],
) -> Reply:
    """The response to POST /booking: one booking, or the itinerary group when the rows have a group."""
    by_flight = {row.flight_id: row for row in rows}
    ordered = [by_flight[flight_id] for flight_id in leg_order]
    status = ordered[0].status
    legs = [booking_out(row, flights[row.flight_id], counts.get(row.flight_id)) for row in ordered]
    code = STATUS_CODES.get(status, 409)
    group_id = ordered[0].group_id
    if group_id is None:
        return Reply(code, legs[0].model_dump(mode="json"))
    total = sum((Decimal(row.unit_price or 0) * row.seats for row in ordered), Decimal("0.00"))
    group = BookingGroupOut(group_id=group_id, status=status, total_price=total, bookings=legs)
    return Reply(code, group.model_dump(mode="json"))


async def reply_from_database(context: AppContext, booking_ids: Sequence[uuid.UUID]) -> Reply | None:
    """Rebuild the answer to a booking request from the rows' current state (None while PENDING)."""
    async with context.session_factory() as session:
        pairs = (
            await session.execute(
                select(Booking, Flight)
                .join(Flight, Booking.flight_id == Flight.id)
                .where(Booking.id.in_(list(booking_ids)))
                .order_by(Flight.departure_ts)
            )
        ).all()
    if not pairs or any(b.status == BookingStatus.PENDING.value for b, _ in pairs):
        return None
    flights = {f.id: f for _, f in pairs}
    counts = await context.inventory.live_counts(list(flights))
    return reply_for([b for b, _ in pairs], flights, counts, leg_order=[b.flight_id for b, _ in pairs])


async def list_for_user(
    context: AppContext, user_id: uuid.UUID, *, limit: int, offset: int
) -> list[BookingOut]:
    async with context.session_factory() as session:
        pairs = (
            await session.execute(
                select(Booking, Flight)
                .join(Flight, Booking.flight_id == Flight.id)
                .where(Booking.user_id == user_id)
                .order_by(Booking.created_at.desc(), Flight.departure_ts, Booking.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
    counts = await context.inventory.live_counts(list({f.id for _, f in pairs}))
    return [booking_out(b, f, counts.get(f.id)) for b, f in pairs]
