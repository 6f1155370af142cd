"""The airline cancels a flight.

Invariant: once the cancel commits, no seat-holding row (HELD, PENDING, CONFIRMED) exists on the
flight, and none can be committed after it. The cancel takes the flight's row lock (FOR UPDATE,
which a PENDING insert's foreign-key check waits for) and its seat lock exclusively (which every
booking transaction takes shared before it commits, and then checks the status: 409 on
CANCELLED). A PENDING row reserved before the cancel and confirmed after stays CANCELLED: the
CONFIRMED update is conditional on status = 'PENDING'.

In one transaction: the flight's status, every order with a seat-holding row on it (the whole
order, all its flights), every plain booking on it (with its itinerary's other legs), and one
``flight_cancelled`` notification per order / booking. After the commit, the seats go back to
the counters of the generations read under the seat locks (as app/booking/ledger.py does), and
search drops the flight as if it were deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.booking.replies import seats_changed
from app.booking.reservation import strategy_for
from app.flights import service as flights
from app.flights.events import FlightChange, FlightSnapshot, flights_changed
from app.flights.inventory import SEAT_LOCK_CLASS, lock_seats_shared, seat_lock_key
from app.models import SEAT_HOLDING_STATUSES, Flight, FlightStatus, NotificationKind
from app.notifications import outbox
from app.notifications.outbox import Notice
from app.operations.schemas import CancellationImpact, CancelOut
from app.platform.errors import NotFound

if TYPE_CHECKING:
    from app.context import AppContext

_HELD = list(SEAT_HOLDING_STATUSES)

# The rows the cancel takes: seat-holding rows on the flight, and all seat-holding rows of the
# orders and itineraries (group_id) those belong to.
_AFFECTED = """
WITH hit AS (
    SELECT order_id, group_id FROM bookings WHERE flight_id = :flight AND status = ANY(:held)
)
SELECT b.id, b.flight_id, b.seats, b.status, b.order_id, b.user_id, b.group_id, b.unit_price
FROM bookings b
WHERE b.status = ANY(:held) AND (
    b.flight_id = :flight
    OR b.order_id IN (SELECT order_id FROM hit WHERE order_id IS NOT NULL)
    OR (b.order_id IS NULL AND b.group_id IN (SELECT group_id FROM hit WHERE group_id IS NOT NULL))
)
"""

_ORDERS = """
SELECT o.id, o.reference, o.user_id, o.contact_email, o.status, o.total_price,
       (SELECT count(*) FROM order_passengers p WHERE p.order_id = o.id) AS passengers
FROM orders o WHERE o.id = ANY(:ids) AND o.status IN ('HELD', 'PENDING', 'CONFIRMED')
"""

# An unpaid hold has nothing to refund; a PENDING order's payment may still succeed: refunded.
_CANCEL_ORDERS = """
UPDATE orders SET status = 'CANCELLED', cancelled_by = 'airline', cancelled_at = now(),
    refund_amount = CASE WHEN status = 'HELD' THEN 0 ELSE total_price END,
    payment_required_by = NULL, updated_at = now()
