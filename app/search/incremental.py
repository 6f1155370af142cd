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

Once ``warm_up`` has loaded compiled_plan.py (numba), ``plan`` walks the same shapes over int
arrays instead: ``Plan.fields`` holds exactly the Shapes walk's sets and ``Plan.candidates(bounds)``
returns exactly what ``Shapes.candidates`` adds over ``Plan.inserts`` (tests/
test_search_incremental_compiled.py, hypothesis, against ``reference_plan``). The Shapes walk stays
the reference and the fallback without numba; ``Plan.inserts`` builds it on first use.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import chain, count, repeat
from operator import itemgetter, methodcaller
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import structlog

from app.flights.events import FlightSnapshot
from app.models import flight_times
from app.platform import numba_cache
from app.platform.gc_tuning import without_cyclic_gc
from app.search import data
from app.search.codec import FLIGHT, Records
from app.search.engine import Rules
from app.search.storage import OriginDay

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()
Array = Any  # numpy arrays

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


@dataclass(frozen=True, eq=False)
class Columns:
    """A pool as columns, with no tuple per flight (the pinned timetable's arrays: Since.pool):
    raw ids, airports as indices into ``airports`` (``codes``: name -> index), departures,
    arrivals and prices in cents; then ``rows``, more flights as tuples. Flight i is
    ``flight(i)``: the columns' first, then the rows."""

    ids: list[bytes]
    airports: list[str]
    codes: dict[str, int]
    sources: Array
    destinations: Array
    departures: Array
    arrivals: Array
    cents: Array
    rows: list[GraphFlight]

    def __len__(self) -> int:
        return len(self.ids) + len(self.rows)

    def flight(self, i: int) -> GraphFlight:
        m = len(self.ids)
        if i >= m:
            return self.rows[i - m]
        airports = self.airports
        return GraphFlight(
            self.ids[i],
            airports[int(self.sources[i])],
            airports[int(self.destinations[i])],
            int(self.departures[i]),
            int(self.arrivals[i]),
            int(self.cents[i]),
        )

    def flights(self) -> list[GraphFlight]:
        """Every flight as a tuple, in order."""
        airports = self.airports
        # tuple.__new__ straight from C: GraphFlight._make is a Python call per flight.
        columns: Iterable[GraphFlight] = map(
            tuple.__new__,
            repeat(GraphFlight),
            zip(
                self.ids,
                map(airports.__getitem__, self.sources.tolist()),
                map(airports.__getitem__, self.destinations.tolist()),
                self.departures.tolist(),
                self.arrivals.tolist(),
                self.cents.tolist(),
                strict=True,
            ),
        )
        return [*columns, *self.rows]


# A plan's pool of neighbouring flights, in either form.
Neighbours = list[GraphFlight] | Columns


def _tuples(pool: Neighbours) -> list[GraphFlight]:
    """The pool as tuples (the Shapes walk's input)."""
    return pool.flights() if isinstance(pool, Columns) else pool


class _Nodes(Sequence[GraphFlight]):
    """A plan's flights (the pool's, then the old and new versions) without a tuple per pool
    flight: one is built when asked for (the plan asks for those of its candidates only)."""

    def __init__(self, pool: Columns, changed: list[GraphFlight]) -> None:
        self.pool = pool
        self.changed = changed
        self.size = len(pool)

    def __len__(self) -> int:
        return self.size + len(self.changed)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return self.pool.flight(i) if i < self.size else self.changed[i - self.size]

    def records(self, indices: list[int]) -> list[bytes]:
        """``record`` of the flights at ``indices``, the columns' read in one pass."""
        pool = self.pool
        m = len(pool.ids)
        at = [i for i in indices if i < m]
        slots = np.asarray(at, dtype=np.int64)
        packed = dict(
            zip(
                at,
                map(
                    FLIGHT.pack,
                    map(pool.ids.__getitem__, at),
                    pool.departures[slots].tolist(),
                    pool.arrivals[slots].tolist(),
                    pool.cents[slots].tolist(),
                ),
                strict=True,
            )
        )
        return [packed[i] if i < m else record(self[i]) for i in indices]


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


def hulls(items: Iterable[tuple[str, int, int]]) -> dict[str, tuple[int, int]]:
    """Per airport, the hull [lowest lo, highest hi] of its windows (a superset of their union)."""
    merged: dict[str, tuple[int, int]] = {}
    for airport, lo, hi in items:
        old = merged.get(airport)
        merged[airport] = (lo, hi) if old is None else (min(lo, old[0]), max(hi, old[1]))
    return merged


