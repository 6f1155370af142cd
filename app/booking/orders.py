"""Orders: a trip for named passengers (contract: "Orders"; docs/decisions.md, "Orders").

One order is 1-4 slices of 1-3 connecting flights, for 1-9 passengers; every flight of every slice
is reserved for the seated passengers all or nothing, with the booking domain's protocol
(reservation.reserve_all, then order_storage.insert under the generation check), one payment for
the total. A hold keeps the seats, unpaid, until its deadline: then a scheduled job and the
reaper's sweep (either; both are idempotent) expire it and return its seats.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Protocol

import orjson
import structlog

from app.accounts.deps import NOT_AUTHENTICATED
from app.booking import idempotency, order_storage
from app.booking.group_commit import FlightWithSeats, Record
from app.booking.ledger import Claim, FlightGone, IdempotencyKeyTaken
from app.booking.order_schemas import (
    CancellationQuote,
    CancelledBy,
    ContactOut,
    Order,
    OrderIn,
    PassengerIn,
    PassengerOut,
    SliceOut,
)
from app.booking.order_storage import Change, Confirm, Insert, LoadedOrder, NewOrder, OrderRow, PassengerRow
from app.booking.payments import gateway_for
from app.booking.replies import Reply, seats_changed
from app.booking.reservation import SoldOut, release_all, reserve_at_once
from app.booking.workflow import GENERATION_ATTEMPTS, check_bookable, check_connections
from app.flights.schemas import FlightOut
from app.models import BookingStatus, NotificationKind, OrderStatus, PassengerType
from app.notifications.outbox import Notice
from app.platform.errors import Conflict, Invalid, NotFound, ServiceUnavailable
from app.platform.metrics import BOOKINGS

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

CENT = Decimal("0.01")
INFANT_FARE = Decimal("0.10")
FULL_REFUND_BEFORE = timedelta(hours=24)
ADULT_FROM, CHILD_FROM = 12, 2
# A hold_expiring notification when this much of the hold is left (half the hold if it is shorter).
WARN_BEFORE = timedelta(minutes=10)
SWEEP_BATCH = 200
EXPIRE_HOLD_TASK = "expire_hold"

STATUS_CODES = {
    OrderStatus.CONFIRMED.value: 201,
    OrderStatus.HELD.value: 201,
    # Later states of an order first answered 201 (a replay answers as the first request did).
    OrderStatus.CANCELLED.value: 201,
    OrderStatus.EXPIRED.value: 201,
    OrderStatus.FAILED.value: 402,
}


# --- rules ---------------------------------------------------------------------------------------


class RefundTerms(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def total_price(self) -> Decimal: ...
    @property
    def needs_attention(self) -> bool: ...


def refund_for(order: RefundTerms, first_departure: datetime, now: datetime) -> Decimal | None:
    """The refund if the order were cancelled at ``now``; None when it can no longer be cancelled.

    The one place of the rule: nothing once the first flight has departed; nothing paid, nothing
    refunded for a hold; the full total for an order a schedule change broke (needs_attention);
    otherwise the full total until 24 h before the first departure (that moment included), half of
    it (cents rounded half up) until the departure.
    """
    if now >= first_departure:
        return None
    if order.status == OrderStatus.HELD.value:
        return Decimal("0.00")
    if order.needs_attention or now <= first_departure - FULL_REFUND_BEFORE:
        return Decimal(order.total_price).quantize(CENT)
    return (Decimal(order.total_price) / 2).quantize(CENT, rounding=ROUND_HALF_UP)


def refund_changes_at(
    order: RefundTerms, first_departure: datetime, payment_required_by: datetime | None, now: datetime
) -> datetime:
    """When refund_for's answer for this order would next change."""
    if order.status == OrderStatus.HELD.value and payment_required_by is not None:
        return min(payment_required_by, first_departure)
    if not order.needs_attention and now <= first_departure - FULL_REFUND_BEFORE:
        return first_departure - FULL_REFUND_BEFORE
    return first_departure


