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
from datetime import date
from typing import TYPE_CHECKING, Any

import orjson

from app.platform.redis.multiplex import encode
from app.search import data, render, storage
from app.search.codec import with_seats
from app.search.query import RESULTS, search

if TYPE_CHECKING:
    from app.context import AppContext

Pair = tuple[str, str]
# An itinerary's place in the merge: its order key, then (list, position) to find it again.
_Entry = tuple[tuple[int, int, int, tuple[bytes, ...]], int, int]


async def search_pairs(context: AppContext, pairs: Sequence[Pair], day: date, seats: int) -> bytes:
    """The JSON array of the best itineraries over all ``pairs`` (source, destination)."""
    if len(pairs) == 1:
        return await search(context, *pairs[0], day, seats)
    answer = await _from_index(context, pairs, day, seats)
    return answer if answer is not None else await _merged_searches(context, pairs, day, seats)


async def _from_index(context: AppContext, pairs: Sequence[Pair], day: date, seats: int) -> bytes | None:
    reads = context.search_reads
    if reads is None:  # Cluster, TLS or a Unix socket: each pair's own search
        return None
    now = time.time()
    tag = data.format_tag(context.settings).encode()
    by_origin: dict[str, list[str]] = {}
    for source, destination in pairs:
        by_origin.setdefault(source, []).append(destination)
    origins = list(by_origin)
    replies = await reads.execute_many(
        *(encode("HMGET", storage.day_key(context, o, day), storage.BUILT, *by_origin[o]) for o in origins)
    )
    blobs: list[bytes] = []
    for reply in replies:
        if reply[0] != tag:
            return None
        blobs.extend(blob for blob in reply[1:] if blob is not None and blob[2])
    if not blobs:
        return b"[]"
    merged = list(heapq.merge(*(_entries(blob, n) for n, blob in enumerate(blobs))))
    prepared = [render.prepared(blob) for blob in blobs]
    # Counters and cards of the flights of the first RESULTS merged itineraries, in one trip.
    wanted = _flights(merged[:RESULTS], prepared)
    counts, cards = await _read_flights(context, reads, wanted)
    chosen: list[tuple[int, int]] = []
    for _, n, position in merged:
        legs, departure, _tail = prepared[n][1][position]
        ids = [prepared[n][0][i] for i in legs]
        if any(i not in counts for i in ids):  # beyond the first RESULTS: read the rest once
            more = _flights(merged, prepared) - counts.keys()
            extra_counts, extra_cards = await _read_flights(context, reads, more)
            counts.update(extra_counts)
            cards.update(extra_cards)
        if departure > now and all(counts[i] is not None and int(counts[i]) >= seats for i in ids):
            chosen.append((n, position))
            if len(chosen) == RESULTS:
                break
        if position == len(prepared[n][1]) - 1 and blobs[n][0] != 1:  # the end of a cut list
            return None
    body = []
    for n, position in chosen:
        legs, _, tail = prepared[n][1][position]
        flights = []
        for i in legs:
            raw = prepared[n][0][i]
            card = cards.get(raw)
            if card is None:  # not cached (or deleted): the per-pair searches know
                return None
            flights.append(with_seats(card, int(counts[raw] or 0)))
        body.append((flights, tail))
    return render.body(body)


def _entries(blob: bytes, n: int) -> list[_Entry]:
    return [(key, n, position) for position, key in enumerate(_keys(blob))]


@functools.lru_cache(maxsize=render.PREPARED_LISTS)
def _keys(blob: bytes) -> tuple[tuple[int, int, int, tuple[bytes, ...]], ...]:
    """Each itinerary's order key (codec.order_key), from the list's flight table."""
    table = render.flight_table(blob)
    return tuple(
        (sum(table[i][3] for i in legs), table[legs[-1]][2], len(legs), tuple(table[i][0] for i in legs))
        for legs in render.itinerary_indices(blob)
    )


def _flights(entries: Sequence[_Entry], prepared: Sequence[Any]) -> set[bytes]:
    return {prepared[n][0][i] for _, n, position in entries for i in prepared[n][1][position][0]}


async def _read_flights(
    context: AppContext, reads: Any, raw_ids: set[bytes]
) -> tuple[dict[bytes, Any], dict[bytes, Any]]:
    if not raw_ids:
        return {}, {}
    ids = list(raw_ids)
    names = [_uuid_text(raw.hex()) for raw in ids]
    keys = context.keys
    seats, cards = await reads.execute_many(
        encode("MGET", *(keys.seats(name) for name in names)),
        encode("MGET", *(keys.flight_card(name) for name in names)),
    )
    counts = dict(zip(ids, seats, strict=True))
    if any(value is None for value in seats):  # a counter not loaded yet: rebuilt from PostgreSQL
        rebuilt = await context.inventory.rebuild([_uuid(raw) for raw, v in counts.items() if v is None])
        counts.update({raw: rebuilt.get(_uuid(raw), 0) for raw, v in counts.items() if v is None})
    return counts, dict(zip(ids, cards, strict=True))


async def _merged_searches(context: AppContext, pairs: Sequence[Pair], day: date, seats: int) -> bytes:
    found: list[Any] = []
    for source, destination in pairs:
        found.extend(orjson.loads(await search(context, source, destination, day, seats)))
    found.sort(key=_order)
    return orjson.dumps(found[:RESULTS])


def _order(itinerary: Any) -> tuple[int, str, int, list[str]]:
    flights = itinerary["flights"]
    return (
        sum(round(flight["price"] * 100) for flight in flights),
        itinerary["arrival_ts"],
        len(flights),
        [flight["id"] for flight in flights],
    )


def _uuid_text(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _uuid(raw: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=raw)
