"""Booking and cancelling: the seed's workflow, for one flight or all legs of an itinerary.

reserve seats in Redis -> PENDING rows (+ Idempotency-Key) -> payment, with no lock held ->
CONFIRMED + seat_updates event, or FAILED + seats given back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select

from app.accounts.deps import NOT_AUTHENTICATED
from app.booking import idempotency, ledger
from app.booking.group_commit import Confirm, FlightWithSeats, Pending, Record
from app.booking.payments import gateway_for
from app.booking.replies import Reply, booking_out, reply_for, seats_changed
from app.booking.reservation import (
    Hold,
    ReservationStrategy,
    SoldOut,
    release_all,
    reserve_all,
    strategy_for,
)
from app.booking.schemas import BookingIn, BookingOut
from app.models import Booking, BookingStatus, Flight, FlightStatus, User
from app.platform.errors import Conflict, Invalid, NotFound, ServiceUnavailable
from app.platform.metrics import BOOKINGS

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

# A reservation must be retaken when its counter was rebuilt before its PENDING row committed.
GENERATION_ATTEMPTS = 3


async def book(
    context: AppContext, user_id: uuid.UUID, request: BookingIn, idempotency_key: str | None
) -> Reply:
    store = context.booking_store
    request_hash = idempotency.fingerprint(request) if idempotency_key else ""
    legs = request.legs
    strategy = store.strategy
    held: list[Hold] | None = None
    if idempotency_key or request.is_itinerary:
        # Read and check before any seat is taken. A replay must be answered without taking any;
        # an itinerary the read refuses (a leg unknown or not connecting: 404, 422) would otherwise
        # hold seats on its valid legs until refused, and a stream of such requests made genuine
        # bookings of those flights a 409 while their seats were free.
        user_exists, flights = await store.reads.submit((user_id, legs))
        if not user_exists:
            raise NOT_AUTHENTICATED
        if idempotency_key:
            first = await idempotency.replay(context, user_id, idempotency_key, request_hash)
            if first is not None:
                return first
        _check_user_and_flights(context, user_exists, legs, flights)
    else:
        # One flight: the read and the reservation do not depend on each other, so both are in
        # flight at once (two round trips' latency become one). The read can refuse it only for an
        # unknown flight (no counter: nothing is taken), a departed one (no one else can book it)
        # or a deleted account whose token has not expired yet (rare; its seats are given back at
        # once). The read's verdict (401, 404, departed) comes before the seats'.
        user_exists, flights, held = await _read_and_reserve(context, strategy, user_id, legs, request.seats)
    booking_ids = [uuid.uuid4() for _ in legs]
    group_id = uuid.uuid4() if request.is_itinerary else None
    claim = (
        ledger.Claim(user_id, idempotency_key, request_hash, booking_ids, group_id)
        if idempotency_key
        else None
    )
    for _ in range(GENERATION_ATTEMPTS):
        if held is not None:
            holds, held = held, None
        else:
            try:
                holds = await reserve_all(context, strategy, legs, request.seats)
            except SoldOut:
                BOOKINGS.labels("SOLD_OUT").inc()
                raise
        pending = Pending(
            user_id, booking_ids, group_id, [flights[f] for f in legs], request.seats, holds, _now(), claim
        )
        try:
            stale = await store.pending.submit(pending)
        except ledger.IdempotencyKeyTaken:
            await release_all(strategy, holds)
            assert idempotency_key is not None
            first = await idempotency.replay(context, user_id, idempotency_key, request_hash)
            if first is None:
                raise Conflict("A request with this Idempotency-Key is still in progress") from None
            return first
        except ledger.FlightGone:
            await release_all(strategy, holds)
            BOOKINGS.labels("NOT_FOUND").inc()
            raise NotFound("Flight not found") from None
        except BaseException:
            await release_all(strategy, holds)
            raise
        if not stale:
            break
        # Those counters were rebuilt from PostgreSQL and no longer hold our seats; the others do.
        await release_all(strategy, [hold for hold in holds if hold.flight_id not in stale])
    else:
        raise ServiceUnavailable("Seat counters are being rebuilt; please retry")

    payment_key = str(group_id or booking_ids[0])
    amount = sum((flights[f].price * request.seats for f in legs), Decimal("0.00"))
    try:
        payment = await gateway_for(context.settings).charge(amount, idempotency_key=payment_key)
    except Exception as exc:
        await ledger.settle(
            context, strategy, booking_ids, expected="PENDING", status="FAILED", frees_seats=True
        )
        BOOKINGS.labels("FAILED").inc()
        await seats_changed(context, legs)
        log.warning("payment_gateway_error", booking=payment_key, error=repr(exc))
        raise ServiceUnavailable("The payment service is unavailable; please retry") from exc

    rows: Sequence[Any]
    if payment.succeeded:
        # The common case, grouped with every other confirmation in flight (no seats to give back).
        rows, counts = await store.confirms.submit(Confirm(booking_ids, payment.reference, _now()))
    else:
        rows = await ledger.settle(
            context,
            strategy,
            booking_ids,
            expected=BookingStatus.PENDING.value,
            status=BookingStatus.FAILED.value,
            payment_ref=payment.reference,
            frees_seats=True,
        )
        counts = await seats_changed(context, legs)
    outcome = BookingStatus.CONFIRMED.value if payment.succeeded else BookingStatus.FAILED.value
    if len(rows) != len(booking_ids):
        # The reaper failed these bookings as abandoned while the payment took longer than
        # PENDING_TIMEOUT_SECONDS: answer with what is now true.
        log.error("booking_settled_elsewhere", booking=payment_key, payment_ref=payment.reference)
        if payment.succeeded:
            counts = await seats_changed(context, legs)
        rows = await _rows(context, booking_ids)
        outcome = rows[0].status
    BOOKINGS.labels(outcome).inc()
    reply = reply_for(rows, flights, counts, leg_order=legs)
    if claim is not None:
        await store.records.submit(Record(claim, reply.status_code, reply.body))
    return reply


async def _read_and_reserve(
    context: AppContext,
    strategy: ReservationStrategy,
    user_id: uuid.UUID,
    legs: Sequence[uuid.UUID],
    seats: int,
) -> tuple[bool, dict[uuid.UUID, FlightWithSeats], list[Hold]]:
    read, reservation = await asyncio.gather(
        context.booking_store.reads.submit((user_id, legs)),
        reserve_all(context, strategy, legs, seats),
        return_exceptions=True,
    )
    holds = reservation if isinstance(reservation, list) else []
    try:
        if isinstance(read, BaseException):
            raise read
        user_exists, flights = read
        _check_user_and_flights(context, user_exists, legs, flights)
    except BaseException:
        await release_all(strategy, holds)
        raise
    if isinstance(reservation, BaseException):
        if isinstance(reservation, SoldOut):
            BOOKINGS.labels("SOLD_OUT").inc()
        raise reservation
    return user_exists, flights, holds


def _check_user_and_flights(
    context: AppContext,
    user_exists: bool,
    legs: Sequence[uuid.UUID],
    flights: Mapping[uuid.UUID, FlightWithSeats],
) -> None:
    if not user_exists:
        raise NOT_AUTHENTICATED
    check_bookable(context, legs, flights)
    check_connections(context, [flights[f] for f in legs])


def _now() -> datetime:
    return datetime.now(UTC)


async def cancel(context: AppContext, user: User, booking_id: uuid.UUID) -> BookingOut:
    """Cancel a CONFIRMED booking, with every other leg of its itinerary."""
    async with context.session_factory() as session:
        found = (
            await session.execute(
                select(Booking, Flight)
                .join(Flight, Booking.flight_id == Flight.id)
                .where(Booking.id == booking_id)
            )
        ).first()
        if found is None or found[0].user_id != user.id:
            raise NotFound("Booking not found")
        booking = found[0]
        if booking.order_id is not None:
            # One flight of an order: the order is cancelled whole, with its refund rule.
            raise Conflict("This booking is part of an order: cancel the order instead")
        legs = [booking]
        if booking.group_id is not None:
            legs = list(
                (await session.scalars(select(Booking).where(Booking.group_id == booking.group_id))).all()
            )
        leg_flights = {
            f.id: f
            for f in (
                await session.scalars(select(Flight).where(Flight.id.in_([b.flight_id for b in legs])))
            ).all()
        }
    if booking.status != BookingStatus.CONFIRMED.value:
        raise Conflict(f"Only a CONFIRMED booking can be cancelled; this one is {booking.status}")
    if any(f.departure_ts <= datetime.now(UTC) for f in leg_flights.values()):
        raise Conflict("The flight has already departed")
    rows = await ledger.settle(
        context,
        strategy_for(context),
        [b.id for b in legs],
        expected=BookingStatus.CONFIRMED.value,
        status=BookingStatus.CANCELLED.value,
        frees_seats=True,
    )
    mine = next((row for row in rows if row.id == booking_id), None)
    if mine is None:
        raise Conflict("The booking was cancelled by another request")
    BOOKINGS.labels("CANCELLED").inc()
    counts = await seats_changed(context, sorted({row.flight_id for row in rows}))
    return booking_out(mine, leg_flights[mine.flight_id], counts.get(mine.flight_id))


def check_bookable(
    context: AppContext, legs: Sequence[uuid.UUID], flights: Mapping[uuid.UUID, FlightWithSeats]
) -> None:
    """404 for an unknown flight; 409 for one departed, departing within BOOKING_CUTOFF_MINUTES or
    cancelled by the airline. The read's early answer: the PENDING transaction checks the cut-off
    and the cancellation again under the flights' locks (ledger.unbookable), which is decisive."""
    if len(flights) != len(set(legs)):
        BOOKINGS.labels("NOT_FOUND").inc()
        raise NotFound("Flight not found")
    now = datetime.now(UTC)
    if any(flight.departure_ts <= now for flight in flights.values()):
        BOOKINGS.labels("DEPARTED").inc()
        raise Conflict("The flight has already departed")
    if any(flight.status != FlightStatus.SCHEDULED.value for flight in flights.values()):
        BOOKINGS.labels("CANCELLED_FLIGHT").inc()
        raise Conflict("The flight has been cancelled by the airline")
    cutoff = timedelta(minutes=context.settings.booking_cutoff_minutes)
    if any(flight.departure_ts <= now + cutoff for flight in flights.values()):
        BOOKINGS.labels("CUT_OFF").inc()
        raise Conflict(
            f"The flight departs within {context.settings.booking_cutoff_minutes} minutes: "
            "it is no longer bookable"
        )