def _windows(items: Iterable[tuple[str, int, int]]) -> list[list[Any]]:
    merged = hulls(items)
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


class Plan:
    """``fields``: per origin-day, the lists an itinerary through an old or a new version may be
    in (the old ones to find what to remove); ``candidates(bounds)``: the itineraries through the
    new versions that can enter them. Computed by the compiled kernels (compiled_plan.py) when
    they are loaded (``warm_up``), else by the Shapes walk, which stays the reference
    (``inserts``: the new versions' shapes, built on first use)."""

    def __init__(
        self,
        fields: dict[OriginDay, set[str]],
        inserts: Callable[[], list[Shapes]],
        network: _Network | None = None,
    ) -> None:
        self.fields = fields
        self._inserts = inserts
        self._network = network
        self._shapes: list[Shapes] | None = None

    @property
    def inserts(self) -> list[Shapes]:
        if self._shapes is None:
            self._shapes = self._inserts()
        return self._shapes

    def candidates(
        self, bounds: Mapping[OriginDay, Mapping[str, float]]
    ) -> dict[OriginDay, dict[str, set[Records]]]:
        """Per origin-day and destination, the itineraries through a new version whose price is
        within the list's bound (Shapes.candidates: lists of origin-days missing from ``bounds``
        take nothing)."""
        if self._network is not None:
            with without_cyclic_gc():
                return self._network.candidates(bounds)
        into: dict[OriginDay, dict[str, set[Records]]] = {}
        for shape in self.inserts:
            shape.candidates(bounds, into)
        return into


def plan(
    old: Sequence[GraphFlight],
    new: Sequence[GraphFlight],
    pool: Neighbours,
    zones: data.Zones,
    rules: Rules,
) -> Plan:
    """See _plan (run without the cyclic collector: without_cyclic_gc). The compiled walk when
    loaded (``warm_up``), else the Shapes walk: the same fields and candidates. ``pool``: the
    flights as tuples, or as ``Columns`` (the compiled walk reads those as they are)."""
    if not _compiled.tried:  # the API warmed it up at startup; other callers load it here
        warm_up()
    with without_cyclic_gc():
        if _compiled.kernels is not None and (old or new):
            return _compiled_plan(_compiled.kernels, old, new, pool, zones, rules)
        return _plan(old, new, _tuples(pool), zones, rules)


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
    inserts = [shapes_of(flight) for flight in new]
    return Plan(fields, lambda: inserts)


def reference_plan(
    old: Sequence[GraphFlight],
    new: Sequence[GraphFlight],
    pool: list[GraphFlight],
    zones: data.Zones,
    rules: Rules,
) -> Plan:
    """The Shapes walk, whether or not the kernels are loaded (the tests' reference)."""
    with without_cyclic_gc():
        return _plan(old, new, pool, zones, rules)


# ---- The compiled walk (compiled_plan.py) ----------------------------------------------------

_VALUES = methodcaller("values")
_NO_BOUND = -1.0


