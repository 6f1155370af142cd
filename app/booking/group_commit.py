"""The booking hot path on raw asyncpg connections of the process's pool, with group commit
(docs/decisions.md, "Booking").

Each step a booking takes in PostgreSQL is shared by every booking in flight in this process:
one read of users + flights, one PENDING transaction (Idempotency-Keys and rows in one statement,
the shared seat locks, the generation check), one CONFIRMED update with its seat_updates events.
The PENDING protocol is ledger.py's, applied to many rows at once: a batch commits only if every
counter it reserved from still has the same generation; otherwise (or on any row error) its
requests run one by one, each with its own answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

import asyncpg
import orjson
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from app.booking.ledger import Claim, FlightGone, IdempotencyKeyTaken, unbookable
from app.booking.replies import publish_seat_changes
from app.booking.reservation import Hold, ReservationStrategy
from app.flights.inventory import SeatInventory, lock_seats_shared
from app.platform.batching import MicroBatcher, RunAlone
from app.platform.config import Settings
from app.platform.db import raw_connection
from app.platform.redis.client import Keys

# Batches of one step in flight at once (app/platform/batching.py: more than one keeps a step from becoming a
# convoy). Each holds one connection; the per-row fallback takes a few more.
LANES = 2
# The most connections the four steps hold at once: the process's pool is sized to include them.
CONNECTIONS = 4 * LANES + 4

# One round trip for a whole batch: the users that exist (an array, on every row) and the flights
# (NULL columns when none is found).
_READ = (
    "SELECT (SELECT coalesce(array_agg(id), '{}') FROM users WHERE id = ANY($1::uuid[])), "
    "f.id, f.flight_number, f.source, f.destination, f.departure_ts, f.arrival_ts, f.total_seats, "
    "f.available_seats, f.price, f.status "
    "FROM (SELECT 1) AS one LEFT JOIN flights f ON f.id = ANY($2::uuid[])"
)

# Keys first: a request whose key another request holds inserts no row (its key is the NULL test).
_INSERT_PENDING = """
WITH claimed AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash, response_body)
    SELECT u, k, h, b::jsonb FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS c(u, k, h, b)
    ON CONFLICT DO NOTHING
    RETURNING user_id, key
)
INSERT INTO bookings (id, user_id, flight_id, seats, status, group_id, unit_price, created_at, updated_at)
SELECT r.id, r.user_id, r.flight_id, r.seats, 'PENDING', r.group_id, r.unit_price, r.ts, r.ts
FROM unnest($5::uuid[], $6::uuid[], $7::uuid[], $8::int4[], $9::uuid[], $10::numeric[],
            $11::timestamptz[], $12::text[])
     AS r(id, user_id, flight_id, seats, group_id, unit_price, ts, key)
WHERE r.key IS NULL OR EXISTS (SELECT 1 FROM claimed c WHERE c.user_id = r.user_id AND c.key = r.key)
RETURNING id
"""
_CONFIRM = """
UPDATE bookings b SET status = 'CONFIRMED', payment_ref = u.ref, updated_at = u.ts
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS u(id, ref, ts)
WHERE b.id = u.id AND b.status = 'PENDING'
RETURNING b.id, b.user_id, b.flight_id, b.seats, b.status, b.payment_ref, b.group_id, b.unit_price,
          b.created_at, b.updated_at
