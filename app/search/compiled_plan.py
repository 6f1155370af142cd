"""incremental.py's plan walk compiled with numba: which lists a change touches (``fields``) and
which itineraries through its new versions enter them (``candidates``), over int arrays.

Invariant: for the same pool, flights, origin-days and bounds, ``fields`` marks exactly the
(origin-day, destination) pairs of ``incremental.Shapes.pairs`` over the given shape flights, and
``candidates`` yields exactly the itineraries ``incremental.Shapes.candidates`` adds (same prunes,
same comparisons, in float64 as Python compares ints with floats), checked by
tests/test_search_incremental_compiled.py (hypothesis, against the Shapes walk as the reference).

Arrays (one row per pool flight, duplicates allowed: they only repeat an itinerary the caller's
sets hold once): ``ends`` = rows (source, destination) of airport codes, ``ints`` = rows
(departure, arrival, cents). ``by_airport`` sorts them per airport as ``incremental.Pool`` does
(leaving: by source then departure; reaching: by destination then arrival), and the windows are
Pool.before/after's bisections. Origin-days are indices (``day``; -1 for flights no itinerary
starts with), computed in Python (time zones) for the flights ``firsts`` returns.

Compiled on first call and cached on disk (``cache=True``, as compiled_patch.py): ``warm_up`` runs
a tiny plan so that the API process loads the kernels at startup, not on the first admin change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numba import njit

Array = Any  # numpy arrays (numba's typed view of them is not visible to mypy)
_jit = cast(Callable[[Callable[..., Any]], Callable[..., Any]], njit(cache=True))
_inline = cast(Callable[[Callable[..., Any]], Callable[..., Any]], njit(cache=True, inline="always"))

SOURCE, DESTINATION = 0, 1  # rows of ``ends``
DEPARTURE, ARRIVAL, CENTS = 0, 1, 2  # rows of ``ints``
# Columns of a candidate row: legs, origin-day, destination, then the legs' flights (-1: none).
LEGS, DAY, TO, LEG = 0, 1, 2, 3


@_jit
def by_airport(airport: Array, times: Array, airports: int) -> tuple[Array, Array, Array]:
    """(order, starts, sorted times): flights ``order[starts[a]:starts[a + 1]]`` are airport a's,
    by time (a counting sort on the airport, then each airport's few flights sorted)."""
    n = airport.shape[0]
    starts = np.zeros(airports + 1, dtype=np.int64)
    for i in range(n):
        starts[airport[i] + 1] += 1
    for a in range(airports):
        starts[a + 1] += starts[a]
    fill = starts[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        order[fill[airport[i]]] = i
        fill[airport[i]] += 1
    for a in range(airports):
        lo, hi = starts[a], starts[a + 1]
        if hi - lo > 1:
            segment = order[lo:hi].copy()
            order[lo:hi] = segment[np.argsort(times[segment], kind="mergesort")]
    return order, starts, times[order]


@_inline
def _first_at_least(times, lo, hi, value):  # type: ignore[no-untyped-def]
    while lo < hi:
        mid = (lo + hi) >> 1
        if times[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_inline
def _first_above(times, lo, hi, value):  # type: ignore[no-untyped-def]
    while lo < hi:
        mid = (lo + hi) >> 1
        if times[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_inline
def _window(starts, times, airport, lo, hi):  # type: ignore[no-untyped-def]
    """Positions of the airport's flights with time in [lo, hi] (bisect_left / bisect_right)."""
    a, b = starts[airport], starts[airport + 1]
    first = _first_at_least(times, a, b, lo)
    return first, _first_above(times, first, b, hi)


@_jit
def firsts(
    shapes: Array,
    changed: Array,
    legs: int,
    min_connection: int,
    max_layover: int,
    ends: Array,
    ints: Array,
    leaving: Array,
    reaching: Array,
    reaching_starts: Array,
    reaching_times: Array,
) -> Array:
    """The flights an itinerary through a shape flight starts with (every changed flight, the
    shapes' p and q), in ``leaving`` order (by source, then departure): those that need an
    origin-day."""
    n = ends.shape[1]
    marked = np.zeros(n, dtype=np.bool_)
    for f in changed:
        marked[f] = True
    for f in shapes:
        if legs < 2:
            continue
        fs, fd = ends[SOURCE, f], ends[DESTINATION, f]
        lo, hi = _window(
            reaching_starts,
            reaching_times,
            fs,
            ints[DEPARTURE, f] - max_layover,
            ints[DEPARTURE, f] - min_connection,
        )
        for k in range(lo, hi):
            p = reaching[k]
            ps = ends[SOURCE, p]
            if ps in (fs, fd):
                continue
            marked[p] = True
            if legs < 3:
                continue
            lo2, hi2 = _window(
                reaching_starts,
                reaching_times,
                ps,
                ints[DEPARTURE, p] - max_layover,
                ints[DEPARTURE, p] - min_connection,
            )
            for k2 in range(lo2, hi2):
                q = reaching[k2]
                qs = ends[SOURCE, q]
                if qs != fs and qs != fd and qs != ps:
                    marked[q] = True
    count = 0
    for k in range(n):
        if marked[leaving[k]]:
            count += 1
    out = np.empty(count, dtype=np.int64)
    count = 0
    for k in range(n):
        if marked[leaving[k]]:
            out[count] = leaving[k]
            count += 1
    return out


@_inline
def _after(f, min_connection, max_layover, ends, ints, leaving, leaving_starts, leaving_times):  # type: ignore[no-untyped-def]
    """Shapes.after's s flights, cheapest first (any order among equal prices: the loops over
    them stop at a price, so ties never decide what is visited)."""
    fs, fd = ends[SOURCE, f], ends[DESTINATION, f]
    lo, hi = _window(
        leaving_starts, leaving_times, fd, ints[ARRIVAL, f] + min_connection, ints[ARRIVAL, f] + max_layover
    )
    found = np.empty(hi - lo, dtype=np.int64)
    count = 0
    for k in range(lo, hi):
        s = leaving[k]
        sd = ends[DESTINATION, s]
        if sd != fs and sd != fd:
            found[count] = s
            count += 1
    found = found[:count]
    prices = np.empty(count, dtype=np.int64)
    for k in range(count):
        prices[k] = ints[CENTS, found[k]]
    return found[np.argsort(prices, kind="mergesort")]


@_jit
def fields(
    shapes: Array,
    legs: int,
    min_connection: int,
    max_layover: int,
    ends: Array,
    ints: Array,
    day: Array,
    days: int,
    airports: int,
    leaving: Array,
    leaving_starts: Array,
    leaving_times: Array,
    reaching: Array,
    reaching_starts: Array,
    reaching_times: Array,
) -> Array:
    """[origin-day, destination]: True for each pair Shapes.pairs names for a shape flight."""
    found = np.zeros((days, airports), dtype=np.bool_)
    seen = np.zeros(airports, dtype=np.bool_)
    ends1 = np.empty(airports, dtype=np.int64)
    for f in shapes:
        fs, fd, own = ends[SOURCE, f], ends[DESTINATION, f], day[f]
        found[own, fd] = True
        if legs < 2:
            continue
        after = _after(f, min_connection, max_layover, ends, ints, leaving, leaving_starts, leaving_times)
        distinct = 0
        for s in after:
            sd = ends[DESTINATION, s]
            found[own, sd] = True
            if not seen[sd]:
                seen[sd] = True
                ends1[distinct] = sd
                distinct += 1
            if legs < 3:
                continue
            lo, hi = _window(
                leaving_starts,
                leaving_times,
                sd,
                ints[ARRIVAL, s] + min_connection,
                ints[ARRIVAL, s] + max_layover,
            )
            for k in range(lo, hi):
                ud = ends[DESTINATION, leaving[k]]
                if ud != fs and ud != fd and ud != sd:
                    found[own, ud] = True
        for k in range(distinct):
            seen[ends1[k]] = False
        lo, hi = _window(
            reaching_starts,
            reaching_times,
            fs,
            ints[DEPARTURE, f] - max_layover,
            ints[DEPARTURE, f] - min_connection,
        )
        for k in range(lo, hi):
            p = reaching[k]
            ps = ends[SOURCE, p]
            if ps in (fs, fd):
                continue
            mine = day[p]
            found[mine, fd] = True
            if legs < 3:
                continue
            for e in range(distinct):
                if ends1[e] != ps:
                    found[mine, ends1[e]] = True
            lo2, hi2 = _window(
                reaching_starts,
                reaching_times,
                ps,
                ints[DEPARTURE, p] - max_layover,
                ints[DEPARTURE, p] - min_connection,
            )
            for k2 in range(lo2, hi2):
                q = reaching[k2]
                qs = ends[SOURCE, q]
                if qs != fs and qs != fd and qs != ps:
                    found[day[q], fd] = True
    return found


@_inline
def _add(out, count, legs, day, to, a, b, c, stale):  # type: ignore[no-untyped-def]
    """Append a candidate row unless one of its flights is stale; returns (out, count)."""
    if stale[a] or (b >= 0 and stale[b]) or (c >= 0 and stale[c]):
        return out, count
    if count == out.shape[0]:
        grown = np.empty((2 * count, out.shape[1]), dtype=np.int64)
        grown[:count] = out
        out = grown
    out[count, LEGS] = legs
    out[count, DAY] = day
    out[count, TO] = to
    out[count, LEG] = a
    out[count, LEG + 1] = b
    out[count, LEG + 2] = c
    return out, count + 1


@_jit
def candidates(
    flights: Array,
    q_ceilings: Array,
    legs: int,
    min_connection: int,
    max_layover: int,
    day: Array,
    stale: Array,
    bound: Array,
    bounded: Array,
    ceiling: Array,
    ends: Array,
    ints: Array,
    leaving: Array,
    leaving_starts: Array,
    leaving_times: Array,
    reaching: Array,
    reaching_starts: Array,
    reaching_times: Array,
) -> Array:
    """Candidate rows (LEGS, DAY, TO, LEG..) of Shapes.candidates for each new flight.
    ``bound[d, t]``: the list's bound (-1 where bounds has none); ``bounded[d]``: bounds has a
    non-empty mapping for the day; ``ceiling[d]``: its highest bound; ``q_ceilings[i]``: the
    highest bound of any day's list to flights[i]'s destination (-1: none)."""
    out = np.empty((64, LEG + 3), dtype=np.int64)
    count = 0
    for i in range(flights.shape[0]):
        f = flights[i]
        fs, fd, own = ends[SOURCE, f], ends[DESTINATION, f], day[f]
        price = ints[CENTS, f]
        after = np.empty(0, dtype=np.int64)
        if legs >= 2:
            after = _after(f, min_connection, max_layover, ends, ints, leaving, leaving_starts, leaving_times)
        if bounded[own]:
            top = ceiling[own]
            if price <= bound[own, fd]:
                out, count = _add(out, count, 1, own, fd, f, -1, -1, stale)
            for s in after:
                cost = price + ints[CENTS, s]
                if cost > top:
                    break
                sd = ends[DESTINATION, s]
                if cost <= bound[own, sd]:
                    out, count = _add(out, count, 2, own, sd, f, s, -1, stale)
                if legs < 3:
                    continue
                lo, hi = _window(
                    leaving_starts,
                    leaving_times,
                    sd,
                    ints[ARRIVAL, s] + min_connection,
                    ints[ARRIVAL, s] + max_layover,
                )
                for k in range(lo, hi):
                    u = leaving[k]
                    ud = ends[DESTINATION, u]
                    if ud in (fs, fd, sd):
                        continue
                    total = cost + ints[CENTS, u]
                    if total <= top and total <= bound[own, ud]:
                        out, count = _add(out, count, 3, own, ud, f, s, u, stale)
        if legs < 2:
            continue
        q_ceiling = q_ceilings[i]
        lo, hi = _window(
            reaching_starts,
            reaching_times,
            fs,
            ints[DEPARTURE, f] - max_layover,
            ints[DEPARTURE, f] - min_connection,
        )
        for k in range(lo, hi):
            p = reaching[k]
            ps = ends[SOURCE, p]
            if ps in (fs, fd):
                continue
            cost = ints[CENTS, p] + price
            mine = day[p]
            if bounded[mine]:
                if cost <= bound[mine, fd]:
                    out, count = _add(out, count, 2, mine, fd, p, f, -1, stale)
                if legs >= 3:
                    limit = ceiling[mine] - cost
                    for s in after:
                        if ints[CENTS, s] > limit:
                            break
                        sd = ends[DESTINATION, s]
                        if sd != ps and cost + ints[CENTS, s] <= bound[mine, sd]:
                            out, count = _add(out, count, 3, mine, sd, p, f, s, stale)
            if legs < 3 or cost >= q_ceiling:
                continue
            lo2, hi2 = _window(
                reaching_starts,
                reaching_times,
                ps,
                ints[DEPARTURE, p] - max_layover,
                ints[DEPARTURE, p] - min_connection,
            )
            for k2 in range(lo2, hi2):
                q = reaching[k2]
                qs = ends[SOURCE, q]
                if qs in (fs, fd, ps):
                    continue
                first = day[q]
                if cost + ints[CENTS, q] <= bound[first, fd]:
                    out, count = _add(out, count, 3, first, fd, q, p, f, stale)
    return out[:count]
