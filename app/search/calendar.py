"""The month price calendar: per day, exactly the first result /search gives for it.

Reads: one pipelined batch of ``HMGET`` (one per origin-day of the month: the pairs' stored lists
and the built tag), then one ``MGET`` of the live seat counters of the flights of each day's first
few itineraries past the booking cut-off. Per day, the pairs' lists are merged in the price order
(an exact prefix of all the day's itineraries, cities.py); the first itinerary past the cut-off
whose counters all hold ``seats`` is /search's first result, since /search takes the first 20
that pass the same tests in the same order. A day is computed by /search itself (exact, and the
reindex queued as /search does) when it cannot be decided from those reads: a day not built, a
counter missing, every read candidate filtered out of a cut list, or more candidates needed than
were read; of those, a day without any departure from the origins after the cut-off (one query for
all of them, over a UTC window holding the local day anywhere) is null without a search. A day
that ended before the cut-off has no result without any read.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from app.platform.errors import Invalid
from app.platform.redis.reads import get_many, hmget_many
from app.search import data, render, storage, timetable_search
from app.search.cities import Pair, search_pairs
from app.search.query import bookable_after
from app.search.render import flight_table, itinerary_indices

if TYPE_CHECKING:
    from app.context import AppContext

# Cities expand to every pair of their airports: the month's reads grow with the origins.
MAX_PAIRS = 64
# Candidates per day whose counters are read in the one MGET (sold-out first results are rare).
_READ_AHEAD = 3

# A day's first candidates past the cut-off: (price in cents, legs, first departure, raw flight
# ids) in the price order; whether no candidate lies beyond them, and whether they are then all
# the day's itineraries (no cut list ran out).
Candidates = tuple[list[tuple[int, int, int, tuple[bytes, ...]]], bool, bool]


async def calendar(context: AppContext, pairs: Sequence[Pair], days: Sequence[date], seats: int) -> bytes:
    """The JSON array of ``{"date", "min_price", "stops"}``, one per day."""
    if len(pairs) > MAX_PAIRS:
        raise Invalid(f"source and destination cover more than {MAX_PAIRS} airport pairs")
    cutoff = bookable_after(context, datetime.now(UTC).timestamp())
    scanned = await timetable_search.first_prices(
        context, sorted({s for s, _ in pairs}), sorted({d for _, d in pairs}), days, seats, cutoff, _json
    )
    if scanned is not None:
        return scanned
    tag = data.format_tag(context.settings).encode()
    by_origin: dict[str, list[str]] = {}
    for source, destination in pairs:
        by_origin.setdefault(source, []).append(destination)
    live = [day for day in days if _may_fly(day, cutoff)]
    keys = [(day, origin) for day in live for origin in by_origin]
    replies = await _hmgets(context, [(storage.day_key(context, o, day), by_origin[o]) for day, o in keys])
    blobs: dict[date, list[bytes] | None] = {day: [] for day in live}
    for (day, _), reply in zip(keys, replies, strict=True):
        found = blobs[day]
        if reply[0] != tag or found is None:
            blobs[day] = None
        else:
            found.extend(blob for blob in reply[1:] if blob is not None and blob[2])
    candidates = {day: _candidates(b, cutoff) for day, b in blobs.items() if b is not None}
    wanted: dict[bytes, None] = {}
    for head, _, _ in candidates.values():
        for entry in head:
            wanted.update(dict.fromkeys(entry[3]))
    counts = dict(zip(wanted, await _counters(context, list(wanted)), strict=True))
    answers: dict[date, tuple[int, int] | None] = {}
    undecided: list[date] = []
    for day in days:
        decided, answer = (
            _first(candidates[day], counts, cutoff, seats) if day in candidates else (day not in blobs, None)
        )
        answers[day] = answer
        if not decided:
            undecided.append(day)
    for day in await _with_departures(context, list(by_origin), undecided, cutoff):
        answers[day] = await _searched(context, pairs, day, seats)
    return _json(answers)


def _json(answers: dict[date, tuple[int, int] | None]) -> bytes:
    """The days as JSON, written directly (orjson on 30 dicts cost a tenth of a calendar):
    ``render.money`` spells the price as the search's answer does."""
    return (
        b"["
        + b",".join(
            b'{"date":"%s","min_price":%s,"stops":%s}'
            % (
                _day_text(day),
                b"null" if answer is None else render.money(answer[0]),
                b"null" if answer is None else b"%d" % answer[1],
            )
            for day, answer in answers.items()
        )
        + b"]"
    )


