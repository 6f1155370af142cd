"""Writing the search index: full rebuild, and exact re-indexing of what changed flights affect.

Every write happens under one Redis lock (``search_lock``): a rebuild and the updates of several
API processes never interleave, and each reads PostgreSQL only after taking the lock, so the last
writer always saw every committed change (see docs/search.md).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import structlog
from redis.asyncio.lock import Lock

from app.core.context import AppContext
from app.services.search import data
from app.services.search.codec import Leg, encode_card, encode_list
from app.services.search.engine import Graph, search_origin

log = structlog.get_logger()

LOCK_TIMEOUT_SECONDS = 900
_CHUNK = 200  # origin-days computed between two yields to the event loop
_background: set[asyncio.Task[None]] = set()

OriginDay = tuple[str, date]


def writer_lock(context: AppContext) -> Lock:
    return context.redis.lock(context.keys.search_lock, timeout=LOCK_TIMEOUT_SECONDS, blocking_timeout=None)


async def is_ready(context: AppContext) -> bool:
    return await context.redis.get(context.keys.search_format) == data.format_tag(context.settings).encode()


async def rebuild(context: AppContext, *, wait: bool = True) -> bool:
    """Rebuild the whole index from PostgreSQL. Returns False if another process holds the lock
    and ``wait`` is False (that process is rebuilding or updating)."""
    lock = writer_lock(context)
    if not await lock.acquire(blocking=wait):
        return False
    try:
        started = time.monotonic()
        # Readers fall back to exact computation from PostgreSQL until the new index is complete.
        await context.redis.delete(context.keys.search_format)
        zones = await data.Zones.load(context)
        cutoff = int(time.time()) - 2 * 86400
        rows = await data.fetch(context, "departure_ts >= $1", datetime.fromtimestamp(cutoff, UTC))
        await _write_cards(context, rows)
        graph, legs = data.graph_of(rows)
        days = _origin_days_of(graph, zones, range(len(graph.ids)))
        written = await _compute_and_write(context, graph, legs, zones, days)
        await _delete_other_days(context, written)
        await context.redis.set(context.keys.search_format, data.format_tag(context.settings))
        log.info(
            "search_index_rebuilt", flights=len(rows), days=len(days), seconds=time.monotonic() - started
        )
        return True
    finally:
        await lock.release()


def rebuild_in_background(context: AppContext) -> None:
    """Start a rebuild in this process unless one is running here; the lock stops other processes."""
    if any(not task.done() for task in _background):
        return

    async def run() -> None:
        try:
            await rebuild(context, wait=False)
        except Exception:  # a failed background rebuild is retried by the next cold read
            log.exception("search_rebuild_failed")

    task = asyncio.create_task(run())
    _background.add(task)
    task.add_done_callback(_background.discard)


async def reindex(
    context: AppContext, geometries: Sequence[tuple[str, int]], flight_ids: Iterable[uuid.UUID]
) -> int:
    """Re-index every origin-day whose itineraries may use a flight leaving ``source`` at ``epoch``
    (the changed flights, before and after), and refresh the changed flights' cards."""
    async with writer_lock(context):
        if not await is_ready(context):
            return 0  # no index to update: the coming rebuild reads PostgreSQL after this commit
        zones = await data.Zones.load(context)
        ids = list(flight_ids)
        current = await data.fetch(context, "id = ANY($1::uuid[])", ids)
        await _write_cards(context, current)
        gone = set(ids) - {r.id for r in current}
        if gone:
            await context.redis.delete(*(context.keys.flight_card(i) for i in gone))
        points = list(geometries) + [(r.source, r.departure) for r in current]
        if not points:
            return 0
        days = await _affected_days(context, zones, points)
        await recompute(context, zones, days)
        return len(days)


async def recompute(context: AppContext, zones: data.Zones, days: set[OriginDay]) -> None:
    """Exactly recompute and replace the given origin-days (caller holds the writer lock)."""
    if not days:
        return
    rules = data.rules_of(context.settings)
    bounds = [zones.bounds(origin, day) for origin, day in days]
    start, end = min(b[0] for b in bounds), max(b[1] for b in bounds)
    limit = await data.horizon(context, start, end, rules)
    where, args = data.window_condition(start, limit)
    graph, legs = data.graph_of(await data.fetch(context, where, *args))
    await _compute_and_write(context, graph, legs, zones, sorted(days))


