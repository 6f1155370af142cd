"""The itinerary search itself: pure Python over an in-memory flight graph, no I/O.

One pass per (origin, local day) finds, for every destination at once, the ``depth`` best
itineraries of 1 to ``max_legs`` flights. Order: total price, final arrival, fewer flights, then the
flight ids (so that equal itineraries always come out in the same order, here and in the tests).

Shape (RAPTOR-like bounded enumeration): departures per airport sorted by time so that a connection
window is two binary searches; a bounded max-heap per destination whose worst price prunes every
candidate that cannot enter it; two-flight prefixes grouped by their second flight, cheapest first,
because every prefix ending in the same flight has the same possible futures.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from heapq import heappush, heapreplace

# (total price in cents, final arrival epoch seconds, flight indices in travel order)
Itinerary = tuple[int, int, tuple[int, ...]]
Route = tuple[list[int], list[int], int, list[int], list[int]]


@dataclass(frozen=True, slots=True)
class Rules:
    min_connection: int  # seconds
    max_layover: int  # seconds
    max_legs: int


@dataclass
class Graph:
    """Flights as parallel arrays. Indices follow the flight ids' string order (the final tie-break)."""

    ids: list[uuid.UUID]
    src: list[int]
    dst: list[int]
    dep: list[int]
    arr: list[int]
    price: list[int]
    airports: list[str]
    code: dict[str, int]
    # Per airport: departure times (sorted) and the flight indices in that order.
    out_times: list[list[int]] = field(default_factory=list)
    out_flights: list[list[int]] = field(default_factory=list)
    # Per airport: destination -> (departure times, flight indices, cheapest price, prices, tails)
    # of that route; a tail is the low part of a 3-flight key ending in that flight (Heaps.key).
    routes: list[dict[int, Route]] = field(default_factory=list)

    @classmethod
    def build(cls, rows: Iterable[tuple[uuid.UUID, str, str, int, int, int]]) -> Graph:
        """Rows: (id, source, destination, departure epoch s, arrival epoch s, price in cents)."""
        # Raw id bytes sort as the ids' canonical strings do (the final tie-break), and as their
        # 128-bit integers (big-endian bytes): ``int`` is a plain attribute, ``bytes`` a property.
        ordered = sorted(rows, key=lambda r: r[0].int)
        code: dict[str, int] = {}
        for row in ordered:
            code.setdefault(row[1], len(code))
            code.setdefault(row[2], len(code))
        graph = cls(
            ids=[r[0] for r in ordered],
            src=[code[r[1]] for r in ordered],
            dst=[code[r[2]] for r in ordered],
            dep=[r[3] for r in ordered],
            arr=[r[4] for r in ordered],
            price=[r[5] for r in ordered],
            airports=list(code),
            code=code,
        )
        graph._index()
        return graph

    def _index(self) -> None:
        n = len(self.airports)
        by_source: list[list[int]] = [[] for _ in range(n)]
        for i, s in enumerate(self.src):
            by_source[s].append(i)
        dep = self.dep
        # Each list is in index order: a stable sort by departure orders by (departure, index).
        self.out_flights = [sorted(flights, key=dep.__getitem__) for flights in by_source]
        self.out_times = [[dep[i] for i in flights] for flights in self.out_flights]
        self.routes = []
        bits = max(1, len(self.ids).bit_length())
        legs_shift = 3 * bits
        arr, price = self.arr, self.price
        for flights in self.out_flights:
            grouped: dict[int, list[int]] = {}
            for i in flights:
                grouped.setdefault(self.dst[i], []).append(i)
            self.routes.append(
                {
                    destination: (
                        [dep[i] for i in members],
                        members,
                        min(price[i] for i in members),
                        [price[i] for i in members],
                        [((arr[i] << 2 | 3) << legs_shift) | i for i in members],
                    )
                    for destination, members in grouped.items()
                }
            )

    def departures(self, airport: int, start: int, end: int) -> list[int]:
        """Flights leaving ``airport`` with start <= departure < end."""
        times = self.out_times[airport]
        return self.out_flights[airport][bisect_left(times, start) : bisect_left(times, end)]


