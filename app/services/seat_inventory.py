"""The live seat counter of each flight, in Redis; PostgreSQL's bookings are the truth it is rebuilt from.

A flight's counter is ``total_seats`` minus the seats of its PENDING and CONFIRMED bookings (and of
reservations whose PENDING row is being written). It is created when a flight is inserted, shifted
atomically when ``total_seats`` changes, removed when the flight is deleted, and rebuilt from
PostgreSQL whenever it is missing (Redis restarted empty, evicted, flushed).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.errors import Conflict
from app.core.redis_client import Keys
from app.models import SEAT_HOLDING_STATUSES, Booking, Flight

# KEYS[1] seat counter; ARGV[1] delta of total_seats. Refuses to drop below zero: those seats are sold.
_ADJUST_TOTAL = """
local current = redis.call('GET', KEYS[1])
if not current then return {-1, 0} end
local updated = tonumber(current) + tonumber(ARGV[1])
if updated < 0 then return {-2, tonumber(current)} end
redis.call('SET', KEYS[1], updated)
return {0, updated}
"""

# KEYS[1] seat counter; ARGV[1] total_seats. Removes the counter only if no seat is held or reserved.
_RETIRE = """
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) ~= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


class CounterMissing(Exception):
    """The flight's counter is not in Redis; call ``rebuild`` and try again."""


class SeatInventory:
    def __init__(self, redis: Redis, keys: Keys, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.redis = redis
        self.keys = keys
        self.session_factory = session_factory
        self._adjust_total = redis.register_script(_ADJUST_TOTAL)
        self._retire = redis.register_script(_RETIRE)

    async def create(self, flight_id: uuid.UUID, available: int) -> None:
        await self.redis.set(self.keys.seats(flight_id), available)

    async def create_many(self, counts: Iterable[tuple[uuid.UUID, int]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for flight_id, available in counts:
            pipe.set(self.keys.seats(flight_id), available)
        await pipe.execute()

    async def adjust_total(self, flight_id: uuid.UUID, delta: int) -> int:
        """Shift the counter by a change of total_seats; returns the new count.

        Raises Conflict when the new total would be below the seats already sold or reserved.
        """
        while True:
            status, value = await self._adjust_total(keys=[self.keys.seats(flight_id)], args=[delta])
            if status == 0:
                return int(value)
            if status == -2:
                raise Conflict("total_seats is below the seats already sold")
            await self.rebuild([flight_id])

    async def retire(self, flight_id: uuid.UUID, total_seats: int) -> bool:
        """Remove the counter of a flight about to be deleted; False if seats are reserved."""
        return bool(await self._retire(keys=[self.keys.seats(flight_id)], args=[total_seats]))

    async def drop(self, flight_id: uuid.UUID) -> None:
        await self.redis.delete(self.keys.seats(flight_id))

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

    async def rebuild(self, flight_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Recreate missing counters from PostgreSQL: total_seats minus seats held by bookings.

        SET NX: a counter another process recreated (and perhaps already decremented) wins.
        """
        held = (
            select(func.coalesce(func.sum(Booking.seats), 0))
            .where(Booking.flight_id == Flight.id, Booking.status.in_(SEAT_HOLDING_STATUSES))
            .scalar_subquery()
        )
        async with self.session_factory() as session:
            rows = (
                await session.execute(
                    select(Flight.id, Flight.total_seats - held).where(Flight.id.in_(list(flight_ids)))
                )
            ).all()
        if not rows:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for flight_id, available in rows:
            pipe.set(self.keys.seats(flight_id), max(int(available), 0), nx=True)
        for flight_id, _ in rows:
            pipe.get(self.keys.seats(flight_id))
        results = await pipe.execute()
        current = results[len(rows) :]
        return {flight_id: int(v) for (flight_id, _), v in zip(rows, current, strict=True) if v is not None}

    async def held_seats(self, session: AsyncSession, flight_id: uuid.UUID) -> int:
        result = await session.execute(
            select(func.coalesce(func.sum(Booking.seats), 0)).where(
                Booking.flight_id == flight_id, Booking.status.in_(SEAT_HOLDING_STATUSES)
            )
        )
        return int(result.scalar_one())
