"""The compiled scan (app/search/scan.py) over a timetable snapshot finds exactly what the reference
enumeration (ordered.best) finds, in the same order, for every sort and filter, with flights
excluded for seats, over several windows at once and between sets of airports (a city search is
the union of its pairs' answers)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.flights.events import FlightSnapshot
from app.platform.redis.client import Keys
from app.platform.redis.multiplex import encode
from app.search import ordered, scan, timetable
from app.search.data import Zones
from app.search.engine import Rules
from app.search.filters import Filters, facts_of
from app.search.render import FlightRecord
from app.search.schemas import SearchSort
from app.search.timetable import Snapshot

HOUR = 3600
BASE = 1_900_000_000 - 1_900_000_000 % 86400  # a UTC midnight
AIRPORTS = [f"A{k}" for k in range(5)]
ZONE = "Asia/Kolkata"  # +05:30: local minutes differ from UTC ones
SORTS = {
    SearchSort.price: scan.SORT_PRICE,
    SearchSort.duration: scan.SORT_DURATION,
    SearchSort.departure: scan.SORT_DEPARTURE,
    SearchSort.arrival: scan.SORT_ARRIVAL,
}

flights = st.lists(
    st.tuples(
        st.integers(0, 4),
        st.integers(0, 4),
        st.integers(0, 60).map(lambda k: BASE + k * 1800),  # 30 h on half hours
        st.sampled_from([1800, 3600, 2 * HOUR, 5 * HOUR]),
        st.sampled_from([0, 100, 200, 300]),  # ties in price, and free flights (bounds at 0)
    ),
    min_size=5,
    max_size=60,
)
rules = st.builds(
    Rules,
    min_connection=st.sampled_from([0, 1800, 2700]),
    max_layover=st.sampled_from([1800, 4 * HOUR, 12 * HOUR]),
    max_legs=st.integers(1, 3),
)
minute = st.integers(0, 24 * 4 - 1).map(lambda k: k * 15)
filters = st.builds(
    Filters,
    max_stops=st.none() | st.integers(0, 2),
    after=st.none() | minute,
    before=st.none() | minute,
    max_duration=st.none() | st.sampled_from([1, 30, 60, 120, 300, 600]),
    sort=st.sampled_from(list(SearchSort)),
)


def flight(source: int, destination: int, departure: int, duration: int, price: int) -> FlightSnapshot:
    return FlightSnapshot(
        uuid.uuid4(),
        "FD1",
        AIRPORTS[source],
        AIRPORTS[destination],
        datetime.fromtimestamp(departure, UTC),
        datetime.fromtimestamp(departure + duration, UTC),
        100,
        Decimal(price) / 100,
    )


def snapshot_of(rows: list[FlightSnapshot]) -> Snapshot:
    return Snapshot.of(
        [
            (
                r.id.bytes,
                r.source,
                r.destination,
                int(r.departure_ts.timestamp()),
                int(r.arrival_ts.timestamp()),
                int(r.price * 100),
            )
            for r in rows
        ],
        Zones({}, ZONE),
        (b"e", 0),
    )


def scanned(
    table: Snapshot,
    sources: list[str],
    destinations: list[str],
    windows: list[tuple[int, int]],
    rules: Rules,
    query: Filters,
    k: int,
    banned: set[bytes] = frozenset(),  # type: ignore[assignment]
) -> list[list[list[FlightRecord]]]:
    names = [s for s in sources if s in table.codes]
    dests = sorted({table.codes[d] for d in destinations if d in table.codes})
    # The table's own (all False) when none is banned: the scan then looks none up, as a search
    # without exclusions does; a copy marking them otherwise, as a rescan's.
    mask = table.banned if not banned else np.zeros(len(table.dep), dtype=np.bool_)
    for slot in range(len(table.dep)) if banned else ():
        mask[slot] = table.raw_id(slot) in banned
    shape = (len(windows), len(names))
    starts = np.asarray([[w[0]] * len(names) for w in windows], dtype=np.int64).reshape(shape)
    ends = np.asarray([[w[1]] * len(names) for w in windows], dtype=np.int64).reshape(shape)
    clocks = None
    if query.needs_zone:
        offset = 19800
        clocks = (ends.copy(), np.full(shape, offset, dtype=np.int64), np.full(shape, offset, dtype=np.int64))
    max_legs = rules.max_legs if query.max_stops is None else min(rules.max_legs, query.max_stops + 1)
    found = scan.itineraries(
        table,
        mask,
        np.asarray([table.codes[s] for s in names], dtype=np.int64),
        starts,
        ends,
        clocks,
        np.asarray(dests, dtype=np.int64),
        max_legs=max_legs,
        min_conn=rules.min_connection,
        max_lay=rules.max_layover,
        after=query.after or 0,
        before=23 * 60 + 59 if query.before is None else query.before,
        longest=None if query.max_duration is None else (query.max_duration + 1) * 60,
        sort=SORTS[query.sort],
        k=k,
    ) if names and dests else [() for _ in windows]  # fmt: skip
    for window in found:  # the values a response's tail is spelled from are the legs' own
        for legs, cents, departure, arrival in window:
            assert cents == sum(int(table.cents[f]) for f in legs)
            assert (departure, arrival) == (int(table.dep[legs[0]]), int(table.arr[legs[-1]]))
    return [[[record(table, f) for f in legs] for legs, _, _, _ in window] for window in found]


def record(table: Snapshot, slot: int) -> FlightRecord:
    return table.raw_id(slot), int(table.dep[slot]), int(table.arr[slot]), int(table.cents[slot])


def reference(
    rows: list[FlightSnapshot],
    sources: list[str],
    destinations: list[str],
    window: tuple[int, int],
    rules: Rules,
    query: Filters,
    k: int,
) -> list[list[FlightRecord]]:
    """The union of each pair's reference answer, in the filters' order, first k."""
    union: list[list[FlightRecord]] = []
    narrowed = rules
    if query.max_stops is not None:
        narrowed = Rules(rules.min_connection, rules.max_layover, min(rules.max_legs, query.max_stops + 1))
    for s in sources:
        for d in destinations:
            if s != d:
                union += ordered.best(rows, s, d, window, narrowed, query, ZoneInfo(ZONE), k)
    union.sort(key=lambda legs: query.key(facts_of(legs)))
    return union[:k]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    specs=flights,
    rules=rules,
    query=filters,
    k=st.sampled_from([1, 2, 5, 20]),
    ends=st.sets(st.integers(0, 4), min_size=1, max_size=3),
    starts=st.sets(st.integers(0, 4), min_size=1, max_size=2),
    banned_share=st.sampled_from([0, 0, 3]),
)
def test_the_scan_equals_the_reference_enumeration(
    specs: list[tuple[int, int, int, int, int]],
    rules: Rules,
    query: Filters,
    k: int,
    ends: set[int],
    starts: set[int],
    banned_share: int,
) -> None:
    rows = [flight(*spec) for spec in specs if spec[0] != spec[1]]
    banned = {r.id.bytes for n, r in enumerate(rows) if banned_share and n % banned_share == 0}
    usable = [r for r in rows if r.id.bytes not in banned]
    sources = [AIRPORTS[s] for s in sorted(starts)]
    destinations = [AIRPORTS[d] for d in sorted(ends)]
    windows = [(BASE, BASE + 86400), (BASE + 6 * HOUR, BASE + 20 * HOUR), (BASE + 86400, BASE + 2 * 86400)]
    table = snapshot_of(rows)
    got = scanned(table, sources, destinations, windows, rules, query, k, banned)
    for window, answer in zip(windows, got, strict=True):
        assert answer == reference(usable, sources, destinations, window, rules, query, k)


def test_a_snapshot_with_flights_replaced_equals_one_loaded_fresh() -> None:
    rows = [flight(s % 5, (s + 1) % 5, BASE + s * 1800, HOUR, 100 + s) for s in range(40)]
    table = snapshot_of(rows)
    moved = rows[3]._replace(departure_ts=datetime.fromtimestamp(BASE + 7, UTC))
    added = flight(0, 4, BASE + 3 * HOUR, HOUR, 50)._replace(destination="NEW")
    after = [r for r in rows if r.id not in {rows[3].id, rows[5].id}] + [moved, added]
    fresh = snapshot_of(after)
    changed = {rows[3].id.bytes, rows[5].id.bytes, added.id.bytes}
    day = datetime.fromtimestamp(BASE, UTC).date()
    windows = table.windows(("A0", "A1"), (day,))
    replaced = table.replaced(changed, [row for row in snapshot_rows(after) if row[0] in changed], 7)
    assert replaced.seq == 7
    assert_same_indexes(replaced, fresh)
    # The local days depend on the zones alone: computed once, kept through the catch-up.
    assert replaced.windows(("A0", "A1"), (day,)) is windows
    assert [w.tolist() for w in windows] == [w.tolist() for w in fresh.windows(("A0", "A1"), (day,))]
    assert replaced.clock("A0", day) == fresh.clock("A0", day)
    rules_ = Rules(0, 12 * HOUR, 3)
    for sort in SearchSort:
        query = Filters(sort=sort)
        for source in ("A0", "A1"):
            for destination in ("A3", "NEW", "A4"):
                window = [(BASE, BASE + 2 * 86400)]
                assert scanned(replaced, [source], [destination], window, rules_, query, 20) == scanned(
                    fresh, [source], [destination], window, rules_, query, 20
                )


def snapshot_rows(rows: list[FlightSnapshot]) -> list[tuple[bytes, str, str, int, int, int]]:
    return [
        (
            r.id.bytes,
            r.source,
            r.destination,
            int(r.departure_ts.timestamp()),
            int(r.arrival_ts.timestamp()),
            int(r.price * 100),
        )
        for r in rows
    ]


def assert_same_indexes(merged: Snapshot, fresh: Snapshot) -> None:
    """The same flights in (source, departure) and in route order, the same route index (airport
    codes may differ: compared by name and raw id)."""

    def out_order(t: Snapshot) -> list[tuple[str, int, bytes]]:
        return sorted((t.airports[int(t.src[f])], int(t.dep[f]), t.raw_id(f)) for f in range(len(t.dep)))

    def per_airport(t: Snapshot) -> dict[str, list[int]]:
        return {
            name: [int(d) for d in t.dep[t.out_ptr[code] : t.out_ptr[code + 1]]]
            for name, code in t.codes.items()
        }

    def routes(t: Snapshot) -> dict[tuple[str, str], tuple[list[int], int, int]]:
        found = {}
        for code, name in enumerate(t.airports):
            for r in range(t.rk_ptr[code], t.rk_ptr[code + 1]):
                slots = t.r_flight[t.rk_lo[r] : t.rk_hi[r]]
                assert all(t.src[f] == code and t.dst[f] == t.rk_dst[r] for f in slots)
                found[name, t.airports[int(t.rk_dst[r])]] = (
                    [int(t.dep[f]) for f in slots],
                    int(t.rk_minc[r]),
                    int(t.rk_mindur[r]),
                )
        return found

    for t in (merged, fresh):  # the ids' texts follow their flights (carried over a merge)
        assert all(t.name(f) == str(uuid.UUID(bytes=t.raw_id(f))) for f in range(len(t.dep)))
    assert out_order(merged) == out_order(fresh)
    assert {k: v for k, v in per_airport(merged).items() if v} == {
        k: v for k, v in per_airport(fresh).items() if v
    }
    assert routes(merged) == routes(fresh)
    assert (np.diff(merged.r_dep) >= 0).sum() >= 0  # r_dep is per route: checked through routes()


def test_a_catch_up_past_the_merge_keys_airport_bound_sorts_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timetable, "_MERGE_AIRPORTS", 3)  # the real bound is 16,384 airports
    rows = [flight(s % 3, (s + 1) % 3, BASE + s * 1800, HOUR, 100 + s) for s in range(30)]
    table = snapshot_of(rows)
    added = flight(3, 4, BASE + HOUR, HOUR, 70)
    after = [r for r in rows if r.id != rows[2].id] + [added]
    changed = {rows[2].id.bytes, added.id.bytes}
    merged = table.replaced(changed, [row for row in snapshot_rows(after) if row[0] in changed], 3)
    assert merged.seq == 3
    assert_same_indexes(merged, snapshot_of(after))


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    specs=flights, changes=st.lists(st.tuples(st.integers(0, 59), flights.map(lambda f: f[0])), max_size=8)
)
def test_a_snapshot_caught_up_by_merging_equals_one_sorted_fresh(
    specs: list[tuple[int, int, int, int, int]], changes: list[tuple[int, tuple[int, int, int, int, int]]]
) -> None:
    rows = [flight(*spec) for spec in specs if spec[0] != spec[1]]
    table = snapshot_of(rows)
    after = {r.id: r for r in rows}
    changed: set[bytes] = set()
    for k, spec in changes:
        if spec[0] == spec[1]:
            continue
        if rows and k % 3 == 0:  # a deletion
            gone = rows[k % len(rows)].id
            after.pop(gone, None)
            changed.add(gone.bytes)
        elif rows and k % 3 == 1:  # a move
            moved = rows[k % len(rows)]
            new = flight(*spec)._replace(id=moved.id)
            after[moved.id] = new
            changed.add(moved.id.bytes)
        else:  # an insertion
            new = flight(*spec)
            after[new.id] = new
            changed.add(new.id.bytes)
    current = list(after.values())
    merged = table.replaced(changed, [row for row in snapshot_rows(current) if row[0] in changed], 1)
    assert_same_indexes(merged, snapshot_of(current))


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    specs=flights,
    prefix=st.sampled_from(["fdbench", "", "a:{b}", "préfixe"]),
    picks=st.lists(st.integers(0, 1000), max_size=30),
)
def test_a_snapshots_reads_spell_the_keys_as_the_key_functions_and_encode_do(
    specs: list[tuple[int, int, int, int, int]], prefix: str, picks: list[int]
) -> None:
    rows = [flight(*spec) for spec in specs if spec[0] != spec[1]]
    table = snapshot_of(rows)
    keys = Keys(prefix)
    slots = [p % len(table.dep) for p in picks] if len(table.dep) else []
    for f in slots:
        assert table.name(f) == str(uuid.UUID(bytes=table.raw_id(f)))
    for key in (keys.seats, keys.flight_card):
        assert table.mget(slots, key) == encode("MGET", *(key(table.name(f)) for f in slots))


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Europe/London"])
def test_a_local_clock_change_is_found_to_the_second_and_a_day_without_one_has_none(zone: str) -> None:
    table = Snapshot.of([], Zones({"X": zone}, "UTC"), (b"e", 0))
    tz = ZoneInfo(zone)

    def offset(epoch: int) -> int:
        found = datetime.fromtimestamp(epoch, tz).utcoffset()
        return 0 if found is None else int(found.total_seconds())

    day = datetime(2027, 1, 1).date()
    changes = 0
    for n in range(366):
        local = day.fromordinal(day.toordinal() + n)
        start, end = table.bounds("X", local)
        switch, before, after = table.clock("X", local)
        assert (before, after) == (offset(start), offset(end - 1))
        assert start < switch <= end and offset(switch - 1) == before
        if before == after:
            assert switch == end
        else:
            changes += 1
            assert offset(switch) == after
    assert changes == (0 if zone == "Asia/Kolkata" else 2)