@dataclass
class Result:
    """Per destination: the best itineraries in order, and whether they are all there are."""

    lists: dict[int, list[Itinerary]]
    complete: dict[int, bool]


_ARRIVAL_BITS = 34  # epoch seconds up to the year 2514
_NO_LIMIT = 1 << 62


def _legs_decoder(bits: int) -> Callable[[int], tuple[int, ...]]:
    legs_shift = 3 * bits
    mask, legs_mask = (1 << bits) - 1, (1 << legs_shift) - 1

    def legs(key: int) -> tuple[int, ...]:
        count = (key >> legs_shift) & 3
        packed = key & legs_mask
        if count == 1:
            return (packed,)
        if count == 2:
            return (packed >> bits, packed & mask)
        return (packed >> 2 * bits, (packed >> bits) & mask, packed & mask)

    return legs


class Heaps:
    """Bounded max-heaps of packed itinerary keys, one per destination.

    A key packs (cost, arrival, legs count, flight indices) into one int whose order is the
    itinerary order, so the heaps compare plain ints (fast) and the flights decode from the key.
    """

    def __init__(self, flight_count: int, depth: int) -> None:
        self.bits = max(1, flight_count.bit_length())
        self.legs_shift = 3 * self.bits
        self.cost_shift = self.legs_shift + 2 + _ARRIVAL_BITS
        self.depth = depth
        self.heaps: dict[int, list[int]] = {}
        self.worst: dict[int, int] = {}  # cost of the worst kept itinerary, once a heap is full
        # A key's flight indices in travel order (a closure: the build calls it per itinerary).
        self.legs = _legs_decoder(self.bits)

    def key(self, cost: int, arrival: int, legs: tuple[int, ...]) -> int:
        packed = 0
        for flight in legs:
            packed = (packed << self.bits) | flight
        return ((((cost << _ARRIVAL_BITS) | arrival) << 2 | len(legs)) << self.legs_shift) | packed

    def offer(self, destination: int, key: int) -> None:
        heap = self.heaps.get(destination)
        if heap is None:
            heap = self.heaps[destination] = []
        if len(heap) < self.depth:
            heappush(heap, -key)
            if len(heap) == self.depth:
                self.worst[destination] = (-heap[0]) >> self.cost_shift
        elif -key > heap[0]:
            heapreplace(heap, -key)
            self.worst[destination] = (-heap[0]) >> self.cost_shift

    def decode(self, key: int) -> Itinerary:
        arrival = (key >> (self.legs_shift + 2)) & ((1 << _ARRIVAL_BITS) - 1)
        return key >> self.cost_shift, arrival, self.legs(key)

    def result(self) -> Result:
        lists: dict[int, list[Itinerary]] = {}
        complete: dict[int, bool] = {}
        for destination, heap in self.heaps.items():
            if not heap:
                continue
            lists[destination] = [self.decode(-k) for k in sorted(heap, reverse=True)]
            complete[destination] = len(heap) < self.depth
        return Result(lists, complete)


def search_origin(
    graph: Graph,
    origin: int,
    start: int,
    end: int,
    rules: Rules,
    depth: int,
    *,
    target: int | None = None,
) -> Result:
    """Best itineraries from ``origin`` whose first flight departs in [start, end).

    With ``target`` only itineraries ending there are collected (the exact per-pair search).
    """
    return search_keys(graph, origin, start, end, rules, depth, target=target).result()


