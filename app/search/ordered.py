"""The exact filtered or sorted search of one pair and day, from PostgreSQL and live seats, for
what the stored price-order lists cannot answer (filters.py says when).

Only the flights that can take part are read, narrowed by the filters before any row is read:
first legs leave the origin on that day within the depart window (widened by an hour each side
for DST; the exact local test is applied afterwards); with ``max_stops=0`` only direct flights;
the horizon of later legs is (legs - 1) x (longest flight + longest layover) past the day's end
(the longest flight cached in Redis), or its end plus ``max_duration`` when that is shorter.
Counters come in one MGET (the read path's pipelined connection on a single Redis).

Enumeration is depth-first with a bound: the sort's own key can only grow along a path (price:
cents so far, prices are >= 0; duration: arrival so far minus the first departure; arrival: the
arrival so far; departure: fixed by the first leg), so a partial path whose bound exceeds the
20th best complete key (first component) cannot enter the answer, nor can any extension of it.
Ties on the first component are explored (the price order breaks them), so the result is exactly
the first 20 under the sort, as the brute force gives.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from app.flights.events import FlightSnapshot
from app.platform.redis.reads import get_many
from app.search import build, data, render
from app.search.engine import Rules
from app.search.filters import Filters
from app.search.render import FlightRecord
from app.search.schemas import SearchSort

if TYPE_CHECKING:
    from datetime import date

    from app.context import AppContext

# A flight as the enumeration needs it: departure, arrival, cents, destination, raw id.
_Leg = tuple[int, int, int, str, bytes]
Key = tuple[int, int, int, int, tuple[bytes, ...]]

_DST_SLACK = 3600


async def exact(
    context: AppContext,
    source: str,
    destination: str,
    day: date,
    seats: int,
    cutoff: float,
    filters: Filters,
    results: int,
) -> bytes:
    zones = await data.Zones.load(context)
    zone = zones.zone(source)
    rules = data.rules_of(context.settings)
    if filters.max_stops is not None:
        rules = Rules(rules.min_connection, rules.max_layover, min(rules.max_legs, filters.max_stops + 1))
    start, end = zones.bounds(source, day)
    start = max(start, int(cutoff) + 1)
    if filters.after is not None:
        start = max(start, _local(zone, day, filters.after) - _DST_SLACK)
    if filters.before is not None:
        end = min(end, _local(zone, day, filters.before) + 60 + _DST_SLACK)
    if start >= end:
        return b"[]"
    direct_only = " AND destination = $4" if rules.max_legs == 1 else ""
    firsts = await data.fetch(
        context,
        f"departure_ts >= $1 AND departure_ts < $2 AND source = $3{direct_only}",
        _at(start),
        _at(end),
        source,
        *([destination] if direct_only else []),
    )
    rows = list(firsts)
    if rules.max_legs > 1 and firsts:
        # Later legs depart at most (legs - 1) x (longest flight + longest layover) after the
        # day's end: a superset of data.horizon's exact window for one cached Redis read instead
        # of up to two PostgreSQL aggregates (the enumeration applies the real connection rules).
        longest_flight = await data.max_duration(context)
        limit = end + (rules.max_legs - 1) * (longest_flight + rules.max_layover)
        if filters.max_duration is not None:
            limit = min(limit, end + (filters.max_duration + 1) * 60)
        later = [_at(start), _at(limit)]
        hubs = sorted({r.destination for r in firsts if r.destination != destination})
        lasts = await data.fetch(
            context,
            "departure_ts >= $1 AND departure_ts <= $2 AND destination = $3 AND source <> $4",
            *later,
            destination,
            source,
        )
        rows += lasts
        if rules.max_legs > 2 and hubs:
            sources = sorted({r.source for r in lasts if r.source != source})
            rows += await data.fetch(
                context,
                "departure_ts >= $1 AND departure_ts <= $2 AND source = ANY($3::text[])"
                " AND destination = ANY($4::text[])",
                *later,
                hubs,
                sources,
            )
    rows = list({r.id: r for r in rows}.values())
    live = await _live(context, rows)
    usable = [r for r in rows if live.get(r.id.bytes, 0) >= seats]
    chosen = best(usable, source, destination, (start, end), rules, filters, zone, results)
    by_id = {r.id.bytes: r for r in usable}
    cards = {leg[0]: build.card(by_id[leg[0]]) for legs in chosen for leg in legs}
    return render.render(chosen, live, cards)


def best(
    rows: list[FlightSnapshot],
    source: str,
    destination: str,
    bounds: tuple[int, int],
    rules: Rules,
    filters: Filters,
    zone: ZoneInfo,
    results: int,
) -> list[list[FlightRecord]]:
    """The first ``results`` itineraries under the filters and their sort (module doc)."""
    by_source: dict[str, list[_Leg]] = {}
    for r in rows:
        by_source.setdefault(r.source, []).append(
            (
                int(r.departure_ts.timestamp()),
                int(r.arrival_ts.timestamp()),
                int(r.price * 100),
                r.destination,
                r.id.bytes,
            )
        )
    for legs in by_source.values():
        legs.sort()
    times = {airport: [leg[0] for leg in legs] for airport, legs in by_source.items()}
    passes = filters.predicate(zone if filters.needs_zone else None)
    longest = None if filters.max_duration is None else (filters.max_duration + 1) * 60
    sort = filters.sort
    found: list[tuple[Key, list[_Leg]]] = []

    def bound(path: list[_Leg], cents: int) -> int:
        if sort == SearchSort.duration:
            return path[-1][1] - path[0][0]
        if sort == SearchSort.departure:
            return path[0][0]
        if sort == SearchSort.arrival:
            return path[-1][1]
        return cents

    def extend(path: list[_Leg], cents: int, visited: frozenset[str]) -> None:
        if len(found) == results and bound(path, cents) > found[-1][0][0]:
            return
        last = path[-1]
        if longest is not None and last[1] - path[0][0] >= longest:
            return  # every extension lasts longer still
        if last[3] == destination:
            if passes(len(path), path[0][0], last[1]):
                key: Key = (
                    bound(path, cents),
                    cents,
                    last[1],
                    len(path),
                    tuple(leg[4] for leg in path),
                )
                if len(found) < results or key < found[-1][0]:
                    bisect.insort(found, (key, path), key=lambda item: item[0])
                    del found[results:]
            return
        if len(path) == rules.max_legs:
            return
        following = by_source.get(last[3])
        if following is None:
            return
        column = times[last[3]]
        low = bisect.bisect_left(column, last[1] + rules.min_connection)
        high = bisect.bisect_right(column, last[1] + rules.max_layover)
        for leg in following[low:high]:
            if leg[3] not in visited:
                extend([*path, leg], cents + leg[2], visited | {leg[3]})

    start, end = bounds
    for leg in by_source.get(source, []):
        if start <= leg[0] < end and leg[3] != source:
            extend([leg], leg[2], frozenset((source, leg[3])))
    return [[(leg[4], leg[0], leg[1], leg[2]) for leg in path] for _, path in found]


def _local(zone: ZoneInfo, day: date, minute: int) -> int:
    return int(datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).timestamp())


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


async def _live(context: AppContext, rows: list[FlightSnapshot]) -> dict[bytes, int]:
    """Live seat counters by raw id, in one MGET; missing ones rebuilt from PostgreSQL."""
    if not rows:
        return {}
    names = [context.keys.seats(r.id) for r in rows]
    values = await get_many(context.redis, context.search_reads, names)
    counts = {r.id.bytes: int(v) for r, v in zip(rows, values, strict=True) if v is not None}
    missing = [r.id for r in rows if r.id.bytes not in counts]
    if missing:
        rebuilt = await context.inventory.rebuild(missing)
        counts.update({fid.bytes: n for fid, n in rebuilt.items()})
    return counts
