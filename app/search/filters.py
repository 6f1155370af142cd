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

**Other sorts** have no relation to the price order the lists keep. A ``complete`` list holds every
itinerary, so it is sorted as asked (exact); over a cut list, or a day not built, they are
computed exactly by ordered.py (a bounded enumeration over the flights that can take part).

Times of day: ``depart_after`` / ``depart_before`` compare with the first departure's local time
at the first airport truncated to the minute (``HH:MM``), both inclusive; ``max_duration_minutes``
compares with the answer's ``duration_minutes`` (whole minutes, truncated), inclusive.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.search.render import FlightRecord, flight_table, itinerary_indices
from app.search.schemas import PlainFilters, SearchQuery, SearchSort

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
    def of(cls, query: SearchQuery | PlainFilters) -> Filters | None:
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


def sort_order(blob: bytes, filters: Filters, itineraries: Sequence[tuple[bytes, int, bytes]]) -> list[int]:
    """Positions in ``itineraries`` (some of a stored list's, legs as indices into its flight
    table) in the filters' sort order."""
    table = flight_table(blob)
    keys = [filters.key(facts_of([table[i] for i in legs])) for legs, _, _ in itineraries]
    return sorted(range(len(keys)), key=keys.__getitem__)


def facts_of(records: Sequence[FlightRecord]) -> Facts:
    return (sum(r[3] for r in records), records[0][1], records[-1][2], tuple(r[0] for r in records))
