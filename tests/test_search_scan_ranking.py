"""The scan's top-k bookkeeping (scan.py: a heap whose root is the k-th kept, ties in the sort's
value decided by a price bound) and the scanned response (render.scanned), against plain
references: sorting every candidate, and the per-flight ``with_seats`` / ``tail_of`` spelling."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.search import render, scan
from app.search.codec import with_seats
from app.search.engine import Rules
from app.search.filters import Filters
from app.search.schemas import SearchSort
from tests.test_search_scan import BASE, HOUR, flight, reference, scanned, snapshot_of

# A candidate: sort value, price, arrival, flights, then up to three flight slots (-1: none).
candidates = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(0, 2),
        st.integers(1, 3),
        st.permutations(range(6)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(offered=candidates, k=st.integers(1, 24))
def test_the_kept_heap_ranks_the_first_k_of_all_offered_in_order(
    offered: list[tuple[int, int, int, int, list[int]]], k: int
) -> None:
    # Flight slots 0-5 with raw ids in reverse order: the id tie-break is exercised too.
    idh = np.asarray([0] * 6, dtype=np.uint64)
    idl = np.asarray([6 - f for f in range(6)], dtype=np.uint64)
    tk0, tc, ta, tn = (np.empty(k, dtype=np.int64) for _ in range(4))
    tf = np.full((k, 3), -1, dtype=np.int64)
    unique = {}
    for k0, c, a, n, slots in offered:
        legs = [*slots[:n], -1, -1, -1][:3]
        unique[(k0, c, a, n, tuple(legs))] = None  # the scan never offers an itinerary twice
    count = 0
    seen: list[tuple[int, ...]] = []
    for k0, c, a, n, legs in unique:
        count = scan._offer(count, k, k0, c, a, n, legs[0], legs[1], legs[2], tk0, tc, ta, tn, tf, idh, idl)
        seen.append(unique_key((k0, c, a, n, legs), idl))
        if count == k:  # the root, which the pruning reads, is the k-th of all offered so far
            assert (int(tk0[0]), int(tc[0])) == sorted(seen)[k - 1][:2]
    rk0, rc, ra, rn = (np.empty(k, dtype=np.int64) for _ in range(4))
    rf = np.empty((k, 3), dtype=np.int64)
    scan._ranked(count, tk0, tc, ta, tn, tf, idh, idl, rk0, rc, ra, rn, rf)
    got = [
        (int(rk0[m]), int(rc[m]), int(ra[m]), int(rn[m]), tuple(int(f) for f in rf[m])) for m in range(count)
    ]
    expected = sorted(unique, key=lambda x: unique_key(x, idl))[:k]
    assert got == expected


def unique_key(candidate: tuple[int, int, int, int, tuple[int, ...]], idl: np.ndarray) -> tuple[int, ...]:
    k0, c, a, n, legs = candidate
    return (k0, c, a, n, *(int(idl[f]) for f in legs[:n]))


def test_a_hub_of_equal_departures_and_arrivals_ranks_as_the_reference_under_every_sort() -> None:
    # Every itinerary leaves on the same first flight (departure sort: all tie) and many land on
    # the same last one (arrival sort: ties), with prices in few values: the price bound decides
    # the ties, and the first k must still be exactly the reference's.
    specs = [(0, 1, BASE + 6 * HOUR, HOUR, 100)]
    for b in (2, 3, 4):
        for m in range(3):
            specs.append((1, b, BASE + (8 + m) * HOUR, HOUR, 100 * m))
            specs.append((b, 4, BASE + (11 + m) * HOUR, HOUR, 100 * (2 - m)))
    specs += [(1, 4, BASE + 9 * HOUR, 2 * HOUR, 300), (0, 4, BASE + 7 * HOUR, 5 * HOUR, 0)]
    rows = [flight(*spec) for spec in specs if spec[0] != spec[1]]
    table = snapshot_of(rows)
    rules = Rules(min_connection=1800, max_layover=12 * HOUR, max_legs=3)
    window = (BASE, BASE + 86400)
    for sort in SearchSort:
        for k in (1, 2, 5, 20):
            query = Filters(sort=sort)
            got = scanned(table, ["A0"], ["A4"], [window], rules, query, k)
            assert got == [reference(rows, ["A0"], ["A4"], window, rules, query, k)], (sort, k)


@settings(max_examples=200, deadline=None)
@given(
    itineraries=st.lists(
        st.tuples(
            st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True),
            st.integers(0, 10**7),
            st.integers(1_700_000_000, 1_800_000_000),
            st.integers(60, 3 * 86400),
        ),
        max_size=20,
    ),
    seats=st.lists(st.integers(0, 2000), min_size=6, max_size=6),
)
def test_a_scanned_response_is_the_body_of_each_flights_card_with_seats_and_its_tail(
    itineraries: list[tuple[list[int], int, int, int]], seats: list[int]
) -> None:
    cards = {f: b'{"id":"%d","available_seats":' % f for f in range(6)}
    counts = dict(enumerate(seats))
    scan_rows = [
        (tuple(legs), cents, departure, departure + length) for legs, cents, departure, length in itineraries
    ]
    expected = render.body(
        [
            (
                [with_seats(cards[f], counts[f]) for f in legs],
                render.tail_of(departure, arrival, cents, len(legs)),
            )
            for legs, cents, departure, arrival in scan_rows
        ]
    )
    assert render.scanned(scan_rows, cards, counts) == expected


@given(cents=st.integers(0, 10**9))
def test_a_tails_price_is_spelled_as_money_spells_it(cents: int) -> None:
    assert b'"total_price":' + render.money(cents) + b"," in render.tail_of(BASE, BASE + 60, cents, 1)
