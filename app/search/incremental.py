"""Small change sets (admin create / update / delete): which lists a change touches, and what
enters them.

Around the changed flights a small graph is read from PostgreSQL (flights that can precede or
follow them within max_legs-1 connections). For each version of a changed flight, ``Shapes`` holds
its prefixes (flights connecting into it, grouped by the origin-day they start in) and suffixes
(flights connecting out of it), never multiplied out: through the old versions they name the lists
that may mention the flight (``pairs``); through the new versions they yield the itineraries that
can enter a list, given each list's price bound (``candidates``: the last entry's price when the
list is cut, unbounded when it holds every itinerary there is), so the thousands of itineraries
through a hub flight that could enter no list are never built. patch.py reads and writes the lists.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from app.flights.events import FlightSnapshot
from app.models import flight_times
from app.platform.gc_tuning import without_cyclic_gc
from app.search import data
from app.search.codec import FLIGHT, Records
from app.search.engine import Rules
from app.search.storage import OriginDay

if TYPE_CHECKING:
    from app.context import AppContext

# One windowed index scan per (airport, window) (indexes (destination, arrival_ts) and (source,
# departure_ts), migration 0003): LATERAL ... OFFSET 0 keeps the planner from hash-joining the
# windows against a scan of the whole table, which it prefers at 270k flights (~200 ms, not ~20).
# Only rows within the time limits, as every search read (data.py): the others were never indexed.
_ARRIVING = f"""LATERAL (SELECT id, source, destination, departure_ts, arrival_ts, price FROM flights
  WHERE destination = w.airport AND arrival_ts BETWEEN w.lo AND w.hi AND {flight_times.SQL}
    AND status <> 'CANCELLED' OFFSET 0) f"""  # noqa: S608 (constant text)
_LEAVING = f"""LATERAL (SELECT id, source, destination, departure_ts, arrival_ts, price FROM flights
  WHERE source = w.airport AND departure_ts BETWEEN w.lo AND w.hi AND {flight_times.SQL}
    AND status <> 'CANCELLED' OFFSET 0) f"""  # noqa: S608 (constant text)
_FIRST = f"""
first_in AS MATERIALIZED (SELECT f.* FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[])
  AS w(airport, lo, hi), {_ARRIVING}),
first_out AS MATERIALIZED (SELECT f.* FROM unnest($4::text[], $5::timestamptz[], $6::timestamptz[])
  AS w(airport, lo, hi), {_LEAVING})"""  # noqa: S608 (constant text)
_COLUMNS = """SELECT uuid_send(id), source, destination, extract(epoch FROM departure_ts)::bigint,
  extract(epoch FROM arrival_ts)::bigint, (price * 100)::bigint"""
# Both levels in one round trip: the second level's windows (per airport, the hull of its flights'
# connection windows; $7 max layover, $8 min connection) come from the first level's rows.
_NEIGHBOURS_2 = f"""WITH {_FIRST},
second_in AS (SELECT f.* FROM (SELECT source AS airport, min(departure_ts) - $7::interval AS lo,
    max(departure_ts) - $8::interval AS hi FROM first_in GROUP BY source) w, {_ARRIVING}),