async def _affected_days(
    context: AppContext, zones: data.Zones, points: Sequence[tuple[str, int]]
) -> set[OriginDay]:
    """Origin-days of every prefix (0 to max_legs-1 flights) that can connect into the points."""
    rules = data.rules_of(context.settings)
    reach = (rules.max_legs - 1) * (rules.max_layover + await data.max_duration(context))
    lo, hi = min(p[1] for p in points) - reach, max(p[1] for p in points)
    where, args = data.window_condition(lo, hi)
    graph, _ = data.graph_of(await data.fetch(context, where, *args))
    inbound: dict[int, list[int]] = {}
    for i, d in enumerate(graph.dst):
        inbound.setdefault(d, []).append(i)
    days: set[OriginDay] = set()
    frontier = set(points)
    for level in range(rules.max_legs):
        days.update((airport, zones.local_date(airport, epoch)) for airport, epoch in frontier)
        if level == rules.max_legs - 1:
            break
        previous: set[tuple[str, int]] = set()
        for airport, epoch in frontier:
            code = graph.code.get(airport)
            for i in inbound.get(code, []) if code is not None else []:
                if epoch - rules.max_layover <= graph.arr[i] <= epoch - rules.min_connection:
                    previous.add((graph.airports[graph.src[i]], graph.dep[i]))
        frontier = previous
    return days


def _origin_days_of(graph: Graph, zones: data.Zones, flights: Iterable[int]) -> list[OriginDay]:
    days = {
        (graph.airports[graph.src[i]], zones.local_date(graph.airports[graph.src[i]], graph.dep[i]))
        for i in flights
    }
    return sorted(days)


async def _compute_and_write(
    context: AppContext, graph: Graph, legs: list[Leg], zones: data.Zones, days: Sequence[OriginDay]
) -> set[str]:
    rules = data.rules_of(context.settings)
    written: set[str] = set()
    for offset in range(0, len(days), _CHUNK):
        pipe = context.redis.pipeline(transaction=False)
        for origin, day in days[offset : offset + _CHUNK]:
            key = context.keys.search_day(origin, day.isoformat())
            written.add(key)
            code = graph.code.get(origin)
            start, end = zones.bounds(origin, day)
            result = search_origin(graph, code, start, end, rules, data.DEPTH) if code is not None else None
            if result is None or not result.lists:
                pipe.delete(key)
                continue
            mapping: dict[Any, Any] = {
                graph.airports[d]: encode_list(
                    [tuple(legs[i] for i in itinerary[2]) for itinerary in found], result.complete[d]
                )
                for d, found in result.lists.items()
            }
            # Written aside and renamed: a reader sees the old hash or the new one, never a gap.
            staging = key + ":staging"
            pipe.delete(staging)
            pipe.hset(staging, mapping=mapping)
            pipe.expireat(staging, end + 2 * 86400)
            pipe.rename(staging, key)
        await pipe.execute()
        await asyncio.sleep(0)  # let requests of this process through during a long rebuild
    return written


async def _write_cards(context: AppContext, rows: Sequence[data.FlightRow]) -> None:
    for offset in range(0, len(rows), 5000):
        pipe = context.redis.pipeline(transaction=False)
        for r in rows[offset : offset + 5000]:
            card = encode_card(
                r.id,
                r.flight_number,
                r.source,
                r.destination,
                r.departure_ts,
                r.arrival_ts,
                r.total_seats,
                r.price,
            )
            pipe.set(
                context.keys.flight_card(r.id), card, ex=int(max(r.arrival - time.time(), 0)) + 3 * 86400
            )
        await pipe.execute()


async def _delete_other_days(context: AppContext, keep: set[str]) -> None:
    pattern = context.keys.search_day("*", "*")
    stale = [k async for k in context.redis.scan_iter(match=pattern, count=1000) if k.decode() not in keep]
    for offset in range(0, len(stale), 1000):
        await context.redis.delete(*stale[offset : offset + 1000])