def age_on(born_on: date, day: date) -> int:
    """Whole years on ``day`` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - born_on.year - ((day.month, day.day) < (born_on.month, born_on.day))


def passenger_type_for(age: int) -> PassengerType:
    if age >= ADULT_FROM:
        return PassengerType.ADULT
    if age >= CHILD_FROM:
        return PassengerType.CHILD
    return PassengerType.INFANT


def check_passengers(passengers: Sequence[PassengerIn], first_departure: datetime, today: date) -> None:
    """Each passenger's type is their age on the first departure's date (UTC)."""
    travel_day = first_departure.astimezone(UTC).date()
    for number, passenger in enumerate(passengers, start=1):
        if passenger.born_on > today:
            raise Invalid(f"Passenger {number}: born_on is in the future")
        expected = passenger_type_for(age_on(passenger.born_on, travel_day))
        if passenger.type != expected:
            raise Invalid(
                f"Passenger {number} is {expected.value} on {travel_day.isoformat()} "
                f"(adult {ADULT_FROM}+, child {CHILD_FROM}-{ADULT_FROM - 1}, infant under {CHILD_FROM}), "
                f"not {passenger.type.value}"
            )


def price(flights: Sequence[FlightWithSeats], seated: int, infants: int) -> Decimal:
    """Each flight's price per seated passenger, plus 10% of it per infant (per flight, rounded to
    the cent half up)."""
    total = Decimal("0.00")
    for flight in flights:
        unit = Decimal(flight.price)
        total += unit * seated + (unit * INFANT_FARE).quantize(CENT, rounding=ROUND_HALF_UP) * infants
    return total.quantize(CENT)


def check_slices(context: AppContext, slices: Sequence[Sequence[FlightWithSeats]]) -> None:
    """Each slice connects as search requires; each departs at least MIN_CONNECTION_MINUTES after
    the previous one lands."""
    for part in slices:
        check_connections(context, part)
    gap = timedelta(minutes=context.settings.min_connection_minutes)
    for previous, following in pairwise(slices):
        if following[0].departure_ts - previous[-1].arrival_ts < gap:
            raise Invalid(
                "Each slice must depart at least "
                f"{context.settings.min_connection_minutes} minutes after the previous one arrives"
            )


# --- answers -------------------------------------------------------------------------------------


def order_out(
    row: OrderRow,
    slices: Sequence[Sequence[FlightWithSeats]],
    passengers: Sequence[PassengerRow],
    counts: dict[uuid.UUID, int],
) -> Order:
    def flight_out(flight: FlightWithSeats) -> FlightOut:
        out = FlightOut.model_validate(flight)
        if flight.id in counts:
            out.available_seats = counts[flight.id]
        return out

    return Order(
        id=row.id,
        reference=row.reference,
        status=OrderStatus(row.status),
        total_price=row.total_price,
        slices=[SliceOut(flights=[flight_out(f) for f in part]) for part in slices],
        passengers=[
            PassengerOut(
                given_name=p.given_name,
                family_name=p.family_name,
                born_on=p.born_on,
                type=PassengerType(p.type),
            )
            for p in passengers
        ],
        contact=ContactOut(email=row.contact_email),
        payment_required_by=row.payment_required_by,
        refund_amount=row.refund_amount,
        needs_attention=row.needs_attention,
        cancelled_by=CancelledBy(row.cancelled_by) if row.cancelled_by else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def outs(context: AppContext, loaded: Sequence[LoadedOrder]) -> list[Order]:
    counts = await context.inventory.live_counts(list({fid for item in loaded for fid in item.flight_ids}))
    return [order_out(item.order, item.slices, item.passengers, counts) for item in loaded]


def _reply(out: Order) -> Reply:
    return Reply(STATUS_CODES.get(out.status.value, 409), out.model_dump(mode="json"))


# --- notifications -------------------------------------------------------------------------------


def _notice(kind: NotificationKind, subject: str, body: str) -> Callable[[OrderRow], list[Notice]]:
    def build(row: OrderRow) -> list[Notice]:
        values = {
            "ref": row.reference,
            "total": f"{row.total_price:.2f}",
            "refund": f"{row.refund_amount or 0:.2f}",
            "deadline": row.payment_required_by.isoformat() if row.payment_required_by else "",
        }
        return [
            Notice(
                user_id=row.user_id,
                order_id=row.id,
                kind=kind,
                subject=subject.format(**values),
                body=body.format(**values),
                email_to=row.contact_email,
            )
        ]

    return build


CONFIRMED_NOTICE = _notice(
    NotificationKind.ORDER_CONFIRMED,
    "Order {ref} is confirmed",
    "Your order {ref} is confirmed and paid ({total}). Quote {ref} to manage it.",
)
EXPIRING_NOTICE = _notice(
    NotificationKind.HOLD_EXPIRING,
    "Order {ref}: your hold expires soon",
    "Your order {ref} is held until {deadline} (UTC). Pay {total} before then or the seats are released.",
)
EXPIRED_NOTICE = _notice(
    NotificationKind.HOLD_EXPIRED,
    "Order {ref}: your hold has expired",
    "Your order {ref} was not paid by {deadline} (UTC): the hold has expired and its seats were released.",
)
CANCELLED_NOTICE = _notice(
    NotificationKind.ORDER_CANCELLED,
    "Order {ref} is cancelled",
    "Your order {ref} is cancelled. Refund: {refund}.",
)


# --- creating ------------------------------------------------------------------------------------


def fingerprint(request: OrderIn) -> str:
    canonical = orjson.dumps({"orders": request.model_dump(mode="json")}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def create(
    context: AppContext, user_id: uuid.UUID, request: OrderIn, idempotency_key: str | None
) -> Reply:
    store = context.booking_store
    strategy = store.strategy
    request_hash = fingerprint(request) if idempotency_key else ""
    flight_ids = request.flight_ids
    # Read and check everything before taking a seat (a refused request holds none).
    user_exists, flights = await store.reads.submit((user_id, flight_ids))
    if not user_exists:
        raise NOT_AUTHENTICATED
    if idempotency_key:
        first = await replay(context, user_id, idempotency_key, request_hash)
        if first is not None:
            return first
    check_bookable(context, flight_ids, flights)
    slices = [[flights[fid] for fid in part.flight_ids] for part in request.slices]
    check_slices(context, slices)
    now = datetime.now(UTC)
    first_departure = slices[0][0].departure_ts
    check_passengers(request.passengers, first_departure, now.date())
    seated = request.seated
    total = price([f for part in slices for f in part], seated, request.infants)
    order_id = uuid.uuid4()
    legs = [
        (uuid.uuid4(), flight, slice_index, leg_index)
        for slice_index, part in enumerate(slices)
        for leg_index, flight in enumerate(part)
    ]
    claim = (
        Claim(user_id, idempotency_key, request_hash, [leg[0] for leg in legs], None)
        if idempotency_key
        else None
    )
    status = OrderStatus.HELD if request.hold else OrderStatus.PENDING
    passengers = [
        PassengerRow(p.given_name, p.family_name, p.born_on, p.type.value) for p in request.passengers
    ]
    new = NewOrder(
        id=order_id,
        user_id=user_id,
        status=status.value,
        total_price=total,
        contact_email=str(request.contact.email),
        payment_required_by=now + timedelta(minutes=context.settings.hold_minutes) if request.hold else None,
        first_departure_ts=first_departure,
        now=now,
        passengers=passengers,
        seats=seated,
        legs=legs,
        claim=claim,
    )
    for _ in range(GENERATION_ATTEMPTS):
        try:
            holds = await reserve_at_once(context, strategy, flight_ids, seated)
        except SoldOut:
            BOOKINGS.labels("SOLD_OUT").inc()
            raise
        try:
            reference, stale = await context.order_store.inserts.submit(Insert(new, holds, request.hold))
        except IdempotencyKeyTaken:
            await release_all(strategy, holds)
            assert idempotency_key is not None
            first = await replay(context, user_id, idempotency_key, request_hash)
            if first is None:
                raise Conflict("A request with this Idempotency-Key is still in progress") from None
            return first
        except FlightGone:
            await release_all(strategy, holds)
            raise NotFound("Flight not found") from None
        except BaseException:
            await release_all(strategy, holds)
            raise
        if not stale:
            break
        await release_all(strategy, [hold for hold in holds if hold.flight_id not in stale])
    else:
        raise ServiceUnavailable("Seat counters are being rebuilt; please retry")

    row = OrderRow(
        id=order_id,
        reference=reference,
        user_id=user_id,
        status=status.value,
        total_price=total,
        contact_email=new.contact_email,
        payment_ref=None,
        payment_required_by=new.payment_required_by,
        first_departure_ts=first_departure,
        refund_amount=None,
        needs_attention=False,
        cancelled_at=None,
        cancelled_by=None,
        created_at=now,
        updated_at=now,
    )
    if request.hold:
        await _schedule_expiry(context, row)
        counts = await seats_changed(context, flight_ids)
        BOOKINGS.labels("HELD").inc()
    else:
        row, counts = await _pay_pending(context, row, flight_ids, str(order_id), fresh=True)
    reply = _reply(order_out(row, slices, passengers, counts))
    if claim is not None:
        await store.records.submit(Record(claim, reply.status_code, reply.body))
    return reply


async def _pay_pending(
    context: AppContext, row: OrderRow, flight_ids: Sequence[uuid.UUID], payment_key: str, *, fresh: bool
) -> tuple[OrderRow, dict[uuid.UUID, int]]:
    """Charge a PENDING order (no lock is held meanwhile) and settle it. ``fresh``: created PENDING
    (a declined payment fails it, seats back); otherwise a hold being paid (declined: HELD again)."""
    try:
        payment = await gateway_for(context.settings).charge(row.total_price, idempotency_key=payment_key)
    except Exception as exc:
        log.warning("payment_gateway_error", order=str(row.id), error=repr(exc))
        await _after_decline(context, row, fresh=fresh, payment_ref=None)
        raise ServiceUnavailable("The payment service is unavailable; please retry") from exc
    if payment.succeeded:
        # Grouped with every other confirmation in flight: PENDING -> CONFIRMED, its rows (PENDING,
        # or HELD for a hold being paid) with it, and order_confirmed, in one transaction.
        settled, counts = await context.order_store.confirms.submit(
            Confirm(row.id, payment.reference, CONFIRMED_NOTICE, flight_ids)
        )
        BOOKINGS.labels("CONFIRMED").inc()
    else:
        settled = await _after_decline(context, row, fresh=fresh, payment_ref=payment.reference)
        counts = {}
    if settled is None:
        # The sweep settled it while the payment took longer than PENDING_TIMEOUT_SECONDS: answer
        # with what is true now.
        log.error("order_settled_elsewhere", order=str(row.id))
        loaded = await order_storage.load(context, order_id=row.id)
        settled = loaded[0].order
        counts = {}
    if not counts:
        counts = await seats_changed(context, flight_ids)
    return settled, counts


async def _after_decline(
    context: AppContext, row: OrderRow, *, fresh: bool, payment_ref: str | None
) -> OrderRow | None:
    if fresh:
        BOOKINGS.labels("FAILED").inc()
        return await order_storage.change(
            context,
            row.id,
            Change(
                order_from=[OrderStatus.PENDING.value],
                order_to=OrderStatus.FAILED.value,
                bookings_from=[BookingStatus.PENDING.value],
                bookings_to=BookingStatus.FAILED.value,
                frees_seats=True,
                payment_ref=payment_ref,
            ),
        )
    # A declined payment of a hold leaves it HELD until its deadline (contract).
    return await order_storage.change(
        context,
        row.id,
        Change(
            order_from=[OrderStatus.PENDING.value],
            order_to=OrderStatus.HELD.value,
            bookings_from=[],
            bookings_to=None,
            frees_seats=False,
        ),
    )


async def _schedule_expiry(context: AppContext, row: OrderRow) -> None:
    """Queue the expiry at the deadline. Best effort: if this process dies first, or the queue is
    unreachable, the reaper's sweep expires the hold anyway (within one of its ticks)."""
    assert row.payment_required_by is not None
    try:
        app = await context.jobs.opened()
        await app.configure_task(
            EXPIRE_HOLD_TASK,
            schedule_at=row.payment_required_by,
            queueing_lock=f"expire-hold:{row.id}",
        ).defer_async(order_id=str(row.id))
    except Exception as exc:  # the sweep covers it
        log.warning("hold_expiry_not_queued", order=str(row.id), error=repr(exc))


