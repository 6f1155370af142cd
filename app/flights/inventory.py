"""The live seat counter of each flight, in Redis; PostgreSQL's bookings are the truth it is rebuilt from.

A flight's counter is ``total_seats`` minus the seats of its PENDING and CONFIRMED bookings (and of
reservations whose PENDING row is being written). It is created when a flight is inserted, shifted
atomically when ``total_seats`` changes, removed when the flight is deleted, and rebuilt from
PostgreSQL whenever it is missing (Redis restarted empty, evicted, flushed).

Beside the counter lives its *generation*: a random token renewed every time the counter is
recreated from PostgreSQL. A reservation learns the generation atomically with its decrement, and
the PENDING row is committed only if the generation is unchanged, under a shared PostgreSQL
advisory lock that every rebuild takes exclusively. So a row is counted either by a rebuild or by a
decrement of the live counter, never by neither (docs/decisions.md, "Booking").
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager

import asyncpg
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from app.models import SEAT_HOLDING_STATUSES
from app.platform.errors import Conflict
from app.platform.redis.client import Keys, queue_script
from app.platform.redis.scripts import lua_source

_ADJUST_TOTAL = lua_source("app.flights", "adjust_total")
_RETIRE = lua_source("app.flights", "retire")
_INSTALL = lua_source("app.flights", "install")

# Advisory lock class (first int4 key) of the per-flight seat lock; the second key is from the id.
SEAT_LOCK_CLASS = 0x5EA7

_HELD = list(SEAT_HOLDING_STATUSES)
_AVAILABLE_FROM_BOOKINGS = text(
    """
    SELECT f.id, f.total_seats - COALESCE(
        (SELECT SUM(b.seats) FROM bookings b WHERE b.flight_id = f.id AND b.status = ANY(:held)), 0)
    FROM flights f WHERE f.id = ANY(:ids)
    """
)


# Counter shifts in flight at once when many flights change total_seats (a bulk import's batch).
SHIFT_PARALLELISM = 64


class CounterMissing(Exception):
    """The flight's counter is not in Redis; call ``rebuild`` and try again."""


def seat_lock_key(flight_id: uuid.UUID) -> int:
    return int.from_bytes(flight_id.bytes[:4], "big", signed=True)


def _lock_keys(flight_ids: Iterable[uuid.UUID]) -> list[int]:
    # Sorted, so that transactions locking several flights always lock them in the same order.
    return sorted({seat_lock_key(fid) for fid in flight_ids})


# $1 synchronous_commit for the transaction ('on' / 'off'), $2 the lock class, $3 the flights' keys.
_LOCK_SEATS_SHARED = (
    "SELECT set_config('synchronous_commit', $1, true), pg_advisory_xact_lock_shared($2, k) "
    "FROM unnest($3::int4[]) AS k"
)


async def lock_seats_shared(
    connection: AsyncConnection | asyncpg.Connection, flight_ids: Iterable[uuid.UUID], *, durable: bool = True
) -> None:
    """Block counter rebuilds of these flights until the caller's transaction ends.

    Taken by every transaction that makes seats held or free in PostgreSQL (PENDING insert, FAILED,
    CANCELLED), after its row changes and before it reads the counter generations; through
    SQLAlchemy (settling bookings) or on a raw asyncpg connection (the booking group commit).
    ``durable=False`` also lets the commit skip waiting for the WAL flush (same round trip): for a
    PENDING insert a crash can only lose the row, i.e. leak seats, and the CONFIRMED update's flush
    covers it anyway.
    """
    args = ("on" if durable else "off", SEAT_LOCK_CLASS, _lock_keys(flight_ids))
    if isinstance(connection, AsyncConnection):
        await connection.exec_driver_sql(_LOCK_SEATS_SHARED, args)
    else:
        await connection.fetch(_LOCK_SEATS_SHARED, *args)


