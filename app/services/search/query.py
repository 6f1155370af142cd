"""The read path: two Redis round trips on a hit, exact computation from PostgreSQL otherwise.

1. ``HMGET`` of the origin-day: the pair's stored list and the day's built sentinel (one key, so
   one Cluster slot).
2. One pipeline: the live seat counter and the card of every flight in that list.
The stored list is an exact prefix of all the pair's itineraries in order, so the first 20 that
pass the read-time filters (not departed, enough seats) are the answer; if fewer pass and the list
is not complete, or the day is not built, the pair is computed exactly instead.
"""

from __future__ import annotations

import time
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from redis.asyncio.cluster import RedisCluster

from app.core.context import AppContext
from app.core.metrics import SEARCH_CACHE
from app.services.search import build, data, index, store
from app.services.search.codec import FLIGHT, Leg, decode_list, leg_of, with_seats
from app.services.search.engine import search_origin

RESULTS = 20
_REQUEST_DEBOUNCE_SECONDS = 2
_HIT = SEARCH_CACHE.labels(result="hit")
_MISS = SEARCH_CACHE.labels(result="miss")


async def search(context: AppContext, source: str, destination: str, day: date, seats: int) -> bytes:
    """The JSON array of the best itineraries, as bytes."""
    now = time.time()
    reply: Any = await context.redis.hmget(store.day_key(context, source, day), [store.BUILT, destination])
    built, blob = reply
    if built != data.format_tag(context.settings).encode():
        _MISS.inc()
        body = await _exact(context, source, destination, day, seats, now)
        if body != b"[]":
            await _request(context, source, day)
        return body
    if blob is None:
        _HIT.inc()
        return b"[]"
    stored, complete = decode_list(blob)
    raw_ids = list({r[:16]: None for it in stored for r in it})
    counts, cards = await _seats_and_cards(context, raw_ids)
    chosen: list[tuple[bytes, ...]] = []
    for it in stored:
        if FLIGHT.unpack_from(it[0])[1] > now and all(counts.get(r[:16], 0) >= seats for r in it):
            chosen.append(it)
            if len(chosen) == RESULTS:
                break
    if len(chosen) < RESULTS and not complete:
        _MISS.inc()
        return await _exact(context, source, destination, day, seats, now)
    _HIT.inc()
    if any(r[:16] not in cards for it in chosen for r in it):
        missing = list({uuid.UUID(bytes=r[:16]) for it in chosen for r in it if r[:16] not in cards})
        loaded = await _cards_from_database(context, missing)
        cards.update((k.bytes, v) for k, v in loaded.items())
        await _remember_cards(context, loaded)
    return render([tuple(leg_of(r) for r in it) for it in chosen], counts, cards)


def _uuid_text(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


async def _request(context: AppContext, source: str, day: date) -> None:
    """Queue the day for the worker (a full build if there is no index at all), debounced."""
    await store.mark_dirty(context, [(source, day)])
    if await context.redis.set(context.keys.search_requested, b"1", nx=True, ex=_REQUEST_DEBOUNCE_SECONDS):
        # Awaited, not a detached task: a task outliving its request would hold pooled connections
        # (the debounce makes this one request in 2 s pay for opening the queue's pool).
        await index.request_reindex(context, full=not await index.is_ready(context))


async def _seats_and_cards(
    context: AppContext, ids: list[bytes]
) -> tuple[dict[bytes, int], dict[bytes, bytes]]:
    names = [_uuid_text(raw.hex()) for raw in ids]
    keys = context.keys
    n = len(ids)
    pipe = context.redis.pipeline(transaction=False)
    if isinstance(context.redis, RedisCluster):
        # The keys live in different slots: one GET each (the cluster pipeline groups them by node).
        for name in names:
            pipe.get(keys.seats(name))
        for name in names:
            pipe.get(keys.flight_card(name))
        values = await pipe.execute()
    else:
        pipe.mget([keys.seats(name) for name in names])
        pipe.mget([keys.flight_card(name) for name in names])
        seats, cards_ = await pipe.execute()
        values = [*seats, *cards_]
    counts = {raw: int(v) for raw, v in zip(ids, values[:n], strict=True) if v is not None}
    cards = {raw: v for raw, v in zip(ids, values[n:], strict=True) if v is not None}
    missing = [uuid.UUID(bytes=raw) for raw in ids if raw not in counts]
    if missing:
        rebuilt = await context.inventory.rebuild(missing)
        counts.update((k.bytes, v) for k, v in rebuilt.items())
    return counts, cards


_CARD_TTL_SECONDS = 3 * 86400


async def _remember_cards(context: AppContext, loaded: dict[uuid.UUID, bytes]) -> None:
    """Write cards read from PostgreSQL back to Redis. NX: every flight change writes its card with
    a plain SET after its commit, so a card read before a change can never overwrite it."""
    pipe = context.redis.pipeline(transaction=False)
    for flight_id, body in loaded.items():
        pipe.set(context.keys.flight_card(flight_id), body, ex=_CARD_TTL_SECONDS, nx=True)
    await pipe.execute()


async def _cards_from_database(context: AppContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, bytes]:
    # The same reader and encoder as the index writes: one card format, one code path.
    return {r.id: build.card(r) for r in await data.fetch(context, "id = ANY($1::uuid[])", ids)}


async def _exact(
    context: AppContext, source: str, destination: str, day: date, seats: int, now: float
) -> bytes:
    """The pair computed from PostgreSQL and live seats: only the flights that can take part."""
    zones = await data.Zones.load(context)
    rules = data.rules_of(context.settings)
    start, end = zones.bounds(source, day)
    start = max(start, int(now) + 1)
    if start >= end:
        return b"[]"
    limit = await data.horizon(context, start, end, rules)
    window, args = data.window_condition(start, limit)
    ends = await data.fetch(
        context, f"{window} AND (source = $3 OR destination = $4)", *args, source, destination
    )
    firsts = {r.destination for r in ends if r.source == source}
    lasts = {r.source for r in ends if r.destination == destination}
    middle: list[data.FlightRow] = []
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
    graph, records = data.graph_of(rows)
    origin, target = graph.code.get(source), graph.code.get(destination)
    if origin is None or target is None:
        return b"[]"
    result = search_origin(graph, origin, start, end, rules, RESULTS, target=target)
    chosen = [tuple(leg_of(records[i]) for i in it[2]) for it in result.lists.get(target, [])]
    by_id = {r.id.bytes: r for r in rows}
    cards = {leg.id: build.card(by_id[leg.id]) for it in chosen for leg in it}
    counts = {fid.bytes: n for fid, n in live.items()}
    return render(chosen, counts, cards)


def render(itineraries: list[tuple[Leg, ...]], counts: dict[bytes, int], cards: dict[bytes, bytes]) -> bytes:
    parts: list[bytes] = []
    for legs in itineraries:
        flights = b",".join(with_seats(cards[leg.id], counts.get(leg.id, 0)) for leg in legs)
        first, last = legs[0], legs[-1]
        parts.append(
            b'{"flights":[%s],"total_price":%s,"stops":%d,"departure_ts":"%s","arrival_ts":"%s",'
            b'"duration_minutes":%d}'
            % (
                flights,
                _money(sum(leg.price for leg in legs)),
                len(legs) - 1,
                _iso(first.departure),
                _iso(last.arrival),
                (last.arrival - first.departure) // 60,
            )
        )
    return b"[" + b",".join(parts) + b"]"


def _money(cents: int) -> bytes:
    return repr(float(Decimal(cents) / 100)).encode()


def _iso(epoch: int) -> bytes:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)).encode()