# --- idempotency ---------------------------------------------------------------------------------


async def replay(context: AppContext, user_id: uuid.UUID, key: str, request_hash: str) -> Reply | None:
    """The first answer for this key, or None when the key is new (idempotency.py's rules)."""
    body = await idempotency.stored(context, user_id, key, request_hash)
    if body is None or isinstance(body, Reply):
        return body
    # The first request is still running, or its process died before recording the answer.
    order_id = body.get("order_id")
    if order_id is not None:
        loaded = await order_storage.load(context, order_id=uuid.UUID(order_id))
        if loaded and loaded[0].order.status != OrderStatus.PENDING.value:
            return _reply((await outs(context, loaded))[0])
    raise Conflict("A request with this Idempotency-Key is still in progress")


# --- reading -------------------------------------------------------------------------------------


async def _mine(context: AppContext, user_id: uuid.UUID, order_id: uuid.UUID) -> LoadedOrder:
    loaded = await order_storage.load(context, order_id=order_id, user_id=user_id)
    if not loaded:
        raise NotFound("Order not found")
    return loaded[0]


async def get(context: AppContext, user_id: uuid.UUID, order_id: uuid.UUID) -> Order:
    return (await outs(context, [await _mine(context, user_id, order_id)]))[0]


async def list_for_user(context: AppContext, user_id: uuid.UUID, *, limit: int, offset: int) -> list[Order]:
    return await outs(context, await order_storage.load(context, user_id=user_id, limit=limit, offset=offset))