"""
_RECORD = """
UPDATE idempotency_keys k SET response_status = u.s, response_body = u.b::jsonb
FROM unnest($1::uuid[], $2::text[], $3::int2[], $4::text[]) AS u(user_id, key, s, b)
WHERE k.user_id = u.user_id AND k.key = u.key
"""


class FlightWithSeats(NamedTuple):
    """A flight as booking reads it: every column, with available_seats (the booking's checks and
    its reply need them; search's flights never carry a seat count)."""

    id: uuid.UUID
    flight_number: str
    source: str
    destination: str
    departure_ts: datetime
    arrival_ts: datetime
    total_seats: int
    available_seats: int
    price: Decimal
    # SCHEDULED or CANCELLED (by the airline): a cancelled flight is not bookable.
    status: str


class BookingRow(NamedTuple):
    id: uuid.UUID
    user_id: uuid.UUID
    flight_id: uuid.UUID
    seats: int
    status: str
    payment_ref: str | None
    group_id: uuid.UUID | None
    unit_price: Decimal | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Pending:
    user_id: uuid.UUID
    booking_ids: Sequence[uuid.UUID]
    group_id: uuid.UUID | None
    flights: Sequence[FlightWithSeats]
    seats: int
    holds: Sequence[Hold]
    now: datetime
    claim: Claim | None


@dataclass(frozen=True, slots=True)
class Confirm:
    booking_ids: Sequence[uuid.UUID]
    payment_ref: str
    now: datetime


@dataclass(frozen=True, slots=True)
class Record:
    claim: Claim
    status_code: int
    body: Any


Loaded = tuple[bool, dict[uuid.UUID, FlightWithSeats]]
Confirmed = tuple[list[BookingRow], dict[uuid.UUID, int]]


class BookingStore:
    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        redis: Redis,
        keys: Keys,
        inventory: SeatInventory,
        strategy: ReservationStrategy,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.strategy = strategy
        self.redis = redis
        self.keys = keys
        self.inventory = inventory
        self.reads: MicroBatcher[tuple[uuid.UUID, Sequence[uuid.UUID]], Loaded] = MicroBatcher(
            self._read_batch, lambda item: self._read_batch_one(item), lanes=LANES
        )
        self.pending: MicroBatcher[Pending, set[uuid.UUID]] = MicroBatcher(
            self._pending_batch, self._pending_one, lanes=LANES
        )
        self.confirms: MicroBatcher[Confirm, Confirmed] = MicroBatcher(
            self._confirm_batch, lambda item: self._confirm_batch_one(item), lanes=LANES
        )
        self.records: MicroBatcher[Record, None] = MicroBatcher(
            self._record_batch, lambda item: self._record_batch_one(item)
        )

    # --- reads -------------------------------------------------------------------------------

    async def _read_batch(self, items: Sequence[tuple[uuid.UUID, Sequence[uuid.UUID]]]) -> list[Loaded]:
        user_ids = list({user_id for user_id, _ in items})
        flight_ids = list({fid for _, fids in items for fid in fids})
        async with raw_connection(self.engine) as connection:
            found = await connection.fetch(_READ, user_ids, flight_ids)
        users = set(found[0][0])
        flights = {row[1]: FlightWithSeats(*row[1:]) for row in found if row[1] is not None}
        return [
            (user_id in users, {fid: flights[fid] for fid in fids if fid in flights})
            for user_id, fids in items
        ]

    async def _read_batch_one(self, item: tuple[uuid.UUID, Sequence[uuid.UUID]]) -> Loaded:
        return (await self._read_batch([item]))[0]

    # --- PENDING -----------------------------------------------------------------------------

    async def _pending_batch(self, items: Sequence[Pending]) -> list[set[uuid.UUID] | BaseException]:
        claims = [item.claim for item in items if item.claim is not None]
        if len({(c.user_id, c.key) for c in claims}) != len(claims):
            raise RunAlone("one Idempotency-Key twice in a batch")  # whichever commits first claims it
        try:
            async with raw_connection(self.engine) as connection, connection.transaction():
                try:
                    rows = await connection.fetch(_INSERT_PENDING, *_pending_args(items))
                except asyncpg.ForeignKeyViolationError as exc:
                    raise (FlightGone() if len(items) == 1 else RunAlone("a flight is gone")) from exc
                inserted = {row[0] for row in rows}
                held = [item for item in items if item.booking_ids[0] in inserted]
                stale = await self._stale(connection, [hold for item in held for hold in item.holds])
                if stale:
                    raise _Stale(stale)
                refused = await unbookable(
                    connection,
                    [hold.flight_id for item in held for hold in item.holds],
                    self.settings.booking_cutoff_minutes,
                )
                if refused:
                    if len(items) > 1:
                        raise RunAlone("a flight is no longer bookable")
                    raise refused
        except _Stale as changed:
            if len(items) > 1:
                raise RunAlone("a counter changed generation") from None
            return [changed.flights]
        return [set() if item.booking_ids[0] in inserted else IdempotencyKeyTaken() for item in items]

    async def _pending_one(self, item: Pending) -> set[uuid.UUID]:
        outcome = (await self._pending_batch([item]))[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def _stale(self, connection: Any, holds: Sequence[Hold]) -> set[uuid.UUID]:
        """Under the shared seat locks: the flights whose counter is no longer of the hold's generation."""
        if not holds:
            return set()
        flight_ids = list({hold.flight_id for hold in holds})
        # After the insert, whose foreign key check already waits for an admin update of the flight
        # (the lock order of docs/decisions.md). A PENDING row lost in a crash only leaks seats.
        await lock_seats_shared(connection, flight_ids, durable=False)
        current = dict(zip(flight_ids, await self.inventory.generations(flight_ids), strict=True))
        return {hold.flight_id for hold in holds if current[hold.flight_id] != hold.generation}

    # --- CONFIRMED ---------------------------------------------------------------------------

    async def _confirm_batch(self, items: Sequence[Confirm]) -> list[Confirmed]:
        ids = [bid for item in items for bid in item.booking_ids]
        refs = [item.payment_ref for item in items for _ in item.booking_ids]
        stamps = [item.now for item in items for _ in item.booking_ids]
        async with raw_connection(self.engine) as connection:
            rows = {row[0]: BookingRow(*row) for row in await connection.fetch(_CONFIRM, ids, refs, stamps)}
        counts = await publish_seat_changes(
            self.redis,
            self.keys,
            self.settings.seat_updates_channel,
            self.inventory,
            sorted({row.flight_id for row in rows.values()}),
        )
        return [([rows[bid] for bid in item.booking_ids if bid in rows], counts) for item in items]

    async def _confirm_batch_one(self, item: Confirm) -> Confirmed:
        return (await self._confirm_batch([item]))[0]

    # --- Idempotency-Key answers -------------------------------------------------------------

    async def _record_batch(self, items: Sequence[Record]) -> list[None]:
        async with raw_connection(self.engine) as connection:
            await connection.execute(
                _RECORD,
                [item.claim.user_id for item in items],
                [item.claim.key for item in items],
                [item.status_code for item in items],
                [orjson.dumps(item.body).decode() for item in items],
            )
        return [None] * len(items)

    async def _record_batch_one(self, item: Record) -> None:
        await self._record_batch([item])


def _pending_args(items: Sequence[Pending]) -> list[list[Any]]:
    claims = [item.claim for item in items if item.claim is not None]
    claim_args: list[list[Any]] = [
        [c.user_id for c in claims],
        [c.key for c in claims],
        [c.fingerprint for c in claims],
        [
            orjson.dumps(
                {
                    "booking_ids": [str(i) for i in c.booking_ids],
                    "group_id": str(c.group_id) if c.group_id else None,
                }
            ).decode()
            for c in claims
        ],
    ]
    rows: list[list[Any]] = [[] for _ in range(8)]
    for item in items:
        for booking_id, flight in zip(item.booking_ids, item.flights, strict=True):
            values = (
                booking_id,
                item.user_id,
                flight.id,
                item.seats,
                item.group_id,
                flight.price,
                item.now,
                item.claim.key if item.claim else None,
            )
            for column, value in zip(rows, values, strict=True):
                column.append(value)
    return claim_args + rows


class _Stale(Exception):
    """Rolls the PENDING transaction back: these counters were rebuilt since the seats were taken."""

    def __init__(self, flights: set[uuid.UUID]) -> None:
        self.flights = flights
