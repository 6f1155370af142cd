"""The exact filtered and sorted search, compiled: a bounded enumeration over a timetable's arrays.

Semantics are ordered.py's reference (``best``) exactly: 1 to ``max_legs`` flights from any of the
sources to any of the destinations, connections within [min_connection, max_layover] inclusive, no
airport twice, the first departure inside its source's window; filters (legs, local departure
minute at the first airport inclusive, whole-minute duration inclusive) and flights marked
``banned`` (too few seats) excluded; the first ``k`` under the sort's key (its own value, then the
price order: total price, final arrival, fewer flights, raw flight ids). tests/test_search_scan.py
checks it against ``ordered.best`` on random schedules, every sort and filter.

Pruning never changes the answer, only the work: a partial path is dropped when a lower bound of
its sort value exceeds the k-th best complete value found so far (ties are explored: the price
order breaks them). The bounds come from per-query tables over the routes: the cheapest and the
shortest way from each airport to a destination in one or two more flights (times ignored, so
they are lower bounds), and an airport that cannot reach a destination at all is never entered.

One call answers several windows (the calendar's days), each with its own top ``k``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numba import njit

from app.search.compiled import first_at_least

Array = Any  # numpy arrays (numba's typed view of them is not visible to mypy)
_jit = cast(Callable[[Callable[..., Any]], Callable[..., Any]], njit(cache=True))
_inline = cast(Callable[[Callable[..., Any]], Callable[..., Any]], njit(cache=True, inline="always"))

SORT_PRICE, SORT_DURATION, SORT_DEPARTURE, SORT_ARRIVAL = 0, 1, 2, 3
_INF = 1 << 62


@_inline
def _route(rk_ptr, rk_dst, a, d):  # type: ignore[no-untyped-def]
    """The route number from airport a to d, -1 if no flight ever flies it."""
    lo = rk_ptr[a]
    hi = rk_ptr[a + 1]
    end = hi
    while lo < hi:
        mid = (lo + hi) >> 1
        if rk_dst[mid] < d:
            lo = mid + 1
        else:
            hi = mid
    if lo < end and rk_dst[lo] == d:
        return lo
    return -1


@_inline
def _precedes(k0, c, a, n, f0, f1, f2, j, tk0, tc, ta, tn, tf, idh, idl):  # type: ignore[no-untyped-def]
    """Whether the candidate comes before the j-th kept itinerary."""
    if k0 != tk0[j]:
        return k0 < tk0[j]
    if c != tc[j]:
        return c < tc[j]
    if a != ta[j]:
        return a < ta[j]
    if n != tn[j]:
        return n < tn[j]
    for i in range(n):
        fa = f0 if i == 0 else (f1 if i == 1 else f2)
        fb = tf[j, i]
        if idh[fa] != idh[fb]:
            return idh[fa] < idh[fb]
        if idl[fa] != idl[fb]:
            return idl[fa] < idl[fb]
    return False


@_inline
def _move(to, at, tk0, tc, ta, tn, tf):  # type: ignore[no-untyped-def]
    """Copy the kept itinerary at ``at`` to ``to``."""
    _put(to, tk0[at], tc[at], ta[at], tn[at], tf[at, 0], tf[at, 1], tf[at, 2], tk0, tc, ta, tn, tf)


@_inline
def _put(to, k0, c, a, n, f0, f1, f2, tk0, tc, ta, tn, tf):  # type: ignore[no-untyped-def]
    """Store an itinerary's values in the kept slot ``to``."""
    tk0[to] = k0
    tc[to] = c
    ta[to] = a
    tn[to] = n
    tf[to, 0] = f0
    tf[to, 1] = f1
    tf[to, 2] = f2