class _Network:
    """One plan's pool as arrays (compiled_plan.py's layout), its origin-days, and what
    ``Plan.candidates`` needs to run the candidates kernel on a set of bounds."""

    def __init__(
        self,
        kernels: ModuleType,
        nodes: Sequence[GraphFlight],
        airports: list[str],
        code: dict[str, int],
        arrays: tuple[Array, ...],
        day: Array,
        days: list[OriginDay],
        new: Array,
        stale: Array,
        rules: Rules,
    ) -> None:
        self.kernels = kernels
        self.nodes = nodes
        self.airports = airports
        self.code = code
        self.arrays = arrays  # ends, ints, leaving (order, starts, times), reaching (the same)
        self.ends = arrays[0]
        self.day = day
        self.days = days
        self.day_index = {d: i for i, d in enumerate(days)}
        self.new = new
        self.stale = stale
        self.rules = rules

    def candidates(
        self, bounds: Mapping[OriginDay, Mapping[str, float]]
    ) -> dict[OriginDay, dict[str, set[Records]]]:
        into: dict[OriginDay, dict[str, set[Records]]] = {}
        if not len(self.new):
            return into
        bound, bounded, ceiling, q_ceilings = self._bounds(bounds)
        rules = self.rules
        found = self.kernels.candidates(
            self.new, q_ceilings, min(rules.max_legs, 3), rules.min_connection, rules.max_layover,
            self.day, self.stale, bound, bounded, ceiling, *self.arrays,
        )  # fmt: skip
        if not len(found):
            return into
        return self._grouped(found, into)

    def _bounds(self, bounds: Mapping[OriginDay, Mapping[str, float]]) -> tuple[Array, Array, Array, Array]:
        """The candidates kernel's view of ``bounds``: bound[day, airport] (-1 where none),
        bounded[day] (a non-empty mapping), ceiling[day] (its highest bound), and per new flight
        Shapes.candidates' q_ceiling (the highest bound to its destination over every day of
        ``bounds``, also days of no flight here; -1: none). Flattened with C-level passes: a hub
        change's bounds hold ~2,000 lists."""
        days = len(self.days)
        airports = len(self.airports)
        # One spare column for destinations the pool never reaches (their bounds only count in
        # the day's highest bound).
        bound = np.full((days, airports + 1), _NO_BOUND)
        bounded = np.zeros(days, dtype=np.bool_)
        ceiling = np.full(days, _NO_BOUND)
        maps = list(bounds.values())
        sizes = np.fromiter(map(len, maps), np.int64, len(maps))
        total = int(sizes.sum())
        q_ceilings = np.full(len(self.new), _NO_BOUND)
        if not total:
            return bound, bounded, ceiling, q_ceilings
        rows = np.fromiter(map(self.day_index.get, bounds, repeat(-1)), np.int64, len(maps))
        columns = np.fromiter(
            map(self.code.get, chain.from_iterable(maps), repeat(airports)), np.int64, total
        )
        values = np.fromiter(chain.from_iterable(map(_VALUES, maps)), np.float64, total)
        filled = sizes > 0
        tops = np.maximum.reduceat(values, (np.cumsum(sizes) - sizes)[filled])
        mine = rows[filled] >= 0
        bounded[rows[filled][mine]] = True
        ceiling[rows[filled][mine]] = tops[mine]
        per_value = np.repeat(rows, sizes)
        known = per_value >= 0
        bound[per_value[known], columns[known]] = values[known]
        for i, to in enumerate(self.ends[1, self.new].tolist()):
            hits = values[columns == to]
            if len(hits):
                q_ceilings[i] = hits.max()
        return bound, bounded, ceiling, q_ceilings

    def _grouped(
        self, found: Array, into: dict[OriginDay, dict[str, set[Records]]]
    ) -> dict[OriginDay, dict[str, set[Records]]]:
        """Candidate rows as Shapes.candidates adds them: per (origin-day, destination) a set of
        record tuples, built per (legs, day, destination) group with C-level zip/map."""
        k = self.kernels
        key = (found[:, k.LEGS] * len(self.days) + found[:, k.DAY]) * len(self.airports) + found[:, k.TO]
        order = np.argsort(key)
        found, key = found[order], key[order]
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        # Rows by legs (the key's major part): 1-leg rows, then 2, then 3.
        by_legs = np.searchsorted(found[:, k.LEGS], [1, 2, 3, 4]).tolist()
        nodes = self.nodes
        used = [i for i in np.unique(found[:, k.LEG :]).tolist() if i >= 0]
        records = dict(
            zip(
                used,
                nodes.records(used) if isinstance(nodes, _Nodes) else [record(nodes[i]) for i in used],
                strict=True,
            )
        )
        get = records.__getitem__
        tuples: list[Records] = []
        for legs in (1, 2, 3):
            rows = found[by_legs[legs - 1] : by_legs[legs]]
            tuples += zip(*(map(get, rows[:, k.LEG + j].tolist()) for j in range(legs)), strict=True)
        days, airports = self.days, self.airports
        bounds = starts.tolist()
        stops = [*bounds[1:], len(found)]
        heads = found[starts]
        for a, b, d, t in zip(bounds, stops, heads[:, k.DAY].tolist(), heads[:, k.TO].tolist(), strict=True):
            day = days[d]
            by_to = into.get(day)
            if by_to is None:
                by_to = into[day] = {}
            to = airports[t]
            found_set = by_to.get(to)
            if found_set is None:
                by_to[to] = set(tuples[a:b])
            else:
                found_set.update(tuples[a:b])
        return into


