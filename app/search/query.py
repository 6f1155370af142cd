"""The read path: two pipelined Redis reads on a hit, exact computation from PostgreSQL otherwise.

1. ``HMGET`` of the origin-day: the pair's stored list and the day's built sentinel (one key, so
   one Cluster slot).
2. The live seat counter and the card of every flight in that list: two ``MGET`` sent together
   (one ``GET`` per key in a cluster pipeline: the keys live in different slots).
On a single Redis both go over the read path's own pipelined connection (app/platform/redis/multiplex.py).
The stored list is an exact prefix of all the pair's itineraries in order, so the first 20 that
pass the read-time filters (not departed, enough seats) are the answer; if fewer pass and the list
is not complete, or the day is not built, the pair is computed exactly instead.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from redis.asyncio.cluster import RedisCluster

from app.flights.events import FlightSnapshot
from app.platform.metrics import SEARCH_CACHE
from app.platform.redis.client import Keys
from app.platform.redis.multiplex import encode
from app.platform.redis.reads import get_many
from app.search import build, data, index, ordered, render, storage, timetable_search
from app.search.codec import FLIGHT, flight_ids, with_seats
from app.search.engine import search_origin
from app.search.filters import Filters, list_facts, sort_order
from app.search.schemas import SearchSort

if TYPE_CHECKING:
    from app.context import AppContext

RESULTS = 20
_REQUEST_DEBOUNCE_SECONDS = 2
_HIT = SEARCH_CACHE.labels(result="hit")
_MISS = SEARCH_CACHE.labels(result="miss")
_SCANNED = SEARCH_CACHE.labels(result="timetable")

# Counters or cards read with a list, by index into its flight table (None: no such key).
Fetched = dict[int, bytes | None]


async def search(
    context: AppContext, source: str, destination: str, day: date, seats: int, filters: Filters | None = None
) -> bytes:
    """The JSON array of the best itineraries, as bytes (``filters``: None for the unfiltered,
    price-sorted search)."""
    now = time.time()
    cutoff = bookable_after(context, now)
    if filters is not None:  # the stored lists keep the price order only: the timetable's scan
        answer = await timetable_search.search(
            context, [source], [destination], day, seats, cutoff, filters, RESULTS
        )
        if answer is not None:
            _SCANNED.inc()
            return answer
    tag = data.format_tag(context.settings).encode()
    built, blob, seats_of, cards_of = await _read(context, source, destination, day, tag)
    reordered = filters is not None and filters.sort != SearchSort.price
    if reordered and built == tag and blob is not None and blob[0] != 1:
        # Another order over a cut list: the stored price-order prefix says nothing about it.
        _MISS.inc()
        return await _exact(context, source, destination, day, seats, now, filters)
    if built != tag:
        _MISS.inc()
        body = await _exact(context, source, destination, day, seats, now, filters)
        if body != b"[]" or filters is not None:
            await _request(context, source, day)
        return body
    if blob is None:
        _HIT.inc()
        return b"[]"
    ids, itineraries = render.prepared(blob)
    if filters is not None:  # the stored prefix filtered keeps its order (filters.py)
        keep = filters.predicate(
            (await data.Zones.load(context)).zone(source) if filters.needs_zone else None
        )
        itineraries = tuple(
            it for it, facts in zip(itineraries, list_facts(blob), strict=True) if keep(*facts)
        )
        if reordered:  # a complete list holds every itinerary: sorted as asked, it is exact
            itineraries = tuple(itineraries[k] for k in sort_order(blob, filters, itineraries))
    counts = await _counts(context, ids, seats_of)
    bookable = {i: c >= seats for i, c in counts.items()}
    chosen: list[tuple[bytes, bytes]] = []
    for legs, departure, end in itineraries:
        if departure <= cutoff:
            continue
        try:
            passes = all(bookable[i] for i in legs)
        except KeyError:  # beyond the first 20 itineraries: read every other counter
            rest = [i for i in range(len(ids)) if i not in counts]
            counts.update(await _counts(context, ids, await _more(context, ids, rest, context.keys.seats)))
            bookable = {i: c >= seats for i, c in counts.items()}
            passes = all(bookable[i] for i in legs)
        if passes:
            chosen.append((legs, end))
            if len(chosen) == RESULTS:
                break
    if len(chosen) < RESULTS and blob[0] != 1:  # a cut list: what lies beyond it is unknown
        _MISS.inc()
        return await _exact(context, source, destination, day, seats, now, filters)
    cards = await _cards(context, ids, cards_of, {i for legs, _ in chosen for i in legs})
    if cards is None:  # a flight deleted since the list was read: answered exactly
        _MISS.inc()
        return await _exact(context, source, destination, day, seats, now, filters)
    _HIT.inc()
    shown = {i: with_seats(card, counts[i]) for i, card in cards.items()}
    return render.body([([shown[i] for i in legs], end) for legs, end in chosen])


async def _counts(context: AppContext, ids: Sequence[bytes], values: Fetched) -> dict[int, int]:
    """Live seat counters by index into ``ids``; a missing one (a bulk-imported flight not read
    yet) is rebuilt from PostgreSQL, and a flight that no longer exists has none."""
    absent = [uuid.UUID(bytes=ids[i]) for i, v in values.items() if v is None]
    rebuilt = await context.inventory.rebuild(absent) if absent else {}
    return {
        i: int(v) if v is not None else rebuilt.get(uuid.UUID(bytes=ids[i]), 0) for i, v in values.items()
    }


async def _more(
    context: AppContext, ids: Sequence[bytes], indices: list[int], key: Callable[[str], str]
) -> Fetched:
    """The values at ``key(flight)`` of the flights at ``indices``, not read with the list."""
    names = [key(_uuid_text(ids[i].hex())) for i in indices]
    values = await get_many(context.redis, context.search_reads, names)
    return dict(zip(indices, values, strict=True))


async def _cards(
    context: AppContext, ids: Sequence[bytes], fetched: Fetched, used: set[int]
) -> dict[int, bytes] | None:
    """The cards of the flights at ``used``: those not read with the list (itineraries beyond its
    first 20 answered because some were filtered out) are read now, those missing from Redis are
    read from PostgreSQL and remembered. None when a flight has no card and no row any more."""
    unfetched = [i for i in used if i not in fetched]
    if unfetched:
        fetched = {**fetched, **await _more(context, ids, unfetched, context.keys.flight_card)}
    absent = [uuid.UUID(bytes=ids[i]) for i in used if fetched[i] is None]
    loaded = await build.load_cards(context, absent) if absent else {}
    cards = {i: fetched[i] or loaded.get(uuid.UUID(bytes=ids[i])) for i in used}
    return {i: card for i, card in cards.items() if card is not None} if None not in cards.values() else None


async def _read(
    context: AppContext, source: str, destination: str, day: date, tag: bytes
) -> tuple[bytes | None, bytes | None, Fetched, Fetched]:
    """The list, then its flights' counters and cards. Not one Lua script: reading the same keys
    through Lua cost Redis ~2x the CPU of the plain commands (~270 against ~140 us per national
    search, the Lua-table round trip of 72 values), and Redis shares the machine's cores."""
    key = storage.day_key(context, source, day)
    reads = context.search_reads
    if reads is None:  # Cluster, TLS or a Unix socket
        return await _read_redis_py(context, source, destination, day, tag)
    built, blob = await reads.execute(encode("HMGET", key, storage.BUILT, destination))
    if built != tag or blob is None or not blob[2]:
        return built, blob, {}, {}
    seats_command, cards_command, likely = _flight_reads(blob, context.keys.prefix)
    seats, cards = await reads.execute_many(seats_command, cards_command)
    return built, blob, dict(zip(likely, seats, strict=True)), dict(zip(likely, cards, strict=True))


