"""Write-back of the Redis seat counters into flights.available_seats (the seed's 12-hourly sync).

Flights waiting for the next sync are a Redis set (``keys.seat_sync_dirty``), filled from the
seat_updates channel and by the booking service itself. A sync never copies a count Redis does not
have: missing counters are rebuilt from PostgreSQL's bookings first, and when the epoch key is gone
(Redis lost its data, and with it the dirty set) every flight is synced.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import text

from app.platform.context import ensure_epoch
from app.platform.metrics import SEAT_SYNC_DIRTY, SEAT_SYNC_LAG

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

BATCH = 1000

_WRITE_BACK = text(
    """
    UPDATE flights AS f SET available_seats = LEAST(GREATEST(v.n, 0), f.total_seats)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:counts AS int4[])) AS v(id, n)
    WHERE f.id = v.id AND f.available_seats <> LEAST(GREATEST(v.n, 0), f.total_seats)
    """
)


# Advisory lock (class, key) serialising the write-backs of several workers, until commit.
_WRITE_BACK_LOCK = text("SELECT pg_advisory_xact_lock(x'5EA8'::int, 0)")


def parse_ids(values: Sequence[str]) -> list[uuid.UUID]:
    """Flight ids from the channel or the set; anything else someone published is ignored."""
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            log.warning("seat_sync_bad_flight_id", value=value[:64])
    return ids


async def mark_dirty(context: AppContext, flight_ids: Sequence[str]) -> None:
    if flight_ids:
        await context.redis.sadd(context.keys.seat_sync_dirty, *flight_ids)


class SeatSync:
    """One write-back process; remembers the Redis epoch it last saw to notice a loss in between."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.epoch: bytes | str | None = None

    async def run_once(self) -> int:
        """Write the live counts of the dirty flights (every flight after a Redis loss); returns how many."""
        context = self.context
        created = await ensure_epoch(context)
        epoch = await context.redis.get(context.keys.epoch)
        lost = created or (self.epoch is not None and epoch != self.epoch)
        if lost:
            # The dirty set went with the data (another process may have started a new epoch already).
            log.warning("seat_sync_full", reason="Redis lost its data: syncing every flight")
            synced = await _sync_all(context)
        else:
            synced = await _sync_dirty(context)
        self.epoch = epoch
        await context.redis.set(context.keys.seat_sync_last_run, f"{time.time():.3f}")
        await refresh_metrics(context)
        return synced


async def _sync_dirty(context: AppContext) -> int:
    synced = 0
    while True:
        popped = await context.redis.spop(context.keys.seat_sync_dirty, BATCH)
        if not popped:
            return synced
        members = [m.decode() if isinstance(m, bytes) else str(m) for m in popped]
        try:
            synced += await _write(context, parse_ids(members))
        except BaseException:
            await mark_dirty(context, members)
            raise


async def _sync_all(context: AppContext) -> int:
    synced = 0
    after = uuid.UUID(int=0)
    while True:
        async with context.session_factory() as session:
            ids = list(
                (
                    await session.scalars(
                        text("SELECT id FROM flights WHERE id > :after ORDER BY id LIMIT :limit"),
                        {"after": after, "limit": BATCH},
                    )
                ).all()
            )
        if not ids:
            return synced
        synced += await _write(context, ids)
        after = ids[-1]


async def _write(context: AppContext, flight_ids: Sequence[uuid.UUID]) -> int:
    # Every worker writes back (WORKER_PROCESSES): each reads the counts only once it holds this
    # lock, so a count read earlier is never stored over one read, and stored, later.
    async with context.engine.begin() as connection:
        await connection.execute(_WRITE_BACK_LOCK)
        counts = await context.inventory.live_counts(flight_ids)
        if not counts:
            return 0
        await connection.execute(_WRITE_BACK, {"ids": list(counts), "counts": list(counts.values())})
    return len(counts)


async def refresh_metrics(context: AppContext) -> None:
    pipe = context.redis.pipeline(transaction=False)
    pipe.get(context.keys.seat_sync_last_run)
    pipe.scard(context.keys.seat_sync_dirty)
    last_run, dirty = await pipe.execute()
    if last_run is not None:
        SEAT_SYNC_LAG.set(max(time.time() - float(last_run), 0.0))
    SEAT_SYNC_DIRTY.set(int(dirty))