@functools.lru_cache(maxsize=4096)
def _day_text(day: date) -> bytes:
    return day.isoformat().encode()


def _may_fly(day: date, cutoff: float) -> bool:
    """False when every local version of ``day`` (UTC-12 to UTC+14) ended by the cut-off."""
    latest_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=12
    )
    return latest_end.timestamp() > cutoff


def _first(
    day: Candidates, counts: dict[bytes, Any], cutoff: float, seats: int
) -> tuple[bool, tuple[int, int] | None]:
    """Whether the reads decide the day, and its first result (cents, stops; None: none)."""
    head, ended, complete = day
    for cents, legs, _, ids in head:
        if any(counts[i] is None for i in ids):
            return False, None  # a counter /search must rebuild
        if all(int(counts[i]) >= seats for i in ids):
            return True, (cents, legs - 1)
    return ended and complete, None


def _candidates(blobs: list[bytes], cutoff: float) -> Candidates:
    """The lists merged lazily in the price order (decoding only as far as needed), up to
    ``_READ_AHEAD`` itineraries past the cut-off or the end of the first cut list to run out."""
    cut = {n for n, blob in enumerate(blobs) if blob[0] != 1}
    head: list[tuple[int, int, int, tuple[bytes, ...]]] = []
    merged = heapq.merge(*(_entries(blob, n) for n, blob in enumerate(blobs)))
    for cents, _, legs, ids, departure, n, last in merged:
        if departure > cutoff:
            head.append((cents, legs, departure, ids))
        if last and n in cut:
            return head, True, False
        if len(head) == _READ_AHEAD:
            return head, False, False
    return head, True, True


def _entries(blob: bytes, n: int) -> Iterator[tuple[int, int, int, tuple[bytes, ...], int, int, bool]]:
    """A list's itineraries as (cents, final arrival, legs, ids: the price order; then first
    departure, the list's number, whether it is the list's last), decoded one at a time."""
    table = flight_table(blob)
    itineraries = list(itinerary_indices(blob))
    final = len(itineraries) - 1
    for k, legs in enumerate(itineraries):
        yield (
            sum(table[i][3] for i in legs),
            table[legs[-1]][2],
            len(legs),
            tuple(table[i][0] for i in legs),
            table[legs[0]][1],
            n,
            k == final,
        )


async def _hmgets(context: AppContext, reads: list[tuple[str, list[str]]]) -> list[list[Any]]:
    """One pipelined batch: each origin-day's built tag and lists."""
    return await hmget_many(
        context.redis,
        context.search_reads,
        [(key, [storage.BUILT, *destinations]) for key, destinations in reads],
    )


async def _counters(context: AppContext, raw_ids: list[bytes]) -> list[Any]:
    names = [context.keys.seats(_uuid_text(raw.hex())) for raw in raw_ids]
    return await get_many(context.redis, context.search_reads, names)


_DEPARTURES = """
SELECT DISTINCT t.day FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::int[])
    AS t(source, after, before, day)
WHERE EXISTS (
    SELECT 1 FROM flights f
    WHERE f.source = t.source AND f.departure_ts > t.after AND f.departure_ts < t.before
)
"""


async def _with_departures(
    context: AppContext, origins: list[str], days: list[date], cutoff: float
) -> list[date]:
    """Of ``days``, those on which some origin may have a departure after the cut-off (one query,
    over a UTC window holding the local day in every timezone, UTC-12 to UTC+14: no timezone read):
    a day without any has no itinerary, so /search need not compute it (a month past the built
    days would otherwise cost a PostgreSQL search per day)."""
    if not days:
        return []
    rows: list[tuple[str, datetime, datetime, int]] = []
    for day in days:
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        start = max(midnight - timedelta(hours=14), _at(int(cutoff)))
        end = midnight + timedelta(days=1, hours=12)
        if start < end:
            rows.extend((origin, start, end, day.toordinal()) for origin in origins)
    if not rows:
        return []
    async with context.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        found = await driver.fetch(_DEPARTURES, *(list(column) for column in zip(*rows, strict=True)))
    flying = {record[0] for record in found}
    return [day for day in days if day.toordinal() in flying]


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


async def _searched(
    context: AppContext, pairs: Sequence[Pair], day: date, seats: int
) -> tuple[int, int] | None:
    found = orjson.loads(await search_pairs(context, pairs, day, seats))
    if not found:
        return None
    return sum(round(f["price"] * 100) for f in found[0]["flights"]), found[0]["stops"]


def _uuid_text(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