second_out AS (SELECT f.* FROM (SELECT destination AS airport, min(arrival_ts) + $8::interval AS lo,
    max(arrival_ts) + $7::interval AS hi FROM first_out GROUP BY destination) w, {_LEAVING})
{_COLUMNS} FROM (SELECT * FROM first_in UNION ALL SELECT * FROM first_out UNION ALL
  SELECT * FROM second_in UNION ALL SELECT * FROM second_out) found"""  # noqa: S608 (constant text)
_NEIGHBOURS_1 = f"""WITH {_FIRST}
{_COLUMNS} FROM (SELECT * FROM first_in UNION ALL SELECT * FROM first_out) found"""  # noqa: S608


class GraphFlight(NamedTuple):
    """A flight as the search graph and the list records hold it: raw id, airports, epoch seconds,
    price in cents (a ``FlightSnapshot`` in numbers; ``record`` packs it for a list)."""

    id: bytes  # the uuid's 16 raw bytes (as list records hold them)
    source: str
    destination: str
    departure: int
    arrival: int
    cents: int


def record(flight: GraphFlight) -> bytes:
    return FLIGHT.pack(flight.id, flight.departure, flight.arrival, flight.cents)


_SOURCE = itemgetter(1)
_DESTINATION = itemgetter(2)
_DEPARTURE = itemgetter(3)
_ARRIVAL = itemgetter(4)


class Pool:
    """Flights by the airport they leave (sorted by departure) and reach (sorted by arrival)."""

    def __init__(self, nodes: Iterable[GraphFlight]) -> None:
        self.nodes = list(set(nodes))
        self.leaving: dict[str, tuple[list[int], list[GraphFlight]]] = {}
        self.reaching: dict[str, tuple[list[int], list[GraphFlight]]] = {}
        # C-level sort keys and groupings: a hub change's pool holds ~2,000-4,000 flights.
        for by, airport, when in (
            (self.leaving, _SOURCE, _DEPARTURE),
            (self.reaching, _DESTINATION, _ARRIVAL),
        ):
            grouped: dict[str, list[GraphFlight]] = {}
            for n in sorted(self.nodes, key=when):
                at = airport(n)
                found = grouped.get(at)
                if found is None:
                    grouped[at] = [n]
                else:
                    found.append(n)
            for at, flights in grouped.items():
                by[at] = (list(map(when, flights)), flights)

    def before(self, flight: GraphFlight, rules: Rules) -> list[GraphFlight]:
        times, nodes = self.reaching.get(flight.source, ([], []))
        lo = bisect_left(times, flight.departure - rules.max_layover)
        return nodes[lo : bisect_right(times, flight.departure - rules.min_connection)]

    def after(self, flight: GraphFlight, rules: Rules) -> list[GraphFlight]:
        times, nodes = self.leaving.get(flight.destination, ([], []))
        lo = bisect_left(times, flight.arrival + rules.min_connection)
        return nodes[lo : bisect_right(times, flight.arrival + rules.max_layover)]


def graph_flight(snapshot: FlightSnapshot) -> GraphFlight:
    return GraphFlight(
        snapshot.id.bytes,
        snapshot.source,
        snapshot.destination,
        int(snapshot.departure_ts.timestamp()),
        int(snapshot.arrival_ts.timestamp()),
        int(snapshot.price * 100),
    )


async def neighbours(context: AppContext, flights: Sequence[GraphFlight], rules: Rules) -> list[GraphFlight]:
    """Every flight that can precede or follow ``flights`` within two connections (itineraries
    have at most three legs), in one query: flights connecting into or out of them, and into or
    out of those."""
    levels = min(rules.max_legs, 3) - 1
    if levels < 1 or not flights:
        return []
    windows_in = _windows(
        (f.source, f.departure - rules.max_layover, f.departure - rules.min_connection) for f in flights
    )
    windows_out = _windows(
        (f.destination, f.arrival + rules.min_connection, f.arrival + rules.max_layover) for f in flights
    )
    args: list[Any] = [*windows_in, *windows_out]
    if levels == 2:
        args += [timedelta(seconds=rules.max_layover), timedelta(seconds=rules.min_connection)]
    async with context.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        records = await driver.fetch(_NEIGHBOURS_2 if levels == 2 else _NEIGHBOURS_1, *args)
    # Keyed by (id, departure): a flight found at both levels or from both sides is one node.
    make = GraphFlight._make
    return list({(r[0], r[3]): make(r) for r in records}.values())


async def zones(context: AppContext) -> data.Zones:
    """data.Zones.load through asyncpg directly (an ORM session per admin change cost ~3 ms)."""
    async with context.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        rows = await driver.fetch("SELECT name, timezone FROM airports")
    return data.Zones({name: tz for name, tz in rows}, context.settings.default_timezone)


def _windows(items: Iterable[tuple[str, int, int]]) -> list[list[Any]]:
    merged: dict[str, tuple[int, int]] = {}
    for airport, lo, hi in items:
        old = merged.get(airport)
        merged[airport] = (lo, hi) if old is None else (min(lo, old[0]), max(hi, old[1]))
    return [
        list(merged),
        [datetime.fromtimestamp(lo, UTC) for lo, _ in merged.values()],
        [datetime.fromtimestamp(hi, UTC) for _, hi in merged.values()],
    ]


Days = Callable[[GraphFlight], OriginDay]


def day_of(zones: data.Zones) -> Days:
    """The origin-day an itinerary starting with a flight belongs to: each airport's local days
    seen so far are kept as [start, end) epochs, so most look-ups are two comparisons."""
    seen: dict[str, list[tuple[int, int, OriginDay]]] = {}
    # A hub change asks for the same few thousand flights' days ~10^4 times (every prefix's own
    # prefixes): remembered per flight, one dict look-up.
    known: dict[GraphFlight, OriginDay] = {}

    def cached(first: GraphFlight) -> OriginDay:
        day = known.get(first)
        if day is None:
            day = known[first] = find(first)
        return day

    def find(first: GraphFlight) -> OriginDay:
        spans = seen.setdefault(first.source, [])
        at = first.departure
        for start, end, day in spans:
            if start <= at < end:
                return day
        local = zones.local_date(first.source, at)
        start, end = zones.bounds(first.source, local)
        day = (first.source, local)
        spans.append((start, end, day))
        return day

    return cached


@dataclass
class Shapes:
    """The itineraries through one version of a flight, kept as their parts (no airport twice):
    ``before`` = (p, its origin-day, [(q, origin-day)]) for itineraries p-flight... and
    q-p-flight; ``after`` = (s, [u]) for flight-s... and flight-s-u."""

    flight: GraphFlight
    day: OriginDay
    legs: int
    before: list[tuple[GraphFlight, OriginDay, list[tuple[GraphFlight, OriginDay]]]] = field(
        default_factory=list
    )
    after: list[tuple[GraphFlight, list[GraphFlight]]] = field(default_factory=list)
    # Flights of the pool that are no longer current (old versions): never in a candidate.
    stale: frozenset[GraphFlight] = frozenset()

    def pairs(self) -> dict[OriginDay, set[str]]:
        """(origin-day, destination) of every itinerary through the flight."""
        f = self.flight
        ends1 = {s.destination for s, _ in self.after}
        found: dict[OriginDay, set[str]] = {self.day: {f.destination, *ends1}}
        found[self.day].update(u.destination for _, us in self.after for u in us)
        for p, day, qs in self.before:
            fields = found.setdefault(day, set())
            fields.add(f.destination)
            if self.legs >= 3:
                fields.update(ends1 - {p.source})
            for _, q_day in qs:
                found.setdefault(q_day, set()).add(f.destination)
        return found

    def candidates(
        self, bounds: Mapping[OriginDay, Mapping[str, float]], into: dict[OriginDay, dict[str, set[Records]]]
    ) -> None:
        """Add every itinerary through the flight whose price is within its list's bound (lists
        of origin-days missing from ``bounds`` take nothing: they are not patched)."""
        f = self.flight
        records: dict[GraphFlight, bytes] = {}
        stale = self.stale

        def add(day: OriginDay, destination: str, legs: tuple[GraphFlight, ...]) -> None:
            if stale and not stale.isdisjoint(legs):
                return
            raw = []
            for leg in legs:
                r = records.get(leg)
                if r is None:
                    r = records[leg] = record(leg)
                raw.append(r)
            into.setdefault(day, {}).setdefault(destination, set()).add(tuple(raw))

        # Suffixes are sorted by price (shapes): a loop over them stops at the first one too dear
        # for the highest bound it could still meet (p-flight-s visits every pair otherwise).
        own = bounds.get(self.day)
        if own:
            ceiling = max(own.values())
            if f.cents <= own.get(f.destination, -1):
                add(self.day, f.destination, (f,))
            for s, us in self.after:
                cost = f.cents + s.cents
                if cost > ceiling:
                    break
                if cost <= own.get(s.destination, -1):
                    add(self.day, s.destination, (f, s))
                for u in us:
                    if cost + u.cents <= ceiling and cost + u.cents <= own.get(u.destination, -1):
                        add(self.day, u.destination, (f, s, u))
        to_destination = {day: b[f.destination] for day, b in bounds.items() if f.destination in b}
        q_ceiling = max(to_destination.values(), default=-1)
        ceilings: dict[OriginDay, float] = {}
        for p, day, qs in self.before:
            cost = p.cents + f.cents
            mine = bounds.get(day)
            if mine:
                if cost <= mine.get(f.destination, -1):
                    add(day, f.destination, (p, f))
                if self.legs >= 3:
                    top = ceilings.get(day)
                    if top is None:
                        top = ceilings[day] = max(mine.values())
                    limit = top - cost
                    for s, _ in self.after:
                        if s.cents > limit:
                            break
                        total = cost + s.cents
                        if s.destination != p.source and total <= mine.get(s.destination, -1):
                            add(day, s.destination, (p, f, s))
            if cost >= q_ceiling:
                continue
            for q, q_day in qs:
                if cost + q.cents <= to_destination.get(q_day, -1):
                    add(q_day, f.destination, (q, p, f))


def shapes(flight: GraphFlight, pool: Pool, rules: Rules, days: Days) -> Shapes:
    legs = min(rules.max_legs, 3)
    shape = Shapes(flight, days(flight), legs)
    if legs < 2:
        return shape
    inner = (flight.source, flight.destination)
    for p in pool.before(flight, rules):
        if p.source in inner:
            continue
        qs = []
        if legs >= 3:
            qs = [
                (q, days(q)) for q in pool.before(p, rules) if q.source not in inner and q.source != p.source
            ]
        shape.before.append((p, days(p), qs))
    for s in pool.after(flight, rules):
        if s.destination in inner:
            continue
        us = []
        if legs >= 3:
            us = [
                u
                for u in pool.after(s, rules)
                if u.destination not in inner and u.destination != s.destination
            ]
        shape.after.append((s, us))
    # Cheapest first (candidates stops at the first suffix too dear for any list).
    shape.after.sort(key=_after_price)
    return shape


def _after_price(item: tuple[GraphFlight, list[GraphFlight]]) -> int:
    return item[0].cents


@dataclass
class Plan:
    """``fields``: per origin-day, the lists an itinerary through an old or a new version may be
    in (the old ones to find what to remove); ``inserts``: the new versions' shapes."""

    fields: dict[OriginDay, set[str]]
    inserts: list[Shapes]