@functools.lru_cache(maxsize=render.PREPARED_LISTS)
def _flight_reads(blob: bytes, prefix: str) -> tuple[bytes, bytes, tuple[int, ...]]:
    """A list's two MGET commands, encoded once per list: the counters and the cards of the flights
    in its first 20 itineraries (the answer unless some are filtered out; at national scale ~22
    of a list's ~36 flights), with their indices."""
    keys = Keys(prefix)
    names = [_uuid_text(raw.hex()) for raw in flight_ids(blob)]
    likely = tuple(sorted({i for legs, _, _ in render.prepared(blob)[1][:RESULTS] for i in legs}))
    seats = encode("MGET", *(keys.seats(names[i]) for i in likely))
    return seats, encode("MGET", *(keys.flight_card(names[i]) for i in likely)), likely


async def _read_redis_py(
    context: AppContext, source: str, destination: str, day: date, tag: bytes
) -> tuple[bytes | None, bytes | None, Fetched, Fetched]:
    """The same reads through redis-py: the origin-day (one slot), then the flights' keys (on
    Cluster one GET each, as they live in different slots; the cluster pipeline groups them by
    node)."""
    reply: Any = await context.redis.hmget(
        storage.day_key(context, source, day), [storage.BUILT, destination]
    )
    built, blob = reply
    if built != tag or blob is None or not blob[2]:
        return built, blob, {}, {}
    names = [_uuid_text(raw.hex()) for raw in flight_ids(blob)]
    pipe = context.redis.pipeline(transaction=False)
    if isinstance(context.redis, RedisCluster):
        for name in names:
            pipe.get(context.keys.seats(name))
        for name in names:
            pipe.get(context.keys.flight_card(name))
        values = await pipe.execute()
        return built, blob, dict(enumerate(values[: len(names)])), dict(enumerate(values[len(names) :]))
    pipe.mget([context.keys.seats(name) for name in names])
    pipe.mget([context.keys.flight_card(name) for name in names])
    seats, cards = await pipe.execute()
    return built, blob, dict(enumerate(seats)), dict(enumerate(cards))