@_inline
def _sink(size, k0, c, a, n, f0, f1, f2, tk0, tc, ta, tn, tf, idh, idl):  # type: ignore[no-untyped-def]
    """Place the candidate at the root of the kept heap of ``size`` (the root's own entry is
    dropped), moving worse children up until it is worse than neither."""
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        other = child + 1
        if other < size and _precedes(
            tk0[child], tc[child], ta[child], tn[child], tf[child, 0], tf[child, 1], tf[child, 2],
            other, tk0, tc, ta, tn, tf, idh, idl,
        ):  # fmt: skip
            child = other  # the worse of the two
        if not _precedes(k0, c, a, n, f0, f1, f2, child, tk0, tc, ta, tn, tf, idh, idl):
            break
        _move(pos, child, tk0, tc, ta, tn, tf)
        pos = child
    _put(pos, k0, c, a, n, f0, f1, f2, tk0, tc, ta, tn, tf)


@_inline
def _offer(count, k, k0, c, a, n, f0, f1, f2, tk0, tc, ta, tn, tf, idh, idl):  # type: ignore[no-untyped-def]
    """Keep the candidate if it belongs to the top k; the new count. The kept itineraries form a
    heap whose root (slot 0) is the worst of them, the k-th once k are kept: an insertion costs
    O(log k) comparisons, not a shift of the sorted list (offers come in no order: filling the
    top 24 of a sorted search took ~12 comparisons and moves each). ``_ranked`` sorts them."""
    if count == k:
        if _precedes(k0, c, a, n, f0, f1, f2, 0, tk0, tc, ta, tn, tf, idh, idl):
            _sink(k, k0, c, a, n, f0, f1, f2, tk0, tc, ta, tn, tf, idh, idl)
        return count
    pos = count
    while pos > 0:
        parent = (pos - 1) >> 1
        if _precedes(k0, c, a, n, f0, f1, f2, parent, tk0, tc, ta, tn, tf, idh, idl):
            break  # the parent is worse: the heap holds
        _move(pos, parent, tk0, tc, ta, tn, tf)
        pos = parent
    _put(pos, k0, c, a, n, f0, f1, f2, tk0, tc, ta, tn, tf)
    return count + 1


@_inline
def _ranked(count, tk0, tc, ta, tn, tf, idh, idl, rk0, rc, ra, rn, rf):  # type: ignore[no-untyped-def]
    """The kept heap's itineraries in order into the r* arrays (the heap is consumed): the root,
    the worst, goes last, then the heap's last entry sinks from the root."""
    size = count
    while size > 0:
        size -= 1
        _put(size, tk0[0], tc[0], ta[0], tn[0], tf[0, 0], tf[0, 1], tf[0, 2], rk0, rc, ra, rn, rf)
        if size > 0:
            _sink(
                size, tk0[size], tc[size], ta[size], tn[size], tf[size, 0], tf[size, 1], tf[size, 2],
                tk0, tc, ta, tn, tf, idh, idl,
            )  # fmt: skip


@_inline
def _value(sort, c, d0, a):  # type: ignore[no-untyped-def]
    if sort == 1:
        return a - d0
    if sort == 2:
        return d0
    if sort == 3:
        return a
    return c


@_inline
def _bound(sort, c, d0, a, min_conn, hc, hd):  # type: ignore[no-untyped-def]
    """A lower bound of the sort value of any completion of a partial path (its last arrival a,
    its cost c) that needs more flights whose cheapest total is hc and shortest total hd."""
    if hc >= _INF:
        return _INF
    if sort == 1:
        return a + min_conn + hd - d0
    if sort == 2:
        return d0
    if sort == 3:
        return a + min_conn + hd
    return c + hc


@_inline
def _beaten(count, k, lb, lc, tk0, tc):  # type: ignore[no-untyped-def]
    """Whether no itinerary whose sort value is at least ``lb`` and whose total price is at least
    ``lc`` can rank: k are kept and the k-th comes first (its value lower, or equal and its price
    lower: the price order breaks ties, so a tie in value is decided by price, not explored)."""
    if count < k:
        return False
    last = tk0[0]
    return lb > last or (lb == last and lc > tc[0])


@_inline
def _sift(heap, lb, at, size):  # type: ignore[no-untyped-def]
    """Restore the min-heap (of candidate numbers keyed by ``lb``) below position ``at``."""
    x = heap[at]
    key = lb[x]
    while True:
        child = 2 * at + 1
        if child >= size:
            break
        if child + 1 < size and lb[heap[child + 1]] < lb[heap[child]]:
            child += 1
        if lb[heap[child]] >= key:
            break
        heap[at] = heap[child]
        at = child
    heap[at] = x