def check_connections(context: AppContext, flights: Sequence[FlightWithSeats]) -> None:
    """Legs must connect as search would offer them: same airport, MIN_CONNECTION..MAX_LAYOVER later."""
    settings = context.settings
    if len(flights) > settings.max_stops + 1:
        raise Invalid(f"An itinerary has at most {settings.max_stops + 1} flights")
    shortest = timedelta(minutes=settings.min_connection_minutes)
    longest = timedelta(minutes=settings.max_layover_minutes)
    for previous, following in pairwise(flights):
        if following.source != previous.destination:
            raise Invalid("Each flight must leave from the airport where the previous one lands")
        if not shortest <= following.departure_ts - previous.arrival_ts <= longest:
            raise Invalid(
                f"Connections must leave {settings.min_connection_minutes} to "
                f"{settings.max_layover_minutes} minutes after the previous flight lands"
            )
    airports = [flights[0].source, *(flight.destination for flight in flights)]
    if len(set(airports)) != len(airports):
        raise Invalid("An itinerary visits each airport once")


async def _rows(context: AppContext, booking_ids: Sequence[uuid.UUID]) -> list[Booking]:
    async with context.session_factory() as session:
        return list((await session.scalars(select(Booking).where(Booking.id.in_(list(booking_ids))))).all())