def search_keys(
    graph: Graph,
    origin: int,
    start: int,
    end: int,
    rules: Rules,
    depth: int,
    *,
    target: int | None = None,
) -> Heaps:
    """As ``search_origin``, but the packed keys themselves (negated, in per-destination heaps)."""
    dst, arr, price = graph.dst, graph.arr, graph.price
    min_conn, max_layover, max_legs = rules.min_connection, rules.max_layover, rules.max_legs
    heaps = Heaps(len(graph.ids), depth)
    worst = heaps.worst
    bits, legs_shift, first_shift, arrival_shift = heaps.bits, heaps.legs_shift, 2 * heaps.bits, _ARRIVAL_BITS
    prefixes: dict[int, list[tuple[int, int]]] = {}
    for f1 in graph.departures(origin, start, end):
        x, p1, a1 = dst[f1], price[f1], arr[f1]
        if target is None or x == target:
            heaps.offer(x, heaps.key(p1, a1, (f1,)))
        if max_legs < 2 or x == target:
            continue
        times = graph.out_times[x]
        flights = graph.out_flights[x]
        for j in range(bisect_left(times, a1 + min_conn), bisect_right(times, a1 + max_layover)):
            f2 = flights[j]
            y = dst[f2]
            if y == origin:
                continue
            cost = p1 + price[f2]
            if (target is None or y == target) and cost <= worst.get(y, _NO_LIMIT):
                heaps.offer(y, ((cost << arrival_shift | arr[f2]) << 2 | 2) << legs_shift | f1 << bits | f2)
            if max_legs >= 3 and y != target:
                # The first flight pre-shifted to its place in a 3-flight key (_third_legs).
                group = prefixes.get(f2)
                if group is None:
                    prefixes[f2] = [(cost, f1 << first_shift)]
                else:
                    group.append((cost, f1 << first_shift))
    if prefixes:
        _third_legs(graph, origin, prefixes, rules, target, heaps)
    return heaps


def _third_legs(
    graph: Graph,
    origin: int,
    prefixes: dict[int, list[tuple[int, int]]],
    rules: Rules,
    target: int | None,
    heaps: Heaps,
) -> None:
    src, dst, arr = graph.src, graph.dst, graph.arr
    worst, all_heaps, depth = heaps.worst, heaps.heaps, heaps.depth
    bits, cost_shift = heaps.bits, heaps.cost_shift
    min_conn, max_layover = rules.min_connection, rules.max_layover
    # Second flights grouped by the airport they reach, cheapest prefix first: for one route out
    # of that airport, the second flights worth extending are then a prefix of the list.
    by_airport: dict[int, list[tuple[int, int]]] = {}
    for f2, group in prefixes.items():
        group.sort()
        by_airport.setdefault(dst[f2], []).append((group[0][0], f2))
    for second_flights in by_airport.values():
        second_flights.sort()
    for y, second_flights in by_airport.items():
        routes = graph.routes[y]
        if target is not None:
            route = routes.get(target)
            items = [(target, route)] if route is not None else []
        else:
            items = list(routes.items())
        for destination, (times, _, cheapest_leg, prices, tails) in items:
            if destination == origin:
                continue
            heap = all_heaps.get(destination)
            if heap is None:
                heap = all_heaps[destination] = []
            w = worst.get(destination, _NO_LIMIT)
            for cheapest, f2 in second_flights:
                if cheapest + cheapest_leg > w:
                    break
                if src[f2] == destination:
                    continue
                a2 = arr[f2]
                group = prefixes[f2]
                lo = bisect_left(times, a2 + min_conn)
                hi = bisect_right(times, a2 + max_layover, lo)
                middle = f2 << bits
                for j in range(lo, hi):
                    p3 = prices[j]
                    if cheapest + p3 > w:
                        continue
                    # Arrival, legs count (3) and the last two flights are the same for every prefix.
                    tail = tails[j] | middle
                    for cost, first in group:
                        total = cost + p3
                        if total > w:
                            break
                        negative = -((total << cost_shift) | tail | first)
                        if len(heap) < depth:
                            heappush(heap, negative)
                            if len(heap) == depth:
                                w = worst[destination] = (-heap[0]) >> cost_shift
                        elif negative > heap[0]:
                            heapreplace(heap, negative)
                            w = worst[destination] = (-heap[0]) >> cost_shift