@_jit
def _reach(rk_ptr, rk_dst, rk_minc, rk_mindur, dests, min_conn):  # type: ignore[no-untyped-def]
    """Per airport, the cheapest and the shortest (flights plus minimum connections) way to a
    destination in exactly one more flight (hc1, hd1), in exactly two (hc3, hd3: the three-flight
    step's bound for all of an airport's routes at once) and in one or two (hc2, hd2)."""
    n = rk_ptr.shape[0] - 1
    hc1 = np.full(n, _INF, dtype=np.int64)
    hd1 = np.full(n, _INF, dtype=np.int64)
    for x in range(n):
        for q in range(dests.shape[0]):
            r = _route(rk_ptr, rk_dst, x, dests[q])
            if r >= 0:
                hc1[x] = min(hc1[x], rk_minc[r])
                hd1[x] = min(hd1[x], rk_mindur[r])
    hc3 = np.full(n, _INF, dtype=np.int64)
    hd3 = np.full(n, _INF, dtype=np.int64)
    for x in range(n):
        for r in range(rk_ptr[x], rk_ptr[x + 1]):
            y = rk_dst[r]
            if hc1[y] < _INF:
                hc3[x] = min(hc3[x], rk_minc[r] + hc1[y])
                hd3[x] = min(hd3[x], rk_mindur[r] + min_conn + hd1[y])
    return hc1, hd1, np.minimum(hc1, hc3), np.minimum(hd1, hd3), hc3, hd3