WHERE id = ANY(:ids) AND status IN ('HELD', 'PENDING', 'CONFIRMED')
"""

_CANCEL_ROWS = """
UPDATE bookings SET status = 'CANCELLED', updated_at = now()
WHERE id = ANY(:ids) AND status = ANY(:held)
RETURNING id, flight_id, seats
"""


@dataclass(frozen=True, slots=True)
class _Plan:
    rows: Sequence[Any]
    orders: Sequence[Any]

    @property
    def order_ids(self) -> set[uuid.UUID]:
        return {o.id for o in self.orders}

    @property
    def plain(self) -> list[Any]:
        # Rows of no order: /booking bookings (their itinerary's other legs included).
        return [r for r in self.rows if r.order_id is None]

    @property
    def passengers(self) -> int:
        flight_plain = {r.group_id or r.id: r.seats for r in self.plain}
        return int(sum(int(o.passengers) for o in self.orders) + sum(flight_plain.values()))

    @property
    def refund_total(self) -> Decimal:
        orders = sum((o.total_price for o in self.orders if o.status != "HELD"), Decimal("0.00"))
        plain = sum(
            ((r.unit_price or Decimal(0)) * r.seats for r in self.plain if r.status == "CONFIRMED"),
            Decimal("0.00"),
        )
        return Decimal(orders + plain).quantize(Decimal("0.01"))


async def _plan(connection: AsyncConnection, flight_id: uuid.UUID) -> _Plan:
    rows = (await connection.execute(text(_AFFECTED), {"flight": flight_id, "held": _HELD})).all()
    order_ids = list({r.order_id for r in rows if r.order_id is not None})
    orders = (await connection.execute(text(_ORDERS), {"ids": order_ids})).all() if order_ids else []
    # Rows of an order already settled otherwise (no longer HELD/PENDING/CONFIRMED) are still freed.
    return _Plan(rows=rows, orders=orders)


async def impact(context: AppContext, flight_id: uuid.UUID) -> CancellationImpact:
    async with context.engine.connect() as connection:
        status = await connection.scalar(text("SELECT status FROM flights WHERE id = :id"), {"id": flight_id})
        if status is None:
            raise NotFound("Flight not found")
        plan = await _plan(connection, flight_id)
    return CancellationImpact(
        orders=len(plan.orders),
        bookings=len(plan.rows),
        passengers=plan.passengers,
        refund_total=plan.refund_total,
    )


def _when(flight: Any) -> str:
    departs = f"{flight.departure_ts:%Y-%m-%d %H:%M} UTC"
    return f"{flight.flight_number} {flight.source}-{flight.destination} departing {departs}"


def _notices(flight: Any, plan: _Plan) -> list[Notice]:
    notices = []
    for order in plan.orders:
        refund = Decimal(0) if order.status == "HELD" else order.total_price
        notices.append(
            Notice(
                user_id=order.user_id,
                order_id=order.id,
                kind=NotificationKind.FLIGHT_CANCELLED,
                subject=f"Booking {order.reference}: flight {flight.flight_number} cancelled by the airline",
                body=(
                    f"The airline has cancelled flight {_when(flight)}.\n"
                    f"Your booking {order.reference} is cancelled, with all its flights.\n"
                    f"Refund: {refund:.2f} (the full amount paid).\n"
                ),
                email_to=order.contact_email,
            )
        )
    told: set[uuid.UUID] = set()
    for row in plan.plain:
        key = row.group_id or row.id
        if key in told or row.flight_id != flight.id:
            continue
        told.add(key)
        notices.append(
            Notice(
                user_id=row.user_id,
                order_id=None,
                kind=NotificationKind.FLIGHT_CANCELLED,
                subject=f"Flight {flight.flight_number} cancelled by the airline",
                body=(
                    f"The airline has cancelled flight {_when(flight)}.\n"
                    f"Your booking {row.id} is cancelled (with any connecting flights) and refunded.\n"
                ),
            )
        )
    return notices


async def cancel(context: AppContext, flight_id: uuid.UUID) -> CancelOut:
    async with context.engine.connect() as connection:
        flight = (
            await connection.execute(
                text("SELECT * FROM flights WHERE id = :id FOR UPDATE"), {"id": flight_id}
            )
        ).first()
        if flight is None:
            raise NotFound("Flight not found")
        if flight.status == FlightStatus.CANCELLED.value:
            await connection.rollback()
            out = await flights.get(context, flight_id)
            return CancelOut(
                flight=out,
                orders_cancelled=0,
                bookings_cancelled=0,
                passengers=0,
                refund_total=0,
                changed=False,
            )
        # Exclusive: a booking transaction holding it shared commits first (its rows are then seen
        # below); one arriving later waits for this commit and then sees CANCELLED.
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :key)"),
            {"cls": SEAT_LOCK_CLASS, "key": seat_lock_key(flight_id)},
        )
        await connection.execute(
            text(
                "UPDATE flights SET status = 'CANCELLED', version = version + 1, updated_at = now()"
                " WHERE id = :id"
            ),
            {"id": flight_id},
        )
        plan = await _plan(connection, flight_id)
        if plan.orders:
            await connection.execute(text(_CANCEL_ORDERS), {"ids": list(plan.order_ids)})
        freed = (
            await connection.execute(text(_CANCEL_ROWS), {"ids": [r.id for r in plan.rows], "held": _HELD})
        ).all()
        await outbox.write_in(
            connection, _notices(flight, plan), email_enabled=context.settings.smtp_url is not None
        )
        generations: list[bytes | None] = []
        if freed:
            flight_ids = [r.flight_id for r in freed]
            await lock_seats_shared(connection, flight_ids)
            generations = await context.inventory.generations(flight_ids)
        await connection.commit()
    strategy = strategy_for(context)
    for row, generation in zip(freed, generations, strict=False):
        # No generation: the counter is gone and its rebuild counts these rows as freed. A crash
        # before this loop leaks the seats of the orders' other flights until the counter audit
        # (app/booking/recovery.py) reconciles them.
        if generation is not None:
            await strategy.release(row.flight_id, row.seats, generation)
    await seats_changed(context, sorted({r.flight_id for r in freed} | {flight_id}))
    # For search, a cancelled flight is a deleted one: it leaves the index at once.
    await flights_changed(context, [FlightChange(before=FlightSnapshot.of(_as_flight(flight)), after=None)])
    return CancelOut(
        flight=await flights.get(context, flight_id),
        orders_cancelled=len(plan.orders),
        bookings_cancelled=len(freed),
        passengers=plan.passengers,
        refund_total=plan.refund_total,
        changed=True,
    )


def _as_flight(row: Any) -> Flight:
    return Flight(
        id=row.id,
        flight_number=row.flight_number,
        source=row.source,
        destination=row.destination,
        departure_ts=row.departure_ts,
        arrival_ts=row.arrival_ts,
        total_seats=row.total_seats,
        price=row.price,
    )
