"""Search between sets of airports (a city, or an airport and a city): the exact top 20 over every
pair, merged at read time from the per-airport lists the index already keeps.

One pipelined round trip reads every origin-day's lists (one ``HMGET`` per origin), a second the
counters and cards of the flights of the first 20 merged itineraries, as a one-pair search does.
Lists are merged in the index's order (``codec.order_key``: price, final arrival, legs, ids). A
stored list is an exact prefix of its pair's itineraries; past the end of a cut list nothing is
known, so when the merge reaches it before 20 itineraries pass the filters (or a day is not built,
or a card is missing) the answer is the merge of each pair's own exact search instead: the top 20
over all pairs lie within the union of each pair's top 20.
"""

from __future__ import annotations

import functools
import heapq
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import orjson

from app.platform.redis.client import Keys
from app.platform.redis.multiplex import encode
from app.search import data, render, storage, timetable_search
from app.search.codec import with_seats
from app.search.filters import Facts, Filters
from app.search.query import RESULTS, bookable_after, search

if TYPE_CHECKING:
    from app.context import AppContext

Pair = tuple[str, str]
# An itinerary's place in the merge: its order key, then (list, position) to find it again.
_Entry = tuple[tuple[int, int, int, tuple[bytes, ...]], int, int]


async def search_pairs(
    context: AppContext, pairs: Sequence[Pair], day: date, seats: int, filters: Filters | None = None
) -> bytes:
    """The JSON array of the best itineraries over all ``pairs`` (source, destination). Filtered or
    sorted otherwise than by price: each pair's own exact answer, merged in the filters' order (the
    first 20 of the union lie within the union of each pair's first 20, for any total order)."""
    if len(pairs) == 1:
        return await search(context, *pairs[0], day, seats, filters)
    answer = None if filters is not None else await _from_index(context, pairs, day, seats)
    if answer is None:
        # All pairs in one scan of the timetable (the pairs are every source to every destination).
        cutoff = bookable_after(context, time.time())
        sources, destinations = sorted({s for s, _ in pairs}), sorted({d for _, d in pairs})
        answer = await timetable_search.search(
            context, sources, destinations, day, seats, cutoff, filters, RESULTS
        )
    return answer if answer is not None else await _merged_searches(context, pairs, day, seats, filters)


async def _from_index(context: AppContext, pairs: Sequence[Pair], day: date, seats: int) -> bytes | None:
    reads = context.search_reads
    if reads is None:  # Cluster, TLS or a Unix socket: each pair's own search
        return None
    cutoff = bookable_after(context, time.time())
    tag = data.format_tag(context.settings).encode()
    by_origin: dict[str, list[str]] = {}
    for source, destination in pairs:
        by_origin.setdefault(source, []).append(destination)
    replies = await reads.execute_many(
        *(
            encode("HMGET", storage.day_key(context, o, day), storage.BUILT, *ds)
            for o, ds in by_origin.items()
        )
    )
    blobs: list[bytes] = []
    for reply in replies:
        if reply[0] != tag:
            return None
        blobs.extend(blob for blob in reply[1:] if blob is not None and blob[2])
    if not blobs:
        return b"[]"
    plan = _plan(tuple(blobs), context.keys.prefix)
    seats_of, cards_of = await reads.execute_many(plan.seats_command, plan.cards_command)
    counts = dict(zip(plan.likely, seats_of, strict=True))
    cards = dict(zip(plan.likely, cards_of, strict=True))
    chosen: list[tuple[tuple[bytes, ...], bytes]] = []
    for ids, departure, tail in plan.entries:
        if departure <= cutoff:
            continue
        if any(i not in counts for i in ids):  # beyond the first RESULTS: read the rest once
            rest = list({i for entry in plan.entries for i in entry[0]} - counts.keys())
            more_seats, more_cards = await _read_flights(context, reads, rest)
            counts.update(more_seats)
            cards.update(more_cards)
        if any(counts[i] is None for i in ids):
            return None  # a counter not loaded yet: the per-pair searches rebuild it
        if all(int(counts[i]) >= seats for i in ids):
            chosen.append((ids, tail))
            if len(chosen) == RESULTS:
                break
    if len(chosen) < RESULTS and not plan.complete:  # the merge ran past the end of a cut list
        return None
    body = []
    for ids, tail in chosen:
        if any(cards.get(i) is None for i in ids):  # a card not cached (or a flight deleted)
            return None
        body.append(([with_seats(cards[i], int(counts[i])) for i in ids], tail))
    return render.body(body)