def _uuid_text(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


async def _request(context: AppContext, source: str, day: date) -> None:
    """Queue the day for the worker (a full build if there is no index at all), debounced."""
    await storage.mark_dirty(context, [(source, day)])
    if await context.redis.set(context.keys.search_requested, b"1", nx=True, ex=_REQUEST_DEBOUNCE_SECONDS):
        # Awaited, not a detached task: a task outliving its request would hold pooled connections
        # (the debounce makes this one request in 2 s pay for opening the queue's pool).
        await index.request_reindex(context, full=not await index.is_ready(context))


def bookable_after(context: AppContext, now: float) -> float:
    """Flights departing at or before this epoch are not searchable (BOOKING_CUTOFF_MINUTES)."""
    return now + context.settings.booking_cutoff_minutes * 60


async def _exact(
    context: AppContext,
    source: str,
    destination: str,
    day: date,
    seats: int,
    now: float,
    filters: Filters | None = None,
) -> bytes:
    """The pair computed exactly: by the timetable's scan (a filtered search tried it first, in
    ``search``), else from PostgreSQL and live seats (only the flights that can take part)."""
    if filters is not None:
        return await ordered.exact(
            context, source, destination, day, seats, bookable_after(context, now), filters, RESULTS
        )
    answer = await timetable_search.search(
        context, [source], [destination], day, seats, bookable_after(context, now), None, RESULTS
    )
    if answer is not None:
        return answer
    zones = await data.Zones.load(context)
    rules = data.rules_of(context.settings)
    start, end = zones.bounds(source, day)
    start = max(start, int(bookable_after(context, now)) + 1)
    if start >= end:
        return b"[]"
    limit = await data.horizon(context, start, end, rules)
    window, args = data.window_condition(start, limit)
    ends = await data.fetch(
        context, f"{window} AND (source = $3 OR destination = $4)", *args, source, destination
    )
    firsts = {r.destination for r in ends if r.source == source}
    lasts = {r.source for r in ends if r.destination == destination}
    middle: list[FlightSnapshot] = []
    if rules.max_legs >= 3 and firsts and lasts:
        middle = await data.fetch(
            context,
            f"{window} AND source = ANY($3::text[]) AND destination = ANY($4::text[])",
            *args,
            list(firsts),
            list(lasts),
        )
    rows = list({r.id: r for r in ends + middle}.values())
    live = await data.live_seats(context, [r.id for r in rows])
    rows = [r for r in rows if live.get(r.id, 0) >= seats]
    counts = {fid.bytes: n for fid, n in live.items()}
    graph, records = data.graph_of(rows)
    origin, target = graph.code.get(source), graph.code.get(destination)
    if origin is None or target is None:
        return b"[]"
    result = search_origin(graph, origin, start, end, rules, RESULTS, target=target)
    chosen = [[FLIGHT.unpack(records[i]) for i in it[2]] for it in result.lists.get(target, [])]
    by_id = {r.id.bytes: r for r in rows}
    cards = {leg[0]: build.card(by_id[leg[0]]) for legs in chosen for leg in legs}
    return render.render(chosen, counts, cards)