def _compiled_plan(
    kernels: ModuleType,
    old: Sequence[GraphFlight],
    new: Sequence[GraphFlight],
    pool: Neighbours,
    zones: data.Zones,
    rules: Rules,
) -> Plan:
    """_plan's fields over arrays; the candidates kernel runs in Plan.candidates. The pool is not
    deduplicated: a flight listed twice only repeats itineraries that the result's sets hold once."""
    first_old = len(pool)
    first_new = first_old + len(old)
    nodes, ids, ends, ints, named = _columns(pool, [*old, *new])
    n = len(nodes)
    code = {name: a for a, name in enumerate(named)}
    airports = len(named)
    leaving = kernels.by_airport(ends[0], ints[0], airports)
    reaching = kernels.by_airport(ends[1], ints[1], airports)
    # One walk per distinct (airports, times) of a changed flight (its versions share it).
    keys: dict[tuple[str, str, int, int], int] = {}
    for i, flight in enumerate(chain(old, new), start=first_old):
        keys.setdefault((flight.source, flight.destination, flight.departure, flight.arrival), i)
    shapes_ = np.array(list(keys.values()), dtype=np.int64)
    legs = min(rules.max_legs, 3)
    minimum, maximum = rules.min_connection, rules.max_layover
    changed_ = np.arange(first_old, n, dtype=np.int64)
    firsts = kernels.firsts(shapes_, changed_, legs, minimum, maximum, ends, ints, leaving[0], *reaching)
    day, days = _origin_days(zones, n, firsts, ends, ints, named)
    found = kernels.fields(
        shapes_, legs, minimum, maximum, ends, ints, day, len(days), airports, *leaving, *reaching
    )
    rows, columns = np.nonzero(found)
    cuts = np.searchsorted(rows, np.arange(len(days) + 1)).tolist()
    names = list(map(named.__getitem__, columns.tolist()))
    fields = {d: set(names[cuts[i] : cuts[i + 1]]) for i, d in enumerate(days) if cuts[i] < cuts[i + 1]}
    changed = {f.id for f in old} | {f.id for f in new}
    current = set(new)
    stale = np.fromiter(map(changed.__contains__, ids), np.bool_, n)
    for i in np.flatnonzero(stale).tolist():
        stale[i] = nodes[i] not in current
    network = _Network(
        kernels, nodes, named, code, (ends, ints, *leaving, *reaching), day, days,
        np.arange(first_new, n, dtype=np.int64), stale, rules,
    )  # fmt: skip

    def inserts() -> list[Shapes]:
        return _plan(old, new, _tuples(pool), zones, rules).inserts

    return Plan(fields, inserts, network)


def _columns(
    pool: Neighbours, changed: list[GraphFlight]
) -> tuple[Sequence[GraphFlight], list[bytes], Array, Array, list[str]]:
    """The plan's flights (the pool's, then ``changed``): as a sequence, their raw ids, airports
    (2 x n: sources, destinations) and numbers (3 x n: departures, arrivals, cents), and the
    airports' names by number."""
    if isinstance(pool, Columns):
        # The columns as they are; only the few changed flights (and rows) are unzipped.
        extra = [*pool.rows, *changed]
        m, n = len(pool.ids), len(pool) + len(changed)
        numbered: defaultdict[str, int] = defaultdict(count(len(pool.airports)).__next__, pool.codes)
        x_ids, x_sources, x_destinations, x_departures, x_arrivals, x_cents = zip(*extra, strict=True)
        ends = np.empty((2, n), dtype=np.int64)
        ints = np.empty((3, n), dtype=np.int64)
        ends[0, :m], ends[1, :m] = pool.sources, pool.destinations
        ends[0, m:] = np.fromiter(map(numbered.__getitem__, x_sources), np.int64, len(extra))
        ends[1, m:] = np.fromiter(map(numbered.__getitem__, x_destinations), np.int64, len(extra))
        ints[0, :m], ints[1, :m], ints[2, :m] = pool.departures, pool.arrivals, pool.cents
        ints[0, m:], ints[1, m:], ints[2, m:] = x_departures, x_arrivals, x_cents
        named = [*pool.airports, *list(numbered)[len(pool.airports) :]]
        return _Nodes(pool, changed), [*pool.ids, *x_ids], ends, ints, named
    nodes = [*pool, *changed]
    n = len(nodes)
    # Airport codes in first-seen order, numbered in the same C-level pass (defaultdict + count);
    # columns transposed by zip (the cheapest way out of ~3,000 tuples).
    ids, sources, destinations, departures, arrivals, cents = zip(*nodes, strict=True)
    numbered = defaultdict(count().__next__)
    ends = np.fromiter(map(numbered.__getitem__, chain(sources, destinations)), np.int64, 2 * n).reshape(2, n)
    ints = np.fromiter(chain(departures, arrivals, cents), np.int64, 3 * n).reshape(3, n)
    return nodes, list(ids), ends, ints, list(numbered)