@dataclass(frozen=True, slots=True)
class _Plan:
    """The merge of some stored lists, worked out once per distinct set of lists."""

    # In the index's order: each itinerary's flight ids, first departure and JSON tail, up to
    # the end of the first cut list to run out (past it the order is not known).
    entries: tuple[tuple[tuple[bytes, ...], int, bytes], ...]
    complete: bool  # no cut list ran out: the entries are every itinerary of every pair
    likely: tuple[bytes, ...]  # the flights of the first RESULTS entries
    seats_command: bytes
    cards_command: bytes


@functools.lru_cache(maxsize=render.PREPARED_LISTS)
def _plan(blobs: tuple[bytes, ...], prefix: str) -> _Plan:
    merged: list[_Entry] = list(heapq.merge(*(_entries(blob, n) for n, blob in enumerate(blobs))))
    prepared = [render.prepared(blob) for blob in blobs]
    last = {n: len(prepared[n][1]) - 1 for n, blob in enumerate(blobs) if blob[0] != 1}
    entries = []
    complete = True
    for _, n, position in merged:
        legs, departure, tail = prepared[n][1][position]
        entries.append((tuple(prepared[n][0][i] for i in legs), departure, tail))
        if last.get(n) == position:
            complete = False
            break
    likely = tuple(dict.fromkeys(i for ids, _, _ in entries[:RESULTS] for i in ids))
    keys = Keys(prefix)
    names = [_uuid_text(raw.hex()) for raw in likely]
    return _Plan(
        tuple(entries),
        complete,
        likely,
        encode("MGET", *(keys.seats(name) for name in names)),
        encode("MGET", *(keys.flight_card(name) for name in names)),
    )


def _entries(blob: bytes, n: int) -> list[_Entry]:
    return [(key, n, position) for position, key in enumerate(_keys(blob))]


def _keys(blob: bytes) -> tuple[tuple[int, int, int, tuple[bytes, ...]], ...]:
    """Each itinerary's order key (codec.order_key), from the list's flight table."""
    table = render.flight_table(blob)
    return tuple(
        (sum(table[i][3] for i in legs), table[legs[-1]][2], len(legs), tuple(table[i][0] for i in legs))
        for legs in render.itinerary_indices(blob)
    )


async def _read_flights(
    context: AppContext, reads: Any, raw_ids: list[bytes]
) -> tuple[dict[bytes, Any], dict[bytes, Any]]:
    if not raw_ids:
        return {}, {}
    names = [_uuid_text(raw.hex()) for raw in raw_ids]
    keys = context.keys
    seats, cards = await reads.execute_many(
        encode("MGET", *(keys.seats(name) for name in names)),
        encode("MGET", *(keys.flight_card(name) for name in names)),
    )
    return dict(zip(raw_ids, seats, strict=True)), dict(zip(raw_ids, cards, strict=True))


async def _merged_searches(
    context: AppContext, pairs: Sequence[Pair], day: date, seats: int, filters: Filters | None = None
) -> bytes:
    found: list[Any] = []
    for source, destination in pairs:
        found.extend(orjson.loads(await search(context, source, destination, day, seats, filters)))
    order = filters if filters is not None else Filters()
    found.sort(key=lambda itinerary: order.key(_facts(itinerary)))
    return orjson.dumps(found[:RESULTS])


def _facts(itinerary: Any) -> Facts:
    """An answered itinerary's price, times and ids, as the order keys take them (raw ids compare
    as their canonical strings do)."""
    flights = itinerary["flights"]
    return (
        sum(round(flight["price"] * 100) for flight in flights),
        _epoch(itinerary["departure_ts"]),
        _epoch(itinerary["arrival_ts"]),
        tuple(uuid.UUID(flight["id"]).bytes for flight in flights),
    )


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _uuid_text(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
