"""Orders in PostgreSQL: the insert that holds their seats, the status changes, the reads.

Invariant (ledger.py's protocol, applied to every flight of an order at once): the order, its
passengers and one bookings row per flight are inserted in one transaction that takes the flights'
shared seat locks after the rows and commits only if every counter still has the generation its
seats were taken from; a status change that frees seats changes the order and its rows, takes the
shared locks, reads the generations, commits (with its notifications: the outbox invariant) and
only then gives the seats back to those generations. An order and its rows always change together,
in one transaction, by a conditional UPDATE on the order's status: of two racing changes (a payment
and the expiry, a cancellation and a payment) exactly one applies.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from app.booking.group_commit import FlightWithSeats
from app.booking.ledger import Claim, FlightGone, IdempotencyKeyTaken, lock_and_check
from app.booking.replies import publish_seat_changes, seats_changed
from app.booking.reservation import Hold
from app.flights.inventory import SeatInventory, lock_seats_shared
from app.models import REFERENCE_ALPHABET
from app.notifications import outbox
from app.notifications.outbox import Notice
from app.platform.batching import MicroBatcher, RunAlone
from app.platform.config import Settings
from app.platform.db import raw_connection
from app.platform.redis.client import Keys

if TYPE_CHECKING:
    from app.context import AppContext

REFERENCE_ATTEMPTS = 8

_CLAIM = (
    "INSERT INTO idempotency_keys (user_id, key, request_hash, response_body) "
    "VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT DO NOTHING RETURNING key"
)
# The order, its passengers and its bookings rows in one statement (the foreign keys are checked
# at its end, when the order row exists).
_INSERT = """
WITH o AS (
    INSERT INTO orders (id, reference, user_id, status, total_price, contact_email,
                        payment_required_by, first_departure_ts, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
    RETURNING id
), p AS (
    INSERT INTO order_passengers (order_id, seq, given_name, family_name, born_on, type)
    SELECT $1, s, g, f, b, t
    FROM unnest($10::int2[], $11::text[], $12::text[], $13::date[], $14::text[]) AS x(s, g, f, b, t)
)
INSERT INTO bookings (id, user_id, flight_id, seats, status, unit_price, order_id, slice_index,
                      leg_index, created_at, updated_at)
SELECT i, $3, fl, $15, $16, pr, $1, si, li, $9, $9
FROM unnest($17::uuid[], $18::uuid[], $19::numeric[], $20::int2[], $21::int2[]) AS r(i, fl, pr, si, li)
"""

ORDER_COLUMNS = (
    "id, reference, user_id, status, total_price, contact_email, payment_ref, payment_required_by, "
    "first_departure_ts, refund_amount, needs_attention, cancelled_at, cancelled_by, created_at, updated_at"
)


ORDER_FIELDS = len(ORDER_COLUMNS.split(","))


class ReferenceTaken(Exception):
    """Every reference tried was taken (REFERENCE_ATTEMPTS random draws): practically never."""


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


@dataclass(frozen=True, slots=True)
class PassengerRow:
    given_name: str
    family_name: str
    born_on: date
    type: str


@dataclass(frozen=True, slots=True)
class NewOrder:
    id: uuid.UUID
    user_id: uuid.UUID
    status: str
    total_price: Decimal
    contact_email: str
    payment_required_by: datetime | None
    first_departure_ts: datetime
    now: datetime
    passengers: Sequence[PassengerRow]
    seats: int
    # (booking id, flight, slice index, leg index), in travel order.
    legs: Sequence[tuple[uuid.UUID, FlightWithSeats, int, int]]
    claim: Claim | None


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: uuid.UUID
    reference: str
    user_id: uuid.UUID
    status: str
    total_price: Decimal
    contact_email: str
    payment_ref: str | None
    payment_required_by: datetime | None
    first_departure_ts: datetime
    refund_amount: Decimal | None
    needs_attention: bool
    cancelled_at: datetime | None
    cancelled_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: Any) -> OrderRow:
        return cls(*record)


@dataclass(frozen=True, slots=True)
class Insert:
    order: NewOrder
    holds: Sequence[Hold]
    # Wait for the WAL flush at commit: a hold's 201 is its only confirmation (a PENDING order's
    # CONFIRMED update flushes anyway, and a PENDING row lost in a crash only leaks seats).
    durable: bool


# (reference, the flights whose counter changed generation since the seats were taken: nothing
# was written then)
Inserted = tuple[str, set[uuid.UUID]]


@dataclass(frozen=True, slots=True)
class Confirm:
    order_id: uuid.UUID
    payment_ref: str
    notices: Callable[[OrderRow], Sequence[Notice]]
    flight_ids: Sequence[uuid.UUID]


# The confirmed order (None: it was no longer PENDING) and the live counts of the batch's flights.
Confirmed = tuple["OrderRow | None", dict[uuid.UUID, int]]


# Batches of each step in flight at once, and the connections they hold (the pool includes them).
LANES = 2
CONNECTIONS = 2 * LANES + 2

# Many orders at once: the orders, then every passenger and bookings row with its order's id.
_INSERT_MANY = """
WITH o AS (
    INSERT INTO orders (id, reference, user_id, status, total_price, contact_email,
                        payment_required_by, first_departure_ts, created_at, updated_at)
    SELECT a, b, c, d, e, f, g, h, ts, ts
    FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::numeric[], $6::text[],
                $7::timestamptz[], $8::timestamptz[], $9::timestamptz[]) AS t(a, b, c, d, e, f, g, h, ts)
), p AS (
    INSERT INTO order_passengers (order_id, seq, given_name, family_name, born_on, type)
    SELECT * FROM unnest($10::uuid[], $11::int2[], $12::text[], $13::text[], $14::date[], $15::text[])
)
INSERT INTO bookings (id, user_id, flight_id, seats, status, unit_price, order_id, slice_index,
                      leg_index, created_at, updated_at)