async def lookup(context: AppContext, reference: str, family_name: str) -> Order:
    loaded = await order_storage.load(
        context, reference=reference.strip().upper(), family_name=family_name, limit=1
    )
    if not loaded:
        raise NotFound("No order with this reference and family name")
    return (await outs(context, loaded))[0]


# --- paying, cancelling --------------------------------------------------------------------------


async def pay(context: AppContext, user_id: uuid.UUID, order_id: uuid.UUID) -> Reply:
    loaded = await _mine(context, user_id, order_id)
    row = loaded.order
    if row.status != OrderStatus.HELD.value:
        raise Conflict(f"Only a HELD order can be paid; this one is {row.status}")
    now = datetime.now(UTC)
    cutoff = timedelta(minutes=context.settings.booking_cutoff_minutes)
    flights = [f for part in loaded.slices for f in part]
    if row.payment_required_by is not None and row.payment_required_by <= now:
        await expire(context, order_id)
        raise Conflict("The hold has expired")
    if any(f.status != "SCHEDULED" for f in flights) or any(f.departure_ts <= now + cutoff for f in flights):
        # Past the cut-off (or a flight cancelled) the hold can never be paid: released at once.
        await expire(context, order_id, deadline_passed=None)
        raise Conflict("A flight of this order is no longer bookable: the hold is released")
    started = await order_storage.change(
        context,
        order_id,
        Change(
            order_from=[OrderStatus.HELD.value],
            order_to=OrderStatus.PENDING.value,
            bookings_from=[],
            bookings_to=None,
            frees_seats=False,
            deadline_passed=False,
        ),
    )
    if started is None:
        raise Conflict("The order changed meanwhile (paid, cancelled or expired)")
    settled, counts = await _pay_pending(
        context, started, loaded.flight_ids, f"{order_id}:{uuid.uuid4().hex}", fresh=False
    )
    out = order_out(settled, loaded.slices, loaded.passengers, counts)
    if settled.status == OrderStatus.CONFIRMED.value:
        return Reply(200, out.model_dump(mode="json"))
    if settled.status == OrderStatus.HELD.value:
        return Reply(402, out.model_dump(mode="json"))
    return Reply(409, {"detail": f"The order is {settled.status}"})


