"""The builder's engine compiled with numba: the same search as engine.py, over typed arrays.

engine.py stays the reference (and the per-pair exact search of the read path, where a JIT warm-up
would cost more than the search). This module computes whole origin-days for the builder and also
encodes their lists (codec.py's format) in compiled code, so the builder's Python only slices
bytes. Semantics are engine.py's exactly: 1 to ``max_legs`` flights, connections within
[min_connection, max_layover] inclusive, no airport twice, order = total price, final arrival,
fewer flights, then flight indices (graph index order = raw id order), ``depth`` best per
destination, ``complete`` when fewer exist. tests/test_search_engine_compiled.py checks it against
engine.py on random graphs.

Keys: Python packs an itinerary into one int wider than 64 bits; here a key is three int64
compared lexicographically: cost, ``arrival << 2 | legs``, and the flight indices packed
``FLIGHT_BITS`` apiece (so graphs of up to 2**21 flights; larger ones use engine.py).

Compiled functions are cached on disk (``cache=True``: next to this file, or in NUMBA_CACHE_DIR).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numba import njit

from app.search.codec import FLIGHT, HEADER
from app.search.engine import Graph, Itinerary, Result, Rules

FLIGHT_BITS = 21
MAX_FLIGHTS = 1 << FLIGHT_BITS
_NO_LIMIT = 1 << 62
# Largest encoded list: header, at most 3 distinct flights per itinerary, 1 + 3 bytes per itinerary.
_LIST_BOUND_PER_ITINERARY = 3 * FLIGHT.size + 4

Array = Any  # numpy arrays (numba's typed view of them is not visible to mypy)
# numba has no type information: its decorator, typed for mypy.
_jit = cast(Callable[[Callable[..., Any]], Callable[..., Any]], njit(cache=True))
_inline = cast(Callable[[Callable[..., Any]], Callable[..., Any]], njit(cache=True, inline="always"))


@dataclass
class CompiledGraph:
    """Graph as CSR arrays. Per airport: departures in time order; its routes (one per
    destination), each with its flights in time order."""

    graph: Graph
    src: Array
    dst: Array
    arr: Array
    price: Array
    out_ptr: Array  # airport -> range in out_flights / out_times
    out_flights: Array
    out_times: Array
    route_ptr: Array  # airport -> range of route numbers
    route_dst: Array
    route_cheapest: Array
    member_ptr: Array  # route -> range in the member arrays
    member_flights: Array
    member_times: Array
    member_prices: Array
    member_arrivals: Array
    records: Array  # (flights, 32) uint8: codec.FLIGHT of each flight
    slots: Array  # scratch: flight -> index in the list being encoded (-1 outside)

    @classmethod
    def of(cls, graph: Graph, records: list[bytes]) -> CompiledGraph:
        i64 = np.int64
        n = len(graph.ids)
        out_flights = [f for flights in graph.out_flights for f in flights]
        out_ptr = np.cumsum([0] + [len(flights) for flights in graph.out_flights], dtype=i64)
        route_dst: list[int] = []
        route_cheapest: list[int] = []
        member_ptr = [0]
        members: list[int] = []
        route_ptr = [0]
        for routes in graph.routes:
            for destination, (_, flights, cheapest, _, _) in routes.items():
                route_dst.append(destination)
                route_cheapest.append(cheapest)
                members += flights
                member_ptr.append(len(members))
            route_ptr.append(len(route_dst))
        dep, price = np.asarray(graph.dep, dtype=i64), np.asarray(graph.price, dtype=i64)
        member_flights = np.asarray(members, dtype=i64)
        return cls(
            graph=graph,
            src=np.asarray(graph.src, dtype=i64),
            dst=np.asarray(graph.dst, dtype=i64),
            arr=np.asarray(graph.arr, dtype=i64),
            price=price,
            out_ptr=out_ptr,
            out_flights=np.asarray(out_flights, dtype=i64),
            out_times=dep[np.asarray(out_flights, dtype=i64)] if n else np.zeros(0, dtype=i64),
            route_ptr=np.asarray(route_ptr, dtype=i64),
            route_dst=np.asarray(route_dst, dtype=i64),
            route_cheapest=np.asarray(route_cheapest, dtype=i64),
            member_ptr=np.asarray(member_ptr, dtype=i64),
            member_flights=member_flights,
            member_times=dep[member_flights] if n else np.zeros(0, dtype=i64),
            member_prices=price[member_flights] if n else np.zeros(0, dtype=i64),
            member_arrivals=np.asarray(graph.arr, dtype=i64)[member_flights] if n else np.zeros(0, dtype=i64),
            records=np.frombuffer(b"".join(records), dtype=np.uint8).reshape(n, FLIGHT.size),
            slots=np.full(n, -1, dtype=np.int64),
        )


def supported(graph: Graph) -> bool:
    return len(graph.ids) < MAX_FLIGHTS


def warm_up(compiled: CompiledGraph, rules: Rules, depth: int) -> None:
    """Compile (or load from the disk cache) before forking, so build processes inherit it."""
    if compiled.graph.airports:
        encode_origin_day(compiled, 0, 0, 0, rules, depth)


def encode_origin_day(
    compiled: CompiledGraph, origin: int, start: int, end: int, rules: Rules, depth: int
) -> dict[int, bytes]:
    """Per destination, its encoded list (codec.encode_list's bytes) for departures in [start, end)."""
    heaps = _heaps(compiled, depth)
    _search(compiled, origin, start, end, rules, heaps)
    n = len(compiled.graph.airports)
    buffer = np.empty(n * (HEADER.size + depth * _LIST_BOUND_PER_ITINERARY), dtype=np.uint8)
    spans = np.empty((n, 3), dtype=np.int64)
    count = _encode(*heaps, depth, compiled.records, compiled.slots, buffer, spans)
    raw = buffer[: spans[count - 1, 2]].tobytes() if count else b""
    return {int(d): raw[lo:hi] for d, lo, hi in spans[:count].tolist()}


def search_origin(
    compiled: CompiledGraph, origin: int, start: int, end: int, rules: Rules, depth: int
) -> Result:
    """As engine.search_origin (no ``target``): for tests and comparisons."""
    costs, arrivals, flights, counts, _ = heaps = _heaps(compiled, depth)
    _search(compiled, origin, start, end, rules, heaps)
    lists: dict[int, list[Itinerary]] = {}
    complete: dict[int, bool] = {}
    mask = (1 << FLIGHT_BITS) - 1
    for destination in np.nonzero(counts)[0].tolist():
        k = int(counts[destination])
        entries = sorted(
            zip(
                costs[destination, :k].tolist(),
                arrivals[destination, :k].tolist(),
                flights[destination, :k].tolist(),
                strict=True,
            )
        )
        itineraries: list[Itinerary] = []
        for cost, arrival_legs, packed in entries:
            legs = arrival_legs & 3
            ids = tuple((packed >> (FLIGHT_BITS * (legs - 1 - m))) & mask for m in range(legs))
            itineraries.append((cost, arrival_legs >> 2, ids))
        lists[destination] = itineraries
        complete[destination] = k < depth
    return Result(lists, complete)


def _heaps(compiled: CompiledGraph, depth: int) -> tuple[Array, Array, Array, Array, Array]:
    n = len(compiled.graph.airports)
    i64 = np.int64
    return (
        np.empty((n, depth), dtype=i64),  # costs
        np.empty((n, depth), dtype=i64),  # arrival << 2 | legs
        np.empty((n, depth), dtype=i64),  # packed flights
        np.zeros(n, dtype=i64),  # entries per destination
        np.full(n, _NO_LIMIT, dtype=i64),  # worst kept cost once full
    )


def _search(
    c: CompiledGraph, origin: int, start: int, end: int, rules: Rules, heaps: tuple[Array, ...]
) -> None:
    _search_kernel(
        origin, start, end, rules.min_connection, rules.max_layover, rules.max_legs,
        c.src, c.dst, c.arr, c.price, c.out_ptr, c.out_flights, c.out_times,
        c.route_ptr, c.route_dst, c.route_cheapest, c.member_ptr, c.member_flights,
        c.member_times, c.member_prices, c.member_arrivals, *heaps, c.slots,
    )  # fmt: skip


@_inline
def _before(c1: int, a1: int, f1: int, c2: int, a2: int, f2: int) -> bool:
    if c1 != c2:
        return c1 < c2
    if a1 != a2:
        return a1 < a2
    return f1 < f2


@_inline
def _offer(d, cost, al, fl, costs, als, fls, counts, worst):  # type: ignore[no-untyped-def]
    """Bounded max-heap per destination (root = worst kept key)."""
    depth = costs.shape[1]
    n = counts[d]
    if n < depth:
        i = n
        counts[d] = n + 1
        while i > 0:
            parent = (i - 1) >> 1
            if not _before(costs[d, parent], als[d, parent], fls[d, parent], cost, al, fl):
                break
            costs[d, i], als[d, i], fls[d, i] = costs[d, parent], als[d, parent], fls[d, parent]
            i = parent
        costs[d, i], als[d, i], fls[d, i] = cost, al, fl
        if n + 1 == depth:
            worst[d] = costs[d, 0]
    elif _before(cost, al, fl, costs[d, 0], als[d, 0], fls[d, 0]):
        i = 0
        while True:
            child = 2 * i + 1
            if child >= depth:
                break
            right = child + 1
            if right < depth and _before(
                costs[d, child], als[d, child], fls[d, child], costs[d, right], als[d, right], fls[d, right]
            ):
                child = right
            if not _before(cost, al, fl, costs[d, child], als[d, child], fls[d, child]):
                break
            costs[d, i], als[d, i], fls[d, i] = costs[d, child], als[d, child], fls[d, child]
            i = child
        costs[d, i], als[d, i], fls[d, i] = cost, al, fl
        worst[d] = costs[d, 0]


@_jit
def _search_kernel(  # type: ignore[no-untyped-def]
    origin, start, end, min_conn, max_layover, max_legs,
    src, dst, arr, price, out_ptr, out_flights, out_times,
    route_ptr, route_dst, route_cheapest, member_ptr, member_flights, member_times, member_prices,
    member_arrivals, costs, als, fls, counts, worst, slots,
):  # fmt: skip
    shift1 = 2 * FLIGHT_BITS
    lo_out, hi_out = out_ptr[origin], out_ptr[origin + 1]
    first = first_at_least(out_times, lo_out, hi_out, start)
    last = first_at_least(out_times, first, hi_out, end)
    # Two-flight prefixes (second flight, cost, first flight), kept for the third legs.
    capacity = 1024
    p_f2 = np.empty(capacity, dtype=np.int64)
    p_cost = np.empty(capacity, dtype=np.int64)
    p_f1 = np.empty(capacity, dtype=np.int64)
    size = 0
    for k in range(first, last):
        f1 = out_flights[k]
        x, p1, a1 = dst[f1], price[f1], arr[f1]
        _offer(x, p1, a1 << 2 | 1, f1, costs, als, fls, counts, worst)
        if max_legs < 2:
            continue
        lo = first_at_least(out_times, out_ptr[x], out_ptr[x + 1], a1 + min_conn)
        hi = _right(out_times, lo, out_ptr[x + 1], a1 + max_layover)
        for j in range(lo, hi):
            f2 = out_flights[j]
            y = dst[f2]
            if y == origin:
                continue
            cost = p1 + price[f2]
            if cost <= worst[y]:
                _offer(y, cost, arr[f2] << 2 | 2, f1 << FLIGHT_BITS | f2, costs, als, fls, counts, worst)
            if max_legs >= 3:
                if size == capacity:
                    capacity *= 2
                    p_f2, p_cost, p_f1 = _grow(p_f2, capacity), _grow(p_cost, capacity), _grow(p_f1, capacity)
                p_f2[size], p_cost[size], p_f1[size] = f2, cost, f1
                size += 1
    if size == 0:
        return
    # Prefixes grouped by second flight (all prefixes ending in one flight have the same futures),
    # each group cheapest first. ``slots`` maps a flight to its group meanwhile (-1 elsewhere).
    group_f2 = np.empty(size, dtype=np.int64)
    starts = np.zeros(size + 1, dtype=np.int64)
    groups = 0
    for k in range(size):
        g = slots[p_f2[k]]
        if g < 0:
            g = groups
            slots[p_f2[k]] = g
            group_f2[g] = p_f2[k]
            groups += 1
        starts[g + 1] += 1
    for g in range(groups):
        starts[g + 1] += starts[g]
    fill = starts[:groups].copy()
    g_cost = np.empty(size, dtype=np.int64)
    g_first = np.empty(size, dtype=np.int64)
    for k in range(size):
        g = slots[p_f2[k]]
        g_cost[fill[g]], g_first[fill[g]] = p_cost[k], p_f1[k] << shift1
        fill[g] += 1
    for g in range(groups):
        slots[group_f2[g]] = -1
    cheapest = np.empty(groups, dtype=np.int64)
    for g in range(groups):
        _sort_by_cost(g_cost, g_first, starts[g], starts[g + 1])
        cheapest[g] = g_cost[starts[g]]
    # Groups by the airport their second flight reaches, each airport's cheapest prefix first: for
    # one route out of that airport the second flights worth extending are then a prefix of them.
    airports = route_ptr.shape[0] - 1
    bucket = np.zeros(airports + 1, dtype=np.int64)
    for g in range(groups):
        bucket[dst[group_f2[g]] + 1] += 1
    for y in range(airports):
        bucket[y + 1] += bucket[y]
    fill = bucket[:airports].copy()
    by = np.empty(groups, dtype=np.int64)
    for g in range(groups):
        y = dst[group_f2[g]]
        by[fill[y]] = g
        fill[y] += 1
    for y in range(airports):
        lo, hi = bucket[y], bucket[y + 1]
        if hi - lo > 1:
            by[lo:hi] = by[lo:hi][np.argsort(cheapest[by[lo:hi]])]
    for y in range(airports):
        run, run_end = bucket[y], bucket[y + 1]
        if run == run_end:
            continue
        for r in range(route_ptr[y], route_ptr[y + 1]):
            destination = route_dst[r]
            if destination == origin:
                continue
            m_lo, m_hi = member_ptr[r], member_ptr[r + 1]
            cheapest_leg = route_cheapest[r]
            for g in by[run:run_end]:
                w = worst[destination]
                best = cheapest[g]
                if best + cheapest_leg > w:
                    break
                f2 = group_f2[g]
                if src[f2] == destination:
                    continue
                a2 = arr[f2]
                lo = first_at_least(member_times, m_lo, m_hi, a2 + min_conn)
                hi = _right(member_times, lo, m_hi, a2 + max_layover)
                middle = f2 << FLIGHT_BITS
                for j in range(lo, hi):
                    p3 = member_prices[j]
                    if best + p3 > worst[destination]:
                        continue
                    al = member_arrivals[j] << 2 | 3
                    tail = middle | member_flights[j]
                    for k in range(starts[g], starts[g + 1]):
                        total = g_cost[k] + p3
                        if total > worst[destination]:
                            break
                        _offer(destination, total, al, g_first[k] | tail, costs, als, fls, counts, worst)


@_inline
def first_at_least(values, lo, hi, x):  # type: ignore[no-untyped-def]
    """First index in [lo, hi) whose value is >= x (hi if none): bisect_left on a sorted range."""
    while lo < hi:
        middle = (lo + hi) >> 1
        if values[middle] < x:
            lo = middle + 1
        else:
            hi = middle
    return lo


@_inline
def _right(values, lo, hi, x):  # type: ignore[no-untyped-def]
    """First index in [lo, hi) whose value is > x (hi if none): bisect_right on a sorted range."""
    while lo < hi:
        middle = (lo + hi) >> 1
        if values[middle] <= x:
            lo = middle + 1
        else:
            hi = middle
    return lo


@_jit
def _sort_by_cost(costs, firsts, lo, hi):  # type: ignore[no-untyped-def]
    """Sort [lo, hi) of both arrays by cost (ties in any order: only the cost prunes)."""
    if hi - lo > 32:
        order = lo + np.argsort(costs[lo:hi])
        costs[lo:hi], firsts[lo:hi] = costs[order], firsts[order]
        return
    for i in range(lo + 1, hi):
        cost, first = costs[i], firsts[i]
        j = i - 1
        while j >= lo and costs[j] > cost:
            costs[j + 1], firsts[j + 1] = costs[j], firsts[j]
            j -= 1
        costs[j + 1], firsts[j + 1] = cost, first


@_jit
def _grow(values, capacity):  # type: ignore[no-untyped-def]
    grown = np.empty(capacity, dtype=values.dtype)
    grown[: values.shape[0]] = values
    return grown


@_jit
def _encode(costs, als, fls, counts, worst, depth, records, slots, buffer, spans):  # type: ignore[no-untyped-def]
    """Every non-empty heap as codec.encode_list bytes; spans[k] = (destination, start, end)."""
    mask = (1 << FLIGHT_BITS) - 1
    record_size = records.shape[1]
    position = 0
    count = 0
    table = np.empty(3 * depth, dtype=np.int64)
    body = np.empty(4 * depth, dtype=np.uint8)
    for d in range(counts.shape[0]):
        n = counts[d]
        if n == 0:
            continue
        # Ascending order, in place (the heap is not needed any more): insertion sort of <= depth keys.
        c, a, f = costs[d], als[d], fls[d]
        for i in range(1, n):
            ci, ai, fi = c[i], a[i], f[i]
            j = i - 1
            while j >= 0 and _before(ci, ai, fi, c[j], a[j], f[j]):
                c[j + 1], a[j + 1], f[j + 1] = c[j], a[j], f[j]
                j -= 1
            c[j + 1], a[j + 1], f[j + 1] = ci, ai, fi
        # Body first (it numbers the distinct flights), after room for the header and table.
        distinct = 0
        length = 0
        for i in range(n):
            legs = a[i] & 3
            body[length] = legs
            length += 1
            for m in range(legs):
                flight = (f[i] >> (FLIGHT_BITS * (legs - 1 - m))) & mask
                slot = slots[flight]
                if slot < 0:
                    slot = distinct
                    slots[flight] = slot
                    table[distinct] = flight
                    distinct += 1
                body[length] = slot
                length += 1
        begin = position
        buffer[position] = 1 if n < depth else 0
        buffer[position + 1] = n
        buffer[position + 2] = distinct
        last = c[n - 1]
        for b in range(8):
            buffer[position + 3 + b] = (last >> (8 * b)) & 0xFF
        position += 11
        for t in range(distinct):
            buffer[position : position + record_size] = records[table[t]]
            position += record_size
            slots[table[t]] = -1
        buffer[position : position + length] = body[:length]
        position += length
        spans[count, 0], spans[count, 1], spans[count, 2] = d, begin, position
        count += 1
    return count
