"""Admin flight management: create, read, list, update and delete single flights.

Seat rule (contract): sold seats are never lost. On update ``available_seats`` becomes
``total_seats`` minus seats held by PENDING and CONFIRMED bookings (and reservations in flight);
a ``total_seats`` below what is held is a 409 (``SeatInventory.shift_totals``, as bulk import).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.airports.service import canonical_spellings, spellings, zone_name
from app.flights.events import FlightChange, FlightSnapshot, flights_changed, times_moved
from app.flights.schemas import FlightFilter, FlightIn, FlightOut, FlightPage
from app.models import SEAT_HOLDING_STATUSES, Booking, Flight, FlightStatus
from app.platform.db import driver_of
from app.platform.errors import Conflict, Invalid, NotFound

if TYPE_CHECKING:
    from app.context import AppContext

DUPLICATE_FLIGHT = "A flight with this flight_number and departure_ts already exists"


def to_out(flight: Flight, available: int | None) -> FlightOut:
    out = FlightOut.model_validate(flight)
    if available is not None:
        out.available_seats = available
    return out


async def with_live_seats(context: AppContext, flights: Sequence[Flight]) -> list[FlightOut]:
    counts = await context.inventory.live_counts([f.id for f in flights])
    return [to_out(f, counts.get(f.id)) for f in flights]


async def _spelled(context: AppContext, data: FlightIn) -> FlightIn:
    """``data`` with its airports under their stored spellings (one per place)."""
    spelled = await canonical_spellings(context, [data.source, data.destination])
    source, destination = spelled[data.source], spelled[data.destination]
    if source == destination:
        raise Invalid("source and destination must differ")
    return data.model_copy(update={"source": source, "destination": destination})


STATUS_READ_ONLY = "status is changed only by POST /admin/flights/{id}/cancel"


async def create(context: AppContext, data: FlightIn) -> FlightOut:
    if data.status not in (None, FlightStatus.SCHEDULED):
        raise Conflict(STATUS_READ_ONLY)
    data = await _spelled(context, data)
    flight = Flight(id=uuid.uuid4(), available_seats=data.total_seats, **data.model_dump())
    async with context.session_factory() as session:
        session.add(flight)
        try:
            await session.commit()
        except IntegrityError as exc:
            raise Conflict(DUPLICATE_FLIGHT) from exc
    await context.inventory.create(flight.id, flight.total_seats)
    await flights_changed(context, [FlightChange(before=None, after=FlightSnapshot.of(flight))])
    return to_out(flight, flight.total_seats)


async def get(context: AppContext, flight_id: uuid.UUID) -> FlightOut:
    async with context.session_factory() as session:
        flight = await session.get(Flight, flight_id)
    if flight is None:
        raise NotFound("Flight not found")
    return (await with_live_seats(context, [flight]))[0]


async def list_page(context: AppContext, filters: FlightFilter) -> FlightPage:
    query = select(Flight)
    sources = await spellings(context, filters.source) if filters.source else []
    if sources:
        query = query.where(Flight.source.in_(sources))
    if filters.destination:
        query = query.where(Flight.destination.in_(await spellings(context, filters.destination)))
    if filters.date:
        # The date is the departure's local date at its source airport, as in search.
        start, end = await _local_day_bounds(context, sources[0] if sources else None, filters.date)
        query = query.where(Flight.departure_ts >= start, Flight.departure_ts < end)
    if filters.status:
        query = query.where(Flight.status == filters.status.value)
    async with context.session_factory() as session:
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (
            await session.scalars(
                query.order_by(Flight.departure_ts, Flight.flight_number)
                .limit(filters.limit)
                .offset(filters.offset)
            )
        ).all()
    return FlightPage(items=await with_live_seats(context, rows), total=int(total or 0))


async def _local_day_bounds(context: AppContext, source: str | None, day: date) -> tuple[datetime, datetime]:
    zone = await zone_name(context, source) if source else context.settings.default_timezone
    start = datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


async def update(context: AppContext, flight_id: uuid.UUID, data: FlightIn) -> FlightOut:
    data = await _spelled(context, data)
    async with context.session_factory() as session:
        flight = await session.get(Flight, flight_id, with_for_update=True)
        if flight is None:
            raise NotFound("Flight not found")
        if data.status is not None and data.status.value != flight.status:
            raise Conflict(STATUS_READ_ONLY)
        before = FlightSnapshot.of(flight)
        async with context.inventory.shift_totals(
            {flight_id: data.total_seats - flight.total_seats}
        ) as shift:
            available = shift.available(flight_id)
            for field, value in data.model_dump().items():
                setattr(flight, field, value)
            flight.available_seats = available
            flight.version += 1
            after = FlightSnapshot.of(flight)
            try:
                if context.schedule_hook is not None and times_moved(before, after):
                    # In this transaction: the travellers' notices and needs_attention commit with
                    # the move, or neither does.
                    await session.flush()
                    await context.schedule_hook(await driver_of(session), [(before, after)])
                await session.commit()
            except IntegrityError as exc:
                raise Conflict(DUPLICATE_FLIGHT) from exc
            shift.keep([flight_id])
    await flights_changed(context, [FlightChange(before=before, after=FlightSnapshot.of(flight))])
    return (await with_live_seats(context, [flight]))[0]


async def delete_flight(context: AppContext, flight_id: uuid.UUID) -> None:
    async with context.session_factory() as session:
        flight = await session.get(Flight, flight_id, with_for_update=True)
        if flight is None:
            raise NotFound("Flight not found")
        before = FlightSnapshot.of(flight)
        held = await session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.flight_id == flight_id, Booking.status.in_(SEAT_HOLDING_STATUSES))
        )
        if held:
            raise Conflict("The flight has active bookings; cancel the flight instead")
        if await session.scalar(select(Booking.id).where(Booking.flight_id == flight_id).limit(1)):
            # Deleting never erases what a traveller has seen: a flight with any booking, even
            # cancelled or failed, stays as a record (docs/decisions.md, "Operations").
            raise Conflict("The flight has booking history; cancel the flight instead of deleting it")
        if not await context.inventory.retire(flight_id, flight.total_seats):
            raise Conflict("Seats of this flight are being booked right now; try again")
        await session.delete(flight)
        await session.commit()
    await flights_changed(context, [FlightChange(before=before, after=None)])