@_jit
def _scan(  # type: ignore[no-untyped-def]
    out_ptr, dep, arr, cents, dst, idh, idl,
    rk_ptr, rk_dst, rk_lo, rk_hi, rk_minc, rk_mindur, r_flight, r_dep, r_arr, r_cents,
    banned, screened, sources, starts, ends, tz_switch, tz_before, tz_after, windowed,
    dests, max_legs, min_conn, max_lay, after, before, longest, sort, k,
    out_n, out_f,
):  # fmt: skip
    hc1, hd1, hc2, hd2, hc3, hd3 = _reach(rk_ptr, rk_dst, rk_minc, rk_mindur, dests, min_conn)
    is_dest = np.zeros(rk_ptr.shape[0] - 1, dtype=np.bool_)  # (built here: no array per call)
    for q in range(dests.shape[0]):
        is_dest[dests[q]] = True
    tk0 = np.empty(k, dtype=np.int64)
    tc = np.empty(k, dtype=np.int64)
    ta = np.empty(k, dtype=np.int64)
    tn = np.empty(k, dtype=np.int64)
    tf = np.full((k, 3), -1, dtype=np.int64)
    rk0 = np.empty(k, dtype=np.int64)  # a window's kept itineraries, in order
    rc = np.empty(k, dtype=np.int64)
    ra = np.empty(k, dtype=np.int64)
    rn = np.empty(k, dtype=np.int64)
    rf = np.empty((k, 3), dtype=np.int64)
    n_dest = dests.shape[0]
    # Sorts by duration or arrival: a route's flights depart in order, and none lands before its
    # departure plus the route's shortest flight, so a flight bounded out of the top k ends its
    # route's window (every later one is bounded out too).
    timed = sort in (SORT_DURATION, SORT_ARRIVAL)
    # Candidate buffers for any window (each holds at most the sources' departures).
    total = 0
    for si in range(sources.shape[0]):
        total += out_ptr[sources[si] + 1] - out_ptr[sources[si]]
    cand = np.empty(total, dtype=np.int64)
    cand_s = np.empty(total, dtype=np.int64)
    cand_lb = np.empty(total, dtype=np.int64)
    cand_lc = np.empty(total, dtype=np.int64)  # a lower bound of the candidate's total price
    heap = np.empty(total, dtype=np.int64)
    for w in range(starts.shape[0]):
        # First flights with a lower bound of the best itinerary they can start, taken best
        # first (a heap: a window usually ends after a few of its hundreds of candidates): once
        # k are kept, the first one bounded worse than the k-th ends the window (ties in the
        # bound are all taken, so their order does not matter).
        m = 0
        for si in range(sources.shape[0]):
            s = sources[si]
            start = starts[w, si]
            end = ends[w, si]
            if start >= end:
                continue
            last = out_ptr[s + 1]
            for i in range(first_at_least(dep, out_ptr[s], last, start), last):
                d0 = dep[i]
                if d0 >= end:
                    break
                if banned[i]:
                    continue
                if windowed:
                    off = tz_before[w, si] if d0 < tz_switch[w, si] else tz_after[w, si]
                    minute = ((d0 + off) // 60) % 1440
                    if minute < after or minute > before:
                        continue
                a = dst[i]
                a1 = arr[i]
                c1 = cents[i]
                if a == s or a1 - d0 >= longest:
                    continue
                lb = _INF
                lc = c1
                if is_dest[a]:  # itself an itinerary, and no extension ranks lower
                    lb = _value(sort, c1, d0, a1)
                elif max_legs >= 2:
                    hc = hc1[a] if max_legs == 2 else hc2[a]
                    hd = hd1[a] if max_legs == 2 else hd2[a]
                    if hc < _INF and a1 + min_conn + hd - d0 < longest:
                        lb = _bound(sort, c1, d0, a1, min_conn, hc, hd)
                        lc = c1 + hc
                if lb < _INF:
                    cand[m] = i
                    cand_s[m] = s
                    cand_lb[m] = lb
                    cand_lc[m] = lc
                    m += 1
        for o in range(m):
            heap[o] = o
        for o in range(m // 2 - 1, -1, -1):
            _sift(heap, cand_lb, o, m)
        count = 0
        size = m
        while size > 0:
            x = heap[0]
            size -= 1
            if size > 0:
                heap[0] = heap[size]
                _sift(heap, cand_lb, 0, size)
            if count == k and cand_lb[x] > tk0[0]:
                break
            if _beaten(count, k, cand_lb[x], cand_lc[x], tk0, tc):
                continue  # its value ties the k-th's, its price cannot beat it
            i = cand[x]
            s = cand_s[x]
            d0 = dep[i]
            a = dst[i]
            a1 = arr[i]
            c1 = cents[i]
            if is_dest[a]:
                count = _offer(
                    count, k, _value(sort, c1, d0, a1), c1, a1, 1, i, -1, -1,
                    tk0, tc, ta, tn, tf, idh, idl,
                )  # fmt: skip
            if max_legs < 2:
                continue
            hc = hc1[a] if max_legs == 2 else hc2[a]
            hd = hd1[a] if max_legs == 2 else hd2[a]
            if hc >= _INF or a1 + min_conn + hd - d0 >= longest:
                continue
            if _beaten(count, k, _bound(sort, c1, d0, a1, min_conn, hc, hd), c1 + hc, tk0, tc):
                continue
            low = a1 + min_conn
            high = a1 + max_lay
            for q in range(n_dest):  # two flights: a route from a into a destination
                d = dests[q]
                if d == s or d == a:  # noqa: SIM109 (numba: no tuple building in the hot loop)
                    continue
                r = _route(rk_ptr, rk_dst, a, d)
                if r < 0:
                    continue
                if _beaten(
                    count,
                    k,
                    _bound(sort, c1, d0, a1, min_conn, rk_minc[r], rk_mindur[r]),
                    c1 + rk_minc[r],
                    tk0,
                    tc,
                ):
                    continue
                for j in range(first_at_least(r_dep, rk_lo[r], rk_hi[r], low), rk_hi[r]):
                    if r_dep[j] > high:
                        break
                    if timed and count == k and _value(sort, 0, d0, r_dep[j] + rk_mindur[r]) > tk0[0]:
                        break  # this and every later flight of the route lands too late to rank
                    if screened and banned[r_flight[j]]:
                        continue
                    a2 = r_arr[j]
                    if a2 - d0 >= longest:
                        continue
                    c2 = c1 + r_cents[j]
                    count = _offer(
                        count, k, _value(sort, c2, d0, a2), c2, a2, 2, i, r_flight[j], -1,
                        tk0, tc, ta, tn, tf, idh, idl,
                    )  # fmt: skip
            if max_legs < 3 or hc3[a] >= _INF or a1 + min_conn + hd3[a] - d0 >= longest:
                continue
            if _beaten(count, k, _bound(sort, c1, d0, a1, min_conn, hc3[a], hd3[a]), c1 + hc3[a], tk0, tc):
                continue  # no route on from a can rank: none is walked
            # Three flights: per route a -> b whose cheapest and shortest ways on to a destination
            # can still rank (a whole route skipped at once), its flights in the window.
            for rb in range(rk_ptr[a], rk_ptr[a + 1]):
                b = rk_dst[rb]
                if b == s or hc1[b] >= _INF:
                    continue
                if a1 + min_conn + rk_mindur[rb] + min_conn + hd1[b] - d0 >= longest:
                    continue
                if _beaten(
                    count,
                    k,
                    _bound(
                        sort, c1, d0, a1, min_conn, rk_minc[rb] + hc1[b], rk_mindur[rb] + min_conn + hd1[b]
                    ),
                    c1 + rk_minc[rb] + hc1[b],
                    tk0,
                    tc,
                ):
                    continue
                for jb in range(first_at_least(r_dep, rk_lo[rb], rk_hi[rb], low), rk_hi[rb]):
                    if r_dep[jb] > high:
                        break
                    if (
                        timed
                        and count == k
                        and _value(sort, 0, d0, r_dep[jb] + rk_mindur[rb] + min_conn + hd1[b]) > tk0[0]
                    ):
                        break
                    f = r_flight[jb]
                    if screened and banned[f]:
                        continue
                    a2 = r_arr[jb]
                    c2 = c1 + r_cents[jb]
                    if a2 + min_conn + hd1[b] - d0 >= longest:
                        continue
                    if _beaten(
                        count, k, _bound(sort, c2, d0, a2, min_conn, hc1[b], hd1[b]), c2 + hc1[b], tk0, tc
                    ):
                        continue
                    low3 = a2 + min_conn
                    high3 = a2 + max_lay
                    for q in range(n_dest):  # three flights: a route from b into a destination
                        d = dests[q]
                        if d == s or d == a or d == b:  # noqa: SIM109
                            continue
                        r = _route(rk_ptr, rk_dst, b, d)
                        if r < 0:
                            continue
                        if _beaten(
                            count,
                            k,
                            _bound(sort, c2, d0, a2, min_conn, rk_minc[r], rk_mindur[r]),
                            c2 + rk_minc[r],
                            tk0,
                            tc,
                        ):
                            continue
                        for j in range(first_at_least(r_dep, rk_lo[r], rk_hi[r], low3), rk_hi[r]):
                            if r_dep[j] > high3:
                                break
                            if timed and count == k and _value(sort, 0, d0, r_dep[j] + rk_mindur[r]) > tk0[0]:
                                break
                            if screened and banned[r_flight[j]]:
                                continue
                            a3 = r_arr[j]
                            if a3 - d0 >= longest:
                                continue
                            c3 = c2 + r_cents[j]
                            count = _offer(
                                count, k, _value(sort, c3, d0, a3), c3, a3, 3, i, f, r_flight[j],
                                tk0, tc, ta, tn, tf, idh, idl,
                            )  # fmt: skip
        out_n[w] = count
        _ranked(count, tk0, tc, ta, tn, tf, idh, idl, rk0, rc, ra, rn, rf)
        for m in range(count):
            out_f[w, m, 0] = rf[m, 0]
            out_f[w, m, 1] = rf[m, 1]
            out_f[w, m, 2] = rf[m, 2]
            out_f[w, m, 3] = rn[m]
            out_f[w, m, 4] = rc[m]
            out_f[w, m, 5] = dep[rf[m, 0]]
            out_f[w, m, 6] = ra[m]


# An itinerary as the scan returns it: its flights' slots, total price in cents, first departure
# and final arrival (epochs): what the response's tail is spelled from, with no second read.
Itinerary = tuple[tuple[int, ...], int, int, int]
_ROW = 7  # a kept itinerary's row in the kernel's output: three flights, their count, the values


def itineraries(
    table: Any,
    banned: Array,
    sources: Array,
    starts: Array,
    ends: Array,
    tz: tuple[Array, Array, Array] | None,
    dests: Array,
    *,
    max_legs: int,
    min_conn: int,
    max_lay: int,
    after: int,
    before: int,
    longest: int | None,
    sort: int,
    k: int,
) -> list[tuple[Itinerary, ...]]:
    """Per window (a row of ``starts`` / ``ends``, one column per source), the first ``k``
    itineraries in order, each as ``Itinerary``. ``tz``: per window and source, the epoch of the
    local clock change and the UTC offsets before and after it, for the depart window; None when
    the query has none. ``table``: a timetable.Snapshot; ``banned``: its own ``banned`` (no
    flight excluded: no lookup per connecting flight) or a copy with flights excluded."""
    windows = starts.shape[0]
    out_n = np.zeros(windows, dtype=np.int64)
    # Not initialised (np.full cost more than the rest of a search's conversion): the kernel
    # writes every window's count and the rows below it, and only those are read.
    out_f = np.empty((windows, max(k, 1), _ROW), dtype=np.int64)
    windowed = tz is not None
    if tz is None:
        zeros = np.zeros(starts.shape, dtype=np.int64)
        tz = (zeros, zeros, zeros)
    _scan(
        table.out_ptr, table.dep, table.arr, table.cents, table.dst, table.idh, table.idl,
        table.rk_ptr, table.rk_dst, table.rk_lo, table.rk_hi, table.rk_minc, table.rk_mindur,
        table.r_flight, table.r_dep, table.r_arr, table.r_cents,
        banned, banned is not table.banned, sources, starts, ends, tz[0], tz[1], tz[2], windowed,
        dests, max_legs, min_conn, max_lay, after, before,
        _INF if longest is None else longest, sort, k,
        out_n, out_f,
    )  # fmt: skip
    # Tuples of ints only: memoised per snapshot, the collector stops tracking them. (Every row
    # converted in one comprehension, then sliced per window: a generator per window cost a
    # third more for a calendar; the rows past a window's count are never read.)
    width = out_f.shape[1]
    rows = [(tuple(row[: row[3]]), row[4], row[5], row[6]) for row in out_f.reshape(-1, _ROW).tolist()]
    return [tuple(rows[w * width : w * width + n]) for w, n in enumerate(out_n.tolist())]


def scan(
    table: Any,
    banned: Array,
    sources: Array,
    starts: Array,
    ends: Array,
    tz: tuple[Array, Array, Array] | None,
    dests: Array,
    **options: Any,
) -> list[tuple[tuple[int, ...], ...]]:
    """``itineraries``' flights alone: per window, each itinerary as its flights' slots."""
    found = itineraries(table, banned, sources, starts, ends, tz, dests, **options)
    return [tuple(it[0] for it in window) for window in found]


def warm_up() -> None:
    """Compile the scan (or load it from numba's disk cache) on a one-flight timetable, so that no
    search pays for it: the first compilation takes ~15 s, a cached load well under a second."""
    one = np.ones(1, dtype=np.int64)
    zero = np.zeros(1, dtype=np.int64)
    pair = np.asarray([0, 1, 1], dtype=np.int64)
    window = np.zeros((1, 1), dtype=np.int64)
    out_n = np.zeros(1, dtype=np.int64)
    out_f = np.full((1, 1, _ROW), -1, dtype=np.int64)
    _scan(
        pair, zero, one, zero, one, zero.astype(np.uint64), zero.astype(np.uint64),
        pair, one, zero, one, zero, one, zero, zero, one, zero,
        np.zeros(1, dtype=np.bool_), False, zero, window, window + 1, window, window, window, True,
        one, 3, 0, 1, 0, 1439, _INF, SORT_PRICE, 1,
        out_n, out_f,
    )  # fmt: skip