def plan(
    old: Sequence[GraphFlight],
    new: Sequence[GraphFlight],
    pool: list[GraphFlight],
    zones: data.Zones,
    rules: Rules,
) -> Plan:
    """See _plan (run without the cyclic collector: without_cyclic_gc)."""
    with without_cyclic_gc():
        return _plan(old, new, pool, zones, rules)


def _plan(
    old: Sequence[GraphFlight],
    new: Sequence[GraphFlight],
    pool: list[GraphFlight],
    zones: data.Zones,
    rules: Rules,
) -> Plan:
    """One pool for both worlds: old versions are left out of candidates, and new versions only
    widen the (origin-day, destination) pairs the old ones may be in. A version with the same
    airports and times as another (a price change, a re-announce) shares its shapes."""
    changed = {n.id for n in old} | {n.id for n in new}
    current = set(new)
    everything = Pool([*pool, *old, *new])
    stale = frozenset(n for n in everything.nodes if n.id in changed and n not in current)
    days = day_of(zones)
    known: dict[tuple[str, str, int, int], Shapes] = {}

    def shapes_of(flight: GraphFlight) -> Shapes:
        key = (flight.source, flight.destination, flight.departure, flight.arrival)
        found = known.get(key)
        if found is None:
            found = known[key] = shapes(flight, everything, rules, days)
        return replace(found, flight=flight, stale=stale)

    fields: dict[OriginDay, set[str]] = {}
    paired: set[tuple[str, str, int, int]] = set()
    for flight in [*old, *new]:
        key = (flight.source, flight.destination, flight.departure, flight.arrival)
        if key not in paired:
            paired.add(key)
            for d, names in shapes_of(flight).pairs().items():
                fields.setdefault(d, set()).update(names)
    return Plan(fields, [shapes_of(flight) for flight in new])