SELECT i, u, fl, n, st, pr, oi, si, li, ts, ts
FROM unnest($16::uuid[], $17::uuid[], $18::uuid[], $19::int4[], $20::text[], $21::numeric[], $22::uuid[],
            $23::int2[], $24::int2[], $25::timestamptz[]) AS r(i, u, fl, n, st, pr, oi, si, li, ts)
"""
_CONFIRM_MANY = f"""
WITH c AS (SELECT * FROM unnest($1::uuid[], $2::text[]) AS c(id, ref)),
o AS (
    UPDATE orders
       SET status = 'CONFIRMED', payment_ref = c.ref, payment_required_by = NULL, updated_at = now()
      FROM c WHERE orders.id = c.id AND orders.status = 'PENDING'
    RETURNING {", ".join("orders." + c.strip() for c in ORDER_COLUMNS.split(","))}
), b AS (
    UPDATE bookings SET status = 'CONFIRMED', payment_ref = o.payment_ref, updated_at = now()
      FROM o WHERE bookings.order_id = o.id AND bookings.status IN ('PENDING', 'HELD')
)
SELECT * FROM o
"""  # noqa: S608 (constant text)


class OrderStore:
    """The order hot path's two PostgreSQL steps, grouped across the requests of a process as
    /booking's are (group_commit.py): one transaction inserts the orders of a batch, one confirms
    a batch. A batch that cannot commit whole (an Idempotency-Key, a taken reference, a flight gone
    or refused, a changed generation) runs its items one by one, each with its own answer."""

    def __init__(
        self, settings: Settings, engine: AsyncEngine, redis: Redis, keys: Keys, inventory: SeatInventory
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.keys = keys
        self.engine = engine
        self.inventory = inventory
        self.inserts: MicroBatcher[Insert, Inserted] = MicroBatcher(
            self._insert_batch, self.insert_one, lanes=LANES
        )
        self.confirms: MicroBatcher[Confirm, Confirmed] = MicroBatcher(
            self._confirm_batch, lambda item: self._confirm_one(item), lanes=LANES
        )

    async def insert_one(self, item: Insert) -> Inserted:
        order, holds = item.order, item.holds
        flight_ids = [flight.id for _, flight, _, _ in order.legs]
        for _ in range(REFERENCE_ATTEMPTS):
            reference = new_reference()
            try:
                async with raw_connection(self.engine) as connection, connection.transaction():
                    if order.claim is not None:
                        claim = order.claim
                        body = orjson.dumps({"order_id": str(order.id)}).decode()
                        taken = await connection.fetchval(
                            _CLAIM, claim.user_id, claim.key, claim.fingerprint, body
                        )
                        if taken is None:
                            raise IdempotencyKeyTaken()
                    await connection.execute(_INSERT, *_insert_args(order, reference))
                    refused = await lock_and_check(
                        connection, flight_ids, self.settings.booking_cutoff_minutes, durable=item.durable
                    )
                    if refused is not None:
                        raise refused
                    stale = await self._stale(holds)
                    if stale:
                        raise _Stale(stale)
            except asyncpg.UniqueViolationError as exc:
                if exc.constraint_name == "uq_orders_reference":
                    continue
                raise
            except asyncpg.ForeignKeyViolationError as exc:
                raise FlightGone() from exc
            except _Stale as changed:
                return reference, changed.flights
            return reference, set()
        raise ReferenceTaken()

    async def _stale(self, holds: Sequence[Hold]) -> set[uuid.UUID]:
        current = await self.inventory.generations([hold.flight_id for hold in holds])
        return {
            hold.flight_id
            for hold, generation in zip(holds, current, strict=True)
            if generation != hold.generation
        }

    async def _insert_batch(self, items: Sequence[Insert]) -> list[Inserted | BaseException]:
        if any(item.order.claim is not None for item in items):
            raise RunAlone("an Idempotency-Key is claimed alone")
        references = [new_reference() for _ in items]
        flight_ids = [flight.id for item in items for _, flight, _, _ in item.order.legs]
        try:
            async with raw_connection(self.engine) as connection, connection.transaction():
                await connection.execute(_INSERT_MANY, *_insert_many_args(items, references))
                refused = await lock_and_check(
                    connection,
                    flight_ids,
                    self.settings.booking_cutoff_minutes,
                    durable=any(item.durable for item in items),
                )
                if refused is not None or await self._stale([h for item in items for h in item.holds]):
                    raise RunAlone("a flight refused or a counter changed generation")
        except (asyncpg.UniqueViolationError, asyncpg.ForeignKeyViolationError) as exc:
            raise RunAlone("a row of the batch was refused") from exc
        return [(reference, set()) for reference in references]

    async def _confirm_batch(self, items: Sequence[Confirm]) -> list[Confirmed | BaseException]:
        async with raw_connection(self.engine) as connection, connection.transaction():
            records = await connection.fetch(
                _CONFIRM_MANY, [item.order_id for item in items], [item.payment_ref for item in items]
            )
            rows = {row.id: row for row in (OrderRow.of(r) for r in records)}
            notices = [
                n for item in items if item.order_id in rows for n in item.notices(rows[item.order_id])
            ]
            await outbox.write(connection, notices, email_enabled=self.settings.smtp_url is not None)
        # The seat_updates events, write-back marks and live counts of the whole batch: one pipeline.
        counts = await publish_seat_changes(
            self.redis,
            self.keys,
            self.settings.seat_updates_channel,
            self.inventory,
            sorted({fid for item in items for fid in item.flight_ids}),
        )
        return [(rows.get(item.order_id), counts) for item in items]

    async def _confirm_one(self, item: Confirm) -> Confirmed:
        outcome = (await self._confirm_batch([item]))[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def _insert_many_args(items: Sequence[Insert], references: Sequence[str]) -> list[Any]:
    orders = [item.order for item in items]
    args: list[Any] = [
        [o.id for o in orders],
        list(references),
        [o.user_id for o in orders],
        [o.status for o in orders],
        [o.total_price for o in orders],
        [o.contact_email for o in orders],
        [o.payment_required_by for o in orders],
        [o.first_departure_ts for o in orders],
        [o.now for o in orders],
    ]
    args += [
        [o.id for o in orders for _ in o.passengers],
        [seq for o in orders for seq in range(len(o.passengers))],
        [p.given_name for o in orders for p in o.passengers],
        [p.family_name for o in orders for p in o.passengers],
        [p.born_on for o in orders for p in o.passengers],
        [p.type for o in orders for p in o.passengers],
    ]
    legs = [(o, leg) for o in orders for leg in o.legs]
    args += [
        [leg[0] for _, leg in legs],
        [o.user_id for o, _ in legs],
        [leg[1].id for _, leg in legs],
        [o.seats for o, _ in legs],
        ["HELD" if o.status == "HELD" else "PENDING" for o, _ in legs],
        [leg[1].price for _, leg in legs],
        [o.id for o, _ in legs],
        [leg[2] for _, leg in legs],
        [leg[3] for _, leg in legs],
        [o.now for o, _ in legs],
    ]
    return args


def _insert_args(order: NewOrder, reference: str) -> list[Any]:
    return [
        order.id,
        reference,
        order.user_id,
        order.status,
        order.total_price,
        order.contact_email,
        order.payment_required_by,
        order.first_departure_ts,
        order.now,
        list(range(len(order.passengers))),
        [p.given_name for p in order.passengers],
        [p.family_name for p in order.passengers],
        [p.born_on for p in order.passengers],
        [p.type for p in order.passengers],
        order.seats,
        order.status if order.status == "HELD" else "PENDING",
        [booking_id for booking_id, _, _, _ in order.legs],
        [flight.id for _, flight, _, _ in order.legs],
        [flight.price for _, flight, _, _ in order.legs],
        [s for _, _, s, _ in order.legs],
        [leg for _, _, _, leg in order.legs],
    ]


class _Stale(Exception):
    def __init__(self, flights: set[uuid.UUID]) -> None:
        self.flights = flights


@dataclass(frozen=True, slots=True)
class Change:
    """A conditional status change of an order and its bookings rows (see the module doc)."""

    order_from: Sequence[str]
    order_to: str
    bookings_from: Sequence[str]
    bookings_to: str | None
    frees_seats: bool
    # Only if the hold's deadline has passed (True) / not passed yet (False); None: either.
    deadline_passed: bool | None = None
    payment_ref: str | None = None
    refund_amount: Decimal | None = None
    cancelled_by: str | None = None
    notices: Callable[[OrderRow], Sequence[Notice]] | None = None


# The order and its rows in one statement; the rows' (flight, seats) come back as arrays.
_CHANGE = f"""
WITH o AS (
    UPDATE orders SET status = $2, updated_at = now(),
           payment_ref = coalesce($3, payment_ref),
           refund_amount = coalesce($4, refund_amount),
           cancelled_by = coalesce($5, cancelled_by),
           cancelled_at = CASE WHEN $2 = 'CANCELLED' THEN now() ELSE cancelled_at END,
           payment_required_by = CASE WHEN $2 IN ('HELD', 'PENDING', 'EXPIRED') THEN payment_required_by END
     WHERE id = $1 AND status = ANY($6::text[])
       AND ($7::bool IS NULL OR (payment_required_by <= now()) = $7::bool)
    RETURNING {ORDER_COLUMNS}
), b AS (
    UPDATE bookings SET status = $8::text, updated_at = now(), payment_ref = coalesce($3, payment_ref)
     WHERE order_id IN (SELECT id FROM o) AND $8::text IS NOT NULL AND status = ANY($9::text[])
    RETURNING flight_id, seats
)
SELECT o.*,
       (SELECT coalesce(array_agg(flight_id), '{{}}') FROM b),
       (SELECT coalesce(array_agg(seats), '{{}}') FROM b)