class TotalsShift:
    """Seat counters shifted by a change of ``total_seats``, until the rows carrying them commit."""

    def __init__(self) -> None:
        self.counts: dict[uuid.UUID, int] = {}
        self.refused: dict[uuid.UUID, Conflict] = {}
        self.deltas: dict[uuid.UUID, int] = {}
        self.kept: set[uuid.UUID] = set()

    def available(self, flight_id: uuid.UUID) -> int:
        """The flight's new count, its row's ``available_seats``; raises the refusal's Conflict."""
        if flight_id in self.refused:
            raise self.refused[flight_id]
        return self.counts[flight_id]

    def keep(self, flight_ids: Iterable[uuid.UUID]) -> None:
        """These flights' rows committed with their new count: their shift stays."""
        self.kept.update(flight_ids)


class SeatInventory:
    def __init__(self, redis: Redis, keys: Keys, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.redis = redis
        self.keys = keys
        self.session_factory = session_factory
        self._adjust_total = redis.register_script(_ADJUST_TOTAL)
        self._retire = redis.register_script(_RETIRE)
        self._install = redis.register_script(_INSTALL)

    async def create(self, flight_id: uuid.UUID, available: int) -> None:
        await self.redis.set(self.keys.seats(flight_id), available)

    async def adjust_total(self, flight_id: uuid.UUID, delta: int) -> int:
        """Shift the counter by a change of total_seats; returns the new count.

        Called while the caller holds the flight row FOR UPDATE (admin update), so a missing counter
        is rebuilt without waiting for that row lock. Raises Conflict when the new total would be
        below the seats already sold or reserved.
        """
        while True:
            status, value = await self._adjust_total(keys=[self.keys.seats(flight_id)], args=[delta])
            if status == 0:
                return int(value)
            if status == -2:
                raise Conflict("total_seats is below the seats already sold")
            if not await self.rebuild([flight_id], caller_holds_row_lock=True):
                raise Conflict("The flight no longer exists")

    @asynccontextmanager
    async def shift_totals(self, deltas: Mapping[uuid.UUID, int]) -> AsyncIterator[TotalsShift]:
        """The rule for a change of ``total_seats``, the admin PUT's and the bulk import's.

        Redis first: each counter is shifted by its flight's change of total (it also counts
        reservations whose PENDING row is not written yet), refusing to go below the seats held;
        the row then takes the new count as ``available_seats``. The block writes the rows and
        ``keep``s those committed; every other shift is undone when the block ends or raises.
        """
        shift = TotalsShift()
        try:
            items = list(deltas.items())
            for start in range(0, len(items), SHIFT_PARALLELISM):
                part = items[start : start + SHIFT_PARALLELISM]
                outcomes = await asyncio.gather(
                    *(self.adjust_total(fid, delta) for fid, delta in part), return_exceptions=True
                )
                failure: BaseException | None = None
                for (fid, delta), outcome in zip(part, outcomes, strict=True):
                    if isinstance(outcome, Conflict):
                        shift.refused[fid] = outcome
                    elif isinstance(outcome, BaseException):
                        failure = failure or outcome
                    else:
                        shift.counts[fid] = outcome
                        shift.deltas[fid] = delta
                if failure is not None:
                    raise failure
            yield shift
        finally:
            for fid, delta in shift.deltas.items():
                if fid not in shift.kept and delta:
                    await self.adjust_total(fid, -delta)

    async def retire(self, flight_id: uuid.UUID, total_seats: int) -> bool:
        """Remove the counter of a flight about to be deleted; False if seats are reserved."""
        keys = [self.keys.seats(flight_id), self.keys.seat_generation(flight_id)]
        return bool(await self._retire(keys=keys, args=[total_seats]))

    async def drop(self, flight_id: uuid.UUID) -> None:
        await self.redis.delete(self.keys.seats(flight_id), self.keys.seat_generation(flight_id))

    async def live_counts(self, flight_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Live seat counts, rebuilding any that Redis lost. Unknown flights are left out."""
        if not flight_ids:
            return {}
        # A pipeline of GETs rather than MGET: the keys live in different cluster slots.
        pipe = self.redis.pipeline(transaction=False)
        for flight_id in flight_ids:
            pipe.get(self.keys.seats(flight_id))
        values = await pipe.execute()
        counts = {fid: int(v) for fid, v in zip(flight_ids, values, strict=True) if v is not None}
        missing = [fid for fid in flight_ids if fid not in counts]
        if missing:
            counts.update(await self.rebuild(missing))
        return counts

    async def generations(self, flight_ids: Sequence[uuid.UUID]) -> list[bytes | None]:
        pipe = self.redis.pipeline(transaction=False)
        for flight_id in flight_ids:
            pipe.get(self.keys.seat_generation(flight_id))
        return list(await pipe.execute())

    async def rebuild(
        self, flight_ids: Sequence[uuid.UUID], *, caller_holds_row_lock: bool = False
    ) -> dict[uuid.UUID, int]:
        """Recreate missing counters from PostgreSQL: total_seats minus seats held by bookings.

        SET NX: a counter another process recreated (and perhaps already decremented) wins.
        """
        return await self._recount(flight_ids, mode="nx", lock_rows=not caller_holds_row_lock)

    async def reconcile(self, flight_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Overwrite counters with PostgreSQL's truth and a new generation.

        Safe at any moment: reservations decremented from the old counter but not yet committed see
        the generation change and try again. Used to recover seats leaked by a crash between a
        reservation and its PENDING row, and after Redis restarted with stale data.
        """
        return await self._recount(flight_ids, mode="force", lock_rows=True)

    async def _recount(
        self, flight_ids: Sequence[uuid.UUID], *, mode: str, lock_rows: bool
    ) -> dict[uuid.UUID, int]:
        ids = sorted(set(flight_ids))
        if not ids:
            return {}
        async with self.session_factory() as session, session.begin():
            if lock_rows:
                # Waits for an admin update of total_seats to commit, so the count uses the new total.
                # Taken before the advisory lock: the admin update rebuilds under its own row lock.
                await session.execute(
                    text("SELECT id FROM flights WHERE id = ANY(:ids) ORDER BY id FOR SHARE"), {"ids": ids}
                )
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:cls, k) FROM unnest(CAST(:keys AS int4[])) AS k"),
                {"cls": SEAT_LOCK_CLASS, "keys": _lock_keys(ids)},
            )
            rows = (await session.execute(_AVAILABLE_FROM_BOOKINGS, {"ids": ids, "held": _HELD})).all()
            if not rows:
                return {}
            pipe = self.redis.pipeline(transaction=False)
            for flight_id, available in rows:
                await queue_script(
                    pipe,
                    self._install,
                    [self.keys.seats(flight_id), self.keys.seat_generation(flight_id)],
                    [max(int(available), 0), secrets.token_hex(8), mode],
                )
            current = await pipe.execute()
            # The Redis writes happen before the commit releases the advisory lock: see the module doc.
        return {flight_id: int(v) for (flight_id, _), v in zip(rows, current, strict=True) if v is not None}

    async def expected_counts(
        self, session: AsyncSession, flight_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """PostgreSQL's view of each flight's available seats: total_seats minus held seats."""
        rows = (
            await session.execute(_AVAILABLE_FROM_BOOKINGS, {"ids": list(flight_ids), "held": _HELD})
        ).all()
        return {flight_id: int(available) for flight_id, available in rows}

    async def held_seats(self, session: AsyncSession, flight_id: uuid.UUID) -> int:
        result = await session.execute(
            text(
                "SELECT COALESCE(SUM(seats), 0) FROM bookings WHERE flight_id = :id AND status = ANY(:held)"
            ),
            {"id": flight_id, "held": _HELD},
        )
        return int(result.scalar_one())