def _origin_days(
    zones: data.Zones, n: int, firsts: Array, ends: Array, ints: Array, named: list[str]
) -> tuple[Array, list[OriginDay]]:
    """Per flight, the index of its origin-day in ``days`` (-1: no itinerary starts with it), as
    day_of finds them: ``firsts`` come by airport then departure, so a local day's span is looked
    up once and holds the following flights until one departs past its end."""
    day = np.full(n, -1, dtype=np.int64)
    days: list[OriginDay] = []
    index: dict[OriginDay, int] = {}
    out: list[int] = []
    airport = at = start = end = -1
    for a, t in zip(ends[0, firsts].tolist(), ints[0, firsts].tolist(), strict=True):
        if a != airport or not start <= t < end:
            name = named[a]
            local, start, end = _local_day(zones, name, t)
            key = (name, local)
            found = index.get(key)
            if found is None:
                found = index[key] = len(days)
                days.append(key)
            airport, at = a, found
        out.append(at)
    day[firsts] = out
    return day, days


# Per time zone, the local days seen ([start, end) epochs, by start): a hub change asks for ~150
# airport-days, nearly the same ones each change; zones.local_date and bounds cost ~5 us each.
_ZONE_DAYS: dict[Any, tuple[list[int], list[int], list[date]]] = {}
_ZONE_DAYS_KEPT = 65_536  # days in all, before starting over
_zone_days_count = [0]


def _local_day(zones: data.Zones, airport: str, at: int) -> tuple[date, int, int]:
    """The airport's local date at ``at`` and its [start, end) epochs (zones.local_date and
    zones.bounds, remembered per time zone). A span is kept only when it holds ``at``; where
    local midnight happens once a day, an instant within a day's span has that local date, so a
    remembered span answers what local_date would (where clocks go back across midnight, the
    Shapes walk's day_of answered by the order it met the flights: no answer to equal there)."""
    zone = zones.zone(airport)
    known = _ZONE_DAYS.get(zone)
    if known is not None:
        starts, ends, dates = known
        i = bisect_right(starts, at) - 1
        if i >= 0 and at < ends[i]:
            return dates[i], starts[i], ends[i]
    local = zones.local_date(airport, at)
    start, end = zones.bounds(airport, local)
    if start <= at < end:
        if _zone_days_count[0] >= _ZONE_DAYS_KEPT:
            _ZONE_DAYS.clear()
            _zone_days_count[0] = 0
        starts, ends, dates = _ZONE_DAYS.setdefault(zone, ([], [], []))
        i = bisect_right(starts, start)
        starts.insert(i, start)
        ends.insert(i, end)
        dates.insert(i, local)
        _zone_days_count[0] += 1
    return local, start, end


class _Compiled:
    """The kernels module once loaded (``warm_up``); ``tried``: loading was attempted."""

    kernels: ModuleType | None = None
    tried = False


_compiled = _Compiled()


def warm_up(data_dir: Path | None = None) -> bool:
    """Load the compiled plan kernels (compile them, or load them from numba's disk cache) and run
    them once: the API calls this at startup, after patch.warm_up, so no admin change pays for
    them (~1 s from the cache; a first compilation ~17 s CPU); another process loads them on its
    first plan. Without numba, or when they fail to load, the Shapes walk runs (logged
    ``search_compiled_plan_unavailable``). Returns whether the kernels are loaded."""
    if _compiled.tried:
        return _compiled.kernels is not None
    _compiled.tried = True
    started = time.monotonic()
    if data_dir is not None:
        numba_cache.place(data_dir)  # placed when app was imported; a no-op by now
    try:
        # Imported here: when the kernels fail to load, the Shapes walk runs.
        from app.search import compiled_plan

        kernels: ModuleType = compiled_plan
        _warm(kernels)
    except Exception:
        log.warning("search_compiled_plan_unavailable", exc_info=True)
        return False
    _compiled.kernels = kernels
    log.info("search_compiled_plan_ready", seconds=round(time.monotonic() - started, 2))
    return True


def _warm(kernels: ModuleType) -> None:
    """A tiny plan and its candidates, with the argument types every real call uses."""
    zones = data.Zones({}, "UTC")
    rules = Rules(min_connection=1, max_layover=100, max_legs=3)
    a = GraphFlight(b"a" * 16, "AAA", "BBB", 0, 10, 100)
    b = GraphFlight(b"b" * 16, "BBB", "CCC", 20, 30, 100)
    c = GraphFlight(b"c" * 16, "CCC", "DDD", 40, 50, 100)
    changed = b._replace(cents=90)
    made = _compiled_plan(kernels, [b], [changed], [a, b, c], zones, rules)
    made.candidates({d: {t: float("inf") for t in made.fields[d]} for d in made.fields})