FROM o
"""  # noqa: S608 (constant text)


async def change(context: AppContext, order_id: uuid.UUID, step: Change) -> OrderRow | None:
    """Apply ``step`` if the order is still in one of ``step.order_from``; the changed order, or
    None when it was not (another change won)."""
    released: list[tuple[uuid.UUID, int, bytes | None]] = []
    async with raw_connection(context.engine) as connection, connection.transaction():
        record = await connection.fetchrow(
            _CHANGE,
            order_id,
            step.order_to,
            step.payment_ref,
            step.refund_amount,
            step.cancelled_by,
            list(step.order_from),
            step.deadline_passed,
            step.bookings_to,
            list(step.bookings_from),
        )
        if record is None:
            return None
        row = OrderRow.of(record[:ORDER_FIELDS])
        flight_ids, seats = record[-2], record[-1]
        if step.frees_seats and flight_ids:
            await lock_seats_shared(connection, flight_ids)
            generations = await context.inventory.generations(flight_ids)
            released = list(zip(flight_ids, seats, generations, strict=True))
        if step.notices is not None:
            await outbox.write(
                connection, step.notices(row), email_enabled=context.settings.smtp_url is not None
            )
    # After the commit, to the generation read under the lock (ledger.py): a counter rebuilt in
    # between already counts these seats free.
    strategy = context.booking_store.strategy
    for flight_id, seats, generation in released:
        if generation is not None:
            await strategy.release(flight_id, seats, generation)
    if released:
        await seats_changed(context, sorted({flight_id for flight_id, _, _ in released}))
    return row


# --- reads -------------------------------------------------------------------------------------

_FLIGHT_COLUMNS = (
    "f.id, f.flight_number, f.source, f.destination, f.departure_ts, f.arrival_ts, f.total_seats, "
    "f.available_seats, f.price, f.status"
)


_FAMILY_NAME = (
    "EXISTS (SELECT 1 FROM order_passengers p WHERE p.order_id = o.id AND lower(p.family_name) = lower($n))"
)


@dataclass(frozen=True, slots=True)
class LoadedOrder:
    order: OrderRow
    passengers: list[PassengerRow]
    # Slices in order, each its flights in travel order.
    slices: list[list[FlightWithSeats]]

    @property
    def flight_ids(self) -> list[uuid.UUID]:
        return [flight.id for part in self.slices for flight in part]

    @property
    def first_departure(self) -> datetime:
        """The first flight's departure as scheduled now (a schedule change moves it)."""
        return min(flight.departure_ts for part in self.slices for flight in part)


