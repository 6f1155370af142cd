"""Keeping the search index: full rebuild, invalidation, and the worker's reindex of dirty days.

No writer holds a lock while it updates origin-days: each write is conditional on the day's
generation (see storage.py). The only lock is the rebuild's (a short-TTL redis-py Lock renewed while
the rebuild runs, so a killed holder blocks nobody for more than its TTL); it only keeps two full
rebuilds from running at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from app.search import build, data, lifetime, storage, timetable
from app.search.storage import OriginDay

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

# The index jobs (run by tasks.py) share the job queue in a queue of their own.
REINDEX_TASK = "search_reindex"
REBUILD_TASK = "search_rebuild"
QUEUE = "search"

LOCK_TIMEOUT_SECONDS = 20
_RENEW_SECONDS = 5
_DIRTY_BATCH = 20_000
_PASSES = 5


async def is_ready(context: AppContext) -> bool:
    """A full build under the current format and rules has completed (since Redis last lost it)."""
    return await context.redis.get(context.keys.search_format) == data.format_tag(context.settings).encode()


@contextlib.asynccontextmanager
async def rebuild_lock(context: AppContext, *, wait: bool) -> AsyncIterator[bool]:
    lock: Lock = context.redis.lock(
        context.keys.search_lock, timeout=LOCK_TIMEOUT_SECONDS, blocking_timeout=None if wait else 0
    )
    if not await lock.acquire(blocking=wait):
        yield False
        return

    # Stopped by an event, not by cancelling it: a cancellation delivered while redis-py was inside
    # reacquire() was sometimes swallowed, and the renewal (and its process) then ran for ever.
    stop = asyncio.Event()

    async def renew() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _RENEW_SECONDS)
                return
            await lock.reacquire()

    renewing = asyncio.create_task(renew())
    try:
        yield True
    finally:
        stop.set()
        # LockError: the lock was lost while this process stalled; a stuck reacquire gives up here.
        with contextlib.suppress(TimeoutError, asyncio.CancelledError, LockError):
            await asyncio.wait_for(renewing, LOCK_TIMEOUT_SECONDS)
        with contextlib.suppress(LockError):  # expired while this process was stalled
            await lock.release()


async def rebuild(context: AppContext, *, wait: bool = True) -> bool:
    """Rebuild every origin-day from PostgreSQL. Returns False when another rebuild runs and
    ``wait`` is False. Searches stay exact meanwhile: a day not yet rewritten under the current
    format is answered from PostgreSQL, and a change committed during the rebuild either reached
    the day's generation first (the rebuild skips that day and queues it) or comes after it."""
    async with rebuild_lock(context, wait=wait) as acquired:
        if not acquired:
            return False
        started = time.monotonic()
        zones = await data.Zones.load(context)
        # A minute back: a transaction's updated_at is its start, which may precede this read.
        snapshot_at = datetime.now(UTC) - timedelta(minutes=1)
        rows = await data.fetch(context, "departure_ts >= $1", lifetime.oldest_departure())
        loaded = time.monotonic()
        days = build.all_days(rows, zones)
        # The cards are written while the build processes compute (this process is idle then).
        # build_days blocks this event loop for seconds (graph build, the compiled engine's
        # warm-up): a card write in flight then may time out, and is sent again (see write_cards).
        _, failed = await asyncio.gather(
            build.write_cards(context, rows, retries=3), build.build_days(context, days, rows=rows)
        )
        # A flight changed while this ran had its card written after its commit, and this
        # rebuild's card from the older read may have landed after that: write those again.
        changed = await data.fetch(
            context, "departure_ts >= $1 AND updated_at >= $2", lifetime.oldest_departure(), snapshot_at
        )
        await build.write_cards(context, changed, retries=3)
        if failed:
            await storage.mark_dirty(context, failed)
            await request_reindex(context)
        await context.redis.set(context.keys.search_format, data.format_tag(context.settings))
        # A rebuild is also the operator's way to make every process re-read PostgreSQL after
        # changes made behind the application's back.
        await timetable.publish(context, None)
        log.info(
            "search_index_rebuilt",
            flights=len(rows),
            days=len(days),
            skipped=len(failed),
            seconds=round(time.monotonic() - started, 1),
            load_seconds=round(loaded - started, 1),
        )
        return True


async def reindex_dirty(context: AppContext) -> int:
    """Recompute the queued origin-days (the worker's job). Returns how many were written."""
    written = 0
    for _ in range(_PASSES):
        days = await storage.take_dirty(context, _DIRTY_BATCH)
        if not days:
            return written
        try:
            failed = await build.build_days(context, days)
        except BaseException:
            # Back to the dirty set, for the job queued again (tasks._again).
            with contextlib.suppress(Exception):
                await storage.mark_dirty(context, days)
            raise
        written += len(days) - len(failed)
        await storage.mark_dirty(context, failed)
    if await context.redis.scard(context.keys.search_dirty):
        await request_reindex(context)  # changes keep coming: continue in a fresh job
    return written


async def invalidate_around(
    context: AppContext, departures: Iterable[int], sources: Iterable[str], *, longest: int = 0
) -> int:
    """Invalidate every origin-day whose itineraries may use a flight departing at one of
    ``departures``: every indexed origin, local dates from ``reach`` before the earliest to the
    latest (a day wider each side for timezones), and queue them for the worker."""
    epochs = list(departures)
    if not epochs:
        return 0
    rules = data.rules_of(context.settings)
    reach = (rules.max_legs - 1) * (rules.max_layover + await data.max_duration(context, at_least=longest))
    first = datetime.fromtimestamp(min(epochs) - reach, UTC).date() - timedelta(days=1)
    last = datetime.fromtimestamp(max(epochs), UTC).date() + timedelta(days=1)
    members: Any = await context.redis.smembers(context.keys.search_origins)
    origins = {o.decode() for o in members}
    origins.update(sources)
    days: list[OriginDay] = []
    expire_at: dict[OriginDay, int] = {}
    for origin in origins:
        day = first
        while day <= last:
            days.append((origin, day))
            expire_at[origin, day] = lifetime.day_expires_at_utc(day)
            day += timedelta(days=1)
    count = await storage.invalidate(context, days, expire_at)
    await request_reindex(context)
    return count


async def invalidate_airport(context: AppContext, airport: str) -> None:
    """The airport's local dates moved: every day of it, old and new dates, is recomputed."""
    zones = await data.Zones.load(context)
    rows = await data.fetch(
        context, "source = $1 AND departure_ts >= $2", airport, lifetime.oldest_departure()
    )
    days = {(airport, zones.local_date(airport, int(r.departure_ts.timestamp()))) for r in rows}
    pattern = context.keys.search_day(airport, "*")
    async for key in context.redis.scan_iter(match=pattern, count=1000):
        days.add((airport, date.fromisoformat(key.decode().rsplit(":", 1)[1])))
    await storage.invalidate(context, days, {d: lifetime.day_expires_at_utc(d[1]) for d in days})
    await request_reindex(context)


async def request_reindex(context: AppContext, *, full: bool = False) -> None:
    """Queue the worker's reindex (debounced by the job queue: one waiting job at most)."""
    name = REBUILD_TASK if full else REINDEX_TASK
    try:
        await context.jobs.defer(name, queueing_lock=name)
    except Exception:  # the queue is down: the days stay dirty and exact; the next request retries
        log.exception("search_reindex_not_queued")
