"""How the search index follows flight and airport changes (subscribed to their topics in
``app.context``). See docs/search.md, "Updates".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog
from redis.exceptions import LockError

from app.models import flight_times
from app.search import build, data, incremental, index, lifetime, patch, storage, timetable

if TYPE_CHECKING:
    from app.context import AppContext
    from app.flights.events import FlightChange, FlightSnapshot

log = structlog.get_logger()

# Change sets up to this size are patched in place; larger ones (bulk batches) invalidate the
# origin-days they may touch and leave the recomputation to the worker.
SMALL_CHANGE = 20
UPDATE_LOCK_TIMEOUT_SECONDS = 10
UPDATE_LOCK_WAIT_SECONDS = 2


async def on_flights_changed(context: AppContext, changes: Sequence[FlightChange]) -> None:
    """Bring the index in line with committed flight changes (called after the commit), and
    announce them to every process's timetable first (the cheaper step, and the one searches
    check)."""

    await timetable.publish(context, {s.id for c in changes for s in (c.before, c.after) if s is not None})
    changes = [c for c in map(_as_indexed, changes) if c.before is not None or c.after is not None]
    if not changes:  # deletes of rows that were never indexed
        return
    ids = list({s.id for c in changes for s in (c.before, c.after) if s is not None})
    snapshots = [s for c in changes for s in (c.before, c.after) if s is not None]
    departures = [int(s.departure_ts.timestamp()) for s in snapshots]
    sources = {s.source for s in snapshots}
    longest = max(int((s.arrival_ts - s.departure_ts).total_seconds()) for s in snapshots)
    if len(changes) > SMALL_CHANGE:
        await _large(context, changes, departures, sources, longest)
        return
    await data.max_duration(context, at_least=longest)
    lock = context.redis.lock(
        context.keys.search_update_lock,
        timeout=UPDATE_LOCK_TIMEOUT_SECONDS,
        blocking_timeout=UPDATE_LOCK_WAIT_SECONDS,
    )
    if not await lock.acquire():
        log.warning("search_update_lock_busy_invalidating", flights=len(ids))
        current = await _cards(context, ids)
        await index.invalidate_around(
            context, departures + [int(r.departure_ts.timestamp()) for r in current], sources
        )
        return
    try:
        await _patch(context, changes, ids)
    finally:
        with contextlib.suppress(LockError):
            await lock.release()


def _as_indexed(change: FlightChange) -> FlightChange:
    """The change as the index saw it: an old version outside the time limits (a row stored before
    they existed, since updated or deleted) was never indexed, and its times may not even convert.
    A new version is a committed row, within them: the database's constraints check every write."""
    before = change.before
    if before is not None and not flight_times.allowed(before.departure_ts, before.arrival_ts):
        return change._replace(before=None)
    return change


async def _cards(context: AppContext, ids: list) -> list[FlightSnapshot]:  # type: ignore[type-arg]
    """The flights' current rows; their cards rewritten, deleted flights' cards removed."""

    current = await data.fetch(context, "id = ANY($1::uuid[])", ids)
    await _write_cards(context, ids, current)
    return current


async def _write_cards(context: AppContext, ids: list, current: list[FlightSnapshot]) -> None:  # type: ignore[type-arg]
    await build.write_cards(context, current)
    gone = set(ids) - {r.id for r in current}
    if gone:
        await context.redis.delete(*(context.keys.flight_card(i) for i in gone))


async def _large(
    context: AppContext,
    changes: Sequence[FlightChange],
    departures: list[int],
    sources: set[str],
    longest: int,
) -> None:
    """A bulk batch: the cards of updated flights rewritten from the committed snapshots (no
    PostgreSQL read), deleted flights' cards removed; an inserted flight gets no card here (the
    read path loads it from PostgreSQL on first use and writes it with SET NX, which never
    overwrites a newer card); the origin-days the batch may touch invalidated for the worker."""

    updated = [c.after for c in changes if c.before is not None and c.after is not None]
    await build.write_cards(context, updated)
    deleted = [c.before.id for c in changes if c.before is not None and c.after is None]
    if deleted:
        await context.redis.delete(*(context.keys.flight_card(i) for i in deleted))
    await index.invalidate_around(context, departures, sources, longest=longest)


async def _patch(context: AppContext, changes: Sequence[FlightChange], ids: list) -> None:  # type: ignore[type-arg]

    # Read after taking the lock: every change whose hook ran before is in this read. Round trips
    # that do not depend on each other overlap (the admin response waits for the whole hook).
    current, zones, since = await asyncio.gather(
        data.fetch(context, "id = ANY($1::uuid[])", ids),
        incremental.zones(context),
        context.neighbourhood.since(context),
    )
    old = [incremental.graph_flight(c.before) for c in changes if c.before is not None]
    new = [incremental.graph_flight(r) for r in current]
    rules = data.rules_of(context.settings)
    pool: incremental.Neighbours
    if since is None:  # the process's timetable cannot tell: PostgreSQL
        pool, _ = await asyncio.gather(
            incremental.neighbours(context, old + new, rules), _write_cards(context, ids, current)
        )
    else:
        cards = asyncio.ensure_future(_write_cards(context, ids, current))
        await asyncio.sleep(0)  # the cards' write on its way while the pool and plan are computed
        pool = since.pool(old + new, rules)
    plan = incremental.plan(old, new, pool, zones, rules)
    if since is not None:
        await cards
    stale, refill = await patch.apply(context, plan, {i.bytes for i in ids})
    if stale:
        await storage.invalidate(context, stale, {d: lifetime.day_expires_at_utc(d[1]) for d in stale})
    if refill:
        await storage.mark_dirty(context, refill)
    if stale or refill:
        await index.request_reindex(context)


async def on_airport_timezone_changed(context: AppContext, airport: str) -> None:
    """An airport's local dates moved: its origin-days are answered exactly until recomputed;
    every timetable reloads (they hold the timezones)."""

    await timetable.publish(context, None)
    await index.invalidate_airport(context, airport)


async def on_startup(context: AppContext) -> None:
    """Queue a full build in the worker if the index is missing or from another format; searches
    are answered exactly from PostgreSQL meanwhile."""

    if not await index.is_ready(context):
        log.info("search_index_missing_rebuild_queued")
        await index.request_reindex(context, full=True)