async def load(
    context: AppContext,
    *,
    order_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    reference: str | None = None,
    family_name: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[LoadedOrder]:
    """Orders by id, by user (newest first), or by reference and a passenger's family name."""
    conditions: list[str] = []
    args: list[Any] = []
    if order_id is not None:
        args.append(order_id)
        conditions.append(f"o.id = ${len(args)}")
    if user_id is not None:
        args.append(user_id)
        conditions.append(f"o.user_id = ${len(args)}")
    if reference is not None:
        args.append(reference)
        conditions.append(f"o.reference = ${len(args)}")
    if family_name is not None:
        args.append(family_name)
        placeholder = f"${len(args)}"
        conditions.append(_FAMILY_NAME.replace("$n", placeholder))
    args.extend([limit, offset])
    columns = ", ".join(f"o.{c.strip()}" for c in ORDER_COLUMNS.split(","))
    where = " AND ".join(conditions) or "true"
    page = f"LIMIT ${len(args) - 1} OFFSET ${len(args)}"
    query = f"SELECT {columns} FROM orders o WHERE {where} ORDER BY o.created_at DESC, o.id {page}"  # noqa: S608
    async with raw_connection(context.engine) as connection:
        orders = [OrderRow.of(r) for r in await connection.fetch(query, *args)]
        if not orders:
            return []
        ids = [o.id for o in orders]
        passengers = await connection.fetch(
            "SELECT order_id, given_name, family_name, born_on, type FROM order_passengers "
            "WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, seq",
            ids,
        )
        legs = await connection.fetch(
            f"SELECT b.order_id, b.slice_index, {_FLIGHT_COLUMNS} FROM bookings b "  # noqa: S608
            "JOIN flights f ON f.id = b.flight_id WHERE b.order_id = ANY($1::uuid[]) "
            "ORDER BY b.order_id, b.slice_index, b.leg_index",
            ids,
        )
    by_order: dict[uuid.UUID, LoadedOrder] = {o.id: LoadedOrder(o, [], []) for o in orders}
    for p in passengers:
        by_order[p[0]].passengers.append(PassengerRow(*p[1:]))
    for leg in legs:
        loaded = by_order[leg[0]]
        while len(loaded.slices) <= leg[1]:
            loaded.slices.append([])
        loaded.slices[leg[1]].append(FlightWithSeats(*leg[2:]))
    return [by_order[o.id] for o in orders]


async def overdue_holds(context: AppContext, limit: int) -> list[uuid.UUID]:
    async with raw_connection(context.engine) as connection:
        rows = await connection.fetch(
            "SELECT id FROM orders WHERE status = 'HELD' AND payment_required_by <= now() "
            "ORDER BY payment_required_by LIMIT $1",
            limit,
        )
    return [r[0] for r in rows]


async def stuck_pending(context: AppContext, older_than_seconds: float, limit: int) -> list[uuid.UUID]:
    async with raw_connection(context.engine) as connection:
        rows = await connection.fetch(
            "SELECT id FROM orders WHERE status = 'PENDING' "
            "AND updated_at < now() - make_interval(secs => $1) LIMIT $2",
            older_than_seconds,
            limit,
        )
    return [r[0] for r in rows]


# One warner at a time (any number of workers run the sweep): the NOT EXISTS below then sees every
# warning a previous warner committed, so none is written twice.
_WARN_LOCK = (0x5EA7, 0x0D1E)
_DUE_WARNINGS = f"""
SELECT {ORDER_COLUMNS} FROM orders o
 WHERE o.status = 'HELD' AND o.payment_required_by > now()
   AND o.payment_required_by <= now() + make_interval(secs => $1)
   AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.order_id = o.id AND n.kind = 'hold_expiring')
 LIMIT $2
"""  # noqa: S608 (constant text)


async def warn_expiring(
    context: AppContext, within_seconds: float, notices: Callable[[OrderRow], Sequence[Notice]], limit: int
) -> int:
    """Write a hold_expiring notification for every HELD order whose deadline is this close."""
    async with raw_connection(context.engine) as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1, $2)", *_WARN_LOCK)
        rows = [OrderRow.of(r) for r in await connection.fetch(_DUE_WARNINGS, within_seconds, limit)]
        await outbox.write(
            connection,
            [notice for row in rows for notice in notices(row)],
            email_enabled=context.settings.smtp_url is not None,
        )
    return len(rows)