def _cancellable(loaded: LoadedOrder, now: datetime) -> Decimal:
    row = loaded.order
    if row.status not in (OrderStatus.CONFIRMED.value, OrderStatus.HELD.value):
        raise Conflict(f"Only a CONFIRMED or HELD order can be cancelled; this one is {row.status}")
    refund = refund_for(row, loaded.first_departure, now)
    if refund is None:
        raise Conflict("The trip has already departed: it can no longer be cancelled")
    return refund


async def quote(context: AppContext, user_id: uuid.UUID, order_id: uuid.UUID) -> CancellationQuote:
    loaded = await _mine(context, user_id, order_id)
    now = datetime.now(UTC)
    refund = _cancellable(loaded, now)
    row = loaded.order
    return CancellationQuote(
        refund_amount=refund,
        expires_at=refund_changes_at(row, loaded.first_departure, row.payment_required_by, now),
    )


async def cancel(context: AppContext, user_id: uuid.UUID, order_id: uuid.UUID) -> Order:
    loaded = await _mine(context, user_id, order_id)
    refund = _cancellable(loaded, datetime.now(UTC))
    row = loaded.order
    changed = await order_storage.change(
        context,
        order_id,
        Change(
            # Only from the status the refund was computed for: a hold paid meanwhile is refused.
            order_from=[row.status],
            order_to=OrderStatus.CANCELLED.value,
            bookings_from=[BookingStatus.CONFIRMED.value, BookingStatus.HELD.value],
            bookings_to=BookingStatus.CANCELLED.value,
            frees_seats=True,
            refund_amount=refund,
            cancelled_by=CancelledBy.TRAVELLER.value,
            notices=CANCELLED_NOTICE,
        ),
    )
    if changed is None:
        raise Conflict("The order changed meanwhile; look at it again")
    BOOKINGS.labels("CANCELLED").inc()
    return (await outs(context, [LoadedOrder(changed, loaded.passengers, loaded.slices)]))[0]


