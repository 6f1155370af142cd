"""The read path: two Redis round trips on a hit, exact computation from PostgreSQL otherwise.

1. One pipeline: the index format tag and the pair's stored list (hash field of the origin-day).
2. One pipeline: the live seat counter and the card of every flight in that list.
The stored list is an exact prefix of all the pair's itineraries in order, so the first 20 that
pass the read-time filters (not departed, enough seats) are the answer; if fewer pass and the list
is not complete, the pair is computed exactly instead.
"""

from __future__ import annotations

import time
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.core.context import AppContext
from app.core.metrics import SEARCH_CACHE
from app.models import Flight
from app.services.search import data, index
from app.services.search.codec import Leg, StoredItinerary, decode_list, encode_card, with_seats
from app.services.search.engine import search_origin

RESULTS = 20


async def search(context: AppContext, source: str, destination: str, day: date, seats: int) -> bytes:
    """The JSON array of the best itineraries, as bytes."""
    now = time.time()
    pipe = context.redis.pipeline(transaction=False)
    pipe.get(context.keys.search_format)
    pipe.hget(context.keys.search_day(source, day.isoformat()), destination)
    tag, blob = await pipe.execute()
    if tag != data.format_tag(context.settings).encode():
        index.rebuild_in_background(context)
        SEARCH_CACHE.labels(result="miss").inc()
        return await _exact(context, source, destination, day, seats, now)
    if blob is None:
        SEARCH_CACHE.labels(result="hit").inc()
        return b"[]"
    stored, complete = decode_list(blob)
    ids = list({leg.id: None for it in stored for leg in it.legs})
    counts, cards = await _seats_and_cards(context, ids)
    chosen = [
        it
        for it in stored
        if it.legs[0].departure > now and all(counts.get(leg.id, 0) >= seats for leg in it.legs)
    ][:RESULTS]
    if len(chosen) < RESULTS and not complete:
        SEARCH_CACHE.labels(result="miss").inc()
        return await _exact(context, source, destination, day, seats, now)
    SEARCH_CACHE.labels(result="hit").inc()
    if any(leg.id not in cards for it in chosen for leg in it.legs):
        cards.update(await _cards_from_database(context, [leg.id for it in chosen for leg in it.legs]))
    return render(chosen, counts, cards)


async def _seats_and_cards(
    context: AppContext, ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, bytes]]:
    pipe = context.redis.pipeline(transaction=False)
    for fid in ids:
        pipe.get(context.keys.seats(fid))
    for fid in ids:
        pipe.get(context.keys.flight_card(fid))
    values = await pipe.execute()
    counts = {fid: int(v) for fid, v in zip(ids, values[: len(ids)], strict=True) if v is not None}
    cards = {fid: v for fid, v in zip(ids, values[len(ids) :], strict=True) if v is not None}
    missing = [fid for fid in ids if fid not in counts]
    if missing:
        counts.update(await context.inventory.rebuild(missing))
    return counts, cards


async def _cards_from_database(context: AppContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, bytes]:
    async with context.session_factory() as session:
        flights = (await session.scalars(select(Flight).where(Flight.id.in_(ids)))).all()
    return {
        f.id: encode_card(
            f.id,
            f.flight_number,
            f.source,
            f.destination,
            f.departure_ts,
            f.arrival_ts,
            f.total_seats,
            f.price,
        )
        for f in flights
    }


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
    counts = await data.live_seats(context, [r.id for r in rows])
    rows = [r for r in rows if counts.get(r.id, 0) >= seats]
    graph, legs = data.graph_of(rows)
    origin, target = graph.code.get(source), graph.code.get(destination)
    if origin is None or target is None:
        return b"[]"
    result = search_origin(graph, origin, start, end, rules, RESULTS, target=target)
    chosen = [StoredItinerary(tuple(legs[i] for i in it[2])) for it in result.lists.get(target, [])]
    by_id = {r.id: r for r in rows}
    cards = {
        fid: encode_card(
            fid,
            r.flight_number,
            r.source,
            r.destination,
            r.departure_ts,
            r.arrival_ts,
            r.total_seats,
            r.price,
        )
        for fid, r in ((leg.id, by_id[leg.id]) for it in chosen for leg in it.legs)
    }
    return render(chosen, counts, cards)


def render(
    itineraries: list[StoredItinerary], counts: dict[uuid.UUID, int], cards: dict[uuid.UUID, bytes]
) -> bytes:
    parts: list[bytes] = []
    for it in itineraries:
        flights = b",".join(with_seats(cards[leg.id], counts.get(leg.id, 0)) for leg in it.legs)
        first: Leg = it.legs[0]
        last: Leg = it.legs[-1]
        parts.append(
            b'{"flights":[%s],"total_price":%s,"stops":%d,"departure_ts":"%s","arrival_ts":"%s",'
            b'"duration_minutes":%d}'
            % (
                flights,
                _money(it.price),
                len(it.legs) - 1,
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
