"""Search filters and sort orders (max_stops, depart window, max duration; sort by price, duration,
departure or arrival), and the exact enumeration that answers what the stored lists cannot.

Every filter is a property of an itinerary alone (its legs, first departure, final arrival), so
filtering keeps any order's relative order. Sort keys are (the sort's own value, then the price
order: total price, final arrival, fewer flights, flight ids), a total order.

**Why the stored prefix answers a price-sorted filtered search exactly.** A built day's list for
a pair is an exact prefix P of all that pair's itineraries A in price order (all of A when
``complete``). The answer is the first 20, in price order, of F = {a in A : a passes the filters,
the cut-off and the seats}. Filtering P keeps its order, and every element of P precedes every
element of A \\ P. So if 20 elements of P pass, they precede every other element of F: they are
its first 20. If P = A (complete), F is P filtered. Otherwise (fewer than 20 pass in a cut list)
elements of F may lie beyond P: the answer is computed exactly (``enumerate_itineraries``).

**Other sorts** have no relation to the price order the lists keep: they are computed exactly from
the flights that can take part (query._exact_rows: the origin-day's departures, the flights into
the destination and those between, within the 3-flight horizon, with their live seats), every
itinerary enumerated (departures per airport sorted by time, a connection window is two binary
searches), filtered, and the first 20 by the sort key taken.

Times of day: ``depart_after`` / ``depart_before`` compare with the first departure's local time
at the first airport truncated to the minute (``HH:MM``), both inclusive; ``max_duration_minutes``
compares with the answer's ``duration_minutes`` (whole minutes, truncated), inclusive.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.flights.events import FlightSnapshot
from app.search.engine import Rules
from app.search.render import FlightRecord, flight_table, itinerary_indices
from app.search.schemas import SearchQuery, SearchSort

# An itinerary as the order keys need it: price in cents, first departure, final arrival, flights'
# raw ids (in travel order).
Facts = tuple[int, int, int, tuple[bytes, ...]]
SortKey = tuple[int, tuple[int, int, int, tuple[bytes, ...]]]


@dataclass(frozen=True, slots=True)
class Filters:
    max_stops: int | None = None
    after: int | None = None  # minute of the local day, inclusive
    before: int | None = None  # minute of the local day, inclusive
    max_duration: int | None = None  # minutes, inclusive
    sort: SearchSort = SearchSort.price

    @classmethod
    def of(cls, query: SearchQuery) -> Filters | None:
        """The query's filters, None when it has none and sorts by price (the unfiltered path)."""
        made = cls(
            query.max_stops,
            _minute(query.depart_after),
            _minute(query.depart_before),
            query.max_duration_minutes,
            query.sort,
        )
        return None if made == cls() else made

    @property
    def needs_zone(self) -> bool:
        return self.after is not None or self.before is not None

    def predicate(self, zone: ZoneInfo | None) -> Callable[[int, int, int], bool]:
        """A test of (legs, first departure, final arrival) for these filters."""
        max_legs = None if self.max_stops is None else self.max_stops + 1
        low = self.after if self.after is not None else 0
        high = self.before if self.before is not None else 24 * 60 - 1
        windowed = self.needs_zone and zone is not None
        longest = self.max_duration

        def passes(legs: int, departure: int, arrival: int) -> bool:
            if max_legs is not None and legs > max_legs:
                return False
            if longest is not None and (arrival - departure) // 60 > longest:
                return False
            if windowed:
                local = datetime.fromtimestamp(departure, zone)
                if not low <= local.hour * 60 + local.minute <= high:
                    return False
            return True

        return passes

    def key(self, facts: Facts) -> SortKey:
        """The sort key of an itinerary: its sort's value, then the price order."""
        cents, departure, arrival, ids = facts
        price_order = (cents, arrival, len(ids), ids)
        if self.sort == SearchSort.duration:
            return (arrival - departure, price_order)
        if self.sort == SearchSort.departure:
            return (departure, price_order)
        if self.sort == SearchSort.arrival:
            return (arrival, price_order)
        return (0, price_order)


def _minute(text: str | None) -> int | None:
    return None if text is None else int(text[:2]) * 60 + int(text[3:])


@functools.lru_cache(maxsize=2048)
def list_facts(blob: bytes) -> tuple[tuple[int, int, int], ...]:
    """Per itinerary of a stored list: legs, first departure, final arrival (memoised per list)."""
    table = flight_table(blob)
    return tuple((len(legs), table[legs[0]][1], table[legs[-1]][2]) for legs in itinerary_indices(blob))


def enumerate_itineraries(
    rows: Sequence[FlightSnapshot], source: str, destination: str, start: int, end: int, rules: Rules
) -> list[list[FlightSnapshot]]:
    """Every itinerary from ``source`` (first departure in [start, end)) to ``destination`` over
    ``rows``: 1 to ``rules.max_legs`` flights, each connection within [min_conn, max_layover]
    seconds, no airport twice. Unordered."""
    by_source: dict[str, list[tuple[int, FlightSnapshot]]] = {}
    for r in rows:
        by_source.setdefault(r.source, []).append((int(r.departure_ts.timestamp()), r))
    for departures in by_source.values():
        departures.sort(key=lambda item: item[0])
    times = {airport: [t for t, _ in departures] for airport, departures in by_source.items()}
    found: list[list[FlightSnapshot]] = []

    def extend(path: list[FlightSnapshot], visited: set[str]) -> None:
        last = path[-1]
        if last.destination == destination:
            found.append(path)
            return
        if len(path) == rules.max_legs:
            return
        departures = by_source.get(last.destination)
        if departures is None:
            return
        arrived = int(last.arrival_ts.timestamp())
        column = times[last.destination]
        low = bisect.bisect_left(column, arrived + rules.min_connection)
        high = bisect.bisect_right(column, arrived + rules.max_layover)
        for _, following in departures[low:high]:
            if following.destination not in visited:
                extend([*path, following], visited | {following.destination})

    for departure, first in by_source.get(source, []):
        if start <= departure < end and first.destination != source:
            extend([first], {source, first.destination})
    return found


def records_of(path: Sequence[FlightSnapshot]) -> list[FlightRecord]:
    return [
        (f.id.bytes, int(f.departure_ts.timestamp()), int(f.arrival_ts.timestamp()), int(f.price * 100))
        for f in path
    ]


def facts_of(records: Sequence[FlightRecord]) -> Facts:
    return (sum(r[3] for r in records), records[0][1], records[-1][2], tuple(r[0] for r in records))