# --- holds: expiry and warnings (the job at the deadline, and the reaper's sweep) ---------------


async def expire(context: AppContext, order_id: uuid.UUID, *, deadline_passed: bool | None = True) -> bool:
    """HELD -> EXPIRED with its seats returned, if still HELD (and past its deadline); idempotent."""
    changed = await order_storage.change(
        context,
        order_id,
        Change(
            order_from=[OrderStatus.HELD.value],
            order_to=OrderStatus.EXPIRED.value,
            bookings_from=[BookingStatus.HELD.value],
            bookings_to=BookingStatus.EXPIRED.value,
            frees_seats=True,
            deadline_passed=deadline_passed,
            notices=EXPIRED_NOTICE,
        ),
    )
    if changed is not None:
        BOOKINGS.labels("EXPIRED").inc()
        log.info("hold_expired", order=str(order_id), reference=changed.reference)
    return changed is not None


async def fail_stuck(context: AppContext, order_id: uuid.UUID) -> bool:
    """A PENDING order whose process died during its payment: FAILED, seats returned."""
    changed = await order_storage.change(
        context,
        order_id,
        Change(
            order_from=[OrderStatus.PENDING.value],
            order_to=OrderStatus.FAILED.value,
            bookings_from=[BookingStatus.PENDING.value, BookingStatus.HELD.value],
            bookings_to=BookingStatus.FAILED.value,
            frees_seats=True,
        ),
    )
    return changed is not None


async def sweep(context: AppContext) -> int:
    """Expire every overdue hold, fail orders stuck PENDING, warn holds close to their deadline.
    Run by the reaper every tick: a lost job or a killed process never keeps seats held."""
    done = 0
    for order_id in await order_storage.overdue_holds(context, SWEEP_BATCH):
        done += await expire(context, order_id)
    timeout = context.settings.pending_timeout_seconds
    for order_id in await order_storage.stuck_pending(context, timeout, SWEEP_BATCH):
        if await fail_stuck(context, order_id):
            log.warning("stuck_order_failed", order=str(order_id))
            done += 1
    warn_within = min(WARN_BEFORE, timedelta(minutes=context.settings.hold_minutes) / 2)
    done += await order_storage.warn_expiring(
        context, warn_within.total_seconds(), EXPIRING_NOTICE, SWEEP_BATCH
    )
    return done
