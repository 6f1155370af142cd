"""The compiled merge (compiled_patch.merge_many) returns exactly what patch.merge, the Python
reference, returns for every list: unchanged, deleted, or the same bytes; on random lists with
ties in price and arrival, old and new versions of the same flights, and many lists in one call."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.search import compiled_patch, patch
from app.search.codec import HEADER, Records, encode_list, order_key, record

IDS = [uuid.UUID(int=(k * 0x9E3779B97F4A7C15) % (1 << 128)) for k in range(1, 9)]


@st.composite
def versions(draw: st.DrawFn) -> dict[int, tuple[bytes, bytes]]:
    """Per flight id, its old and its new record (often the same: an unchanged flight)."""
    found: dict[int, tuple[bytes, bytes]] = {}
    for k, flight_id in enumerate(IDS):
        departure = draw(st.integers(0, 6)) * 1800
        arrival = departure + draw(st.sampled_from([1800, 3600]))
        old = record(flight_id, departure, arrival, draw(st.sampled_from([100, 200, 300])))
        if draw(st.booleans()):
            new = old
        else:
            new = record(
                flight_id,
                departure,
                arrival + draw(st.sampled_from([0, 1800])),
                draw(st.sampled_from([100, 200, 300])),
            )
        found[k] = (old, new)
    return found


routes = st.lists(st.integers(0, len(IDS) - 1), min_size=1, max_size=3, unique=True)


@st.composite
def job(draw: st.DrawFn, depth: int) -> tuple[bytes | None, set[Records], set[bytes]]:
    flights = draw(versions())
    stored_routes = draw(st.lists(routes, max_size=2 * depth + 2, unique_by=tuple))
    stored = sorted(
        (tuple(flights[k][0] for k in legs) for legs in stored_routes), key=lambda r: (order_key(r), r)
    )
    blob: bytes | None = None
    if stored or draw(st.booleans()):
        kept = stored[:depth] if draw(st.booleans()) else stored[: max(0, depth - 1)]
        complete = draw(st.booleans()) if len(kept) >= depth else len(kept) == len(stored)
        if kept or complete:
            blob = encode_list(kept, complete)
    # Candidates: through the new versions (one record per flight, as the plan builds them), some
    # of them equal to a stored itinerary.
    candidates = {tuple(flights[k][1] for k in legs) for legs in draw(st.lists(routes, max_size=depth + 3))}
    gone = {IDS[k].bytes for k in draw(st.sets(st.integers(0, len(IDS) - 1), max_size=3))}
    return blob, candidates, gone


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), depth=st.sampled_from([1, 2, 3, 5, 40]))
def test_the_compiled_merge_equals_the_python_merge(data: st.DataObject, depth: int) -> None:
    blob, candidates, gone = data.draw(job(depth))
    expected = patch.merge(blob, gone, candidates, depth)
    assert compiled_patch.merge_many([(blob, candidates)], gone, depth) == [expected]


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), depth=st.sampled_from([2, 5, 40]), size=st.integers(1, 12))
def test_many_lists_merged_in_one_call_equal_each_merged_alone(
    data: st.DataObject, depth: int, size: int
) -> None:
    gone = {IDS[k].bytes for k in data.draw(st.sets(st.integers(0, len(IDS) - 1), max_size=3))}
    jobs = [data.draw(job(depth))[:2] for _ in range(size)]
    expected = [patch.merge(blob, gone, candidates, depth) for blob, candidates in jobs]
    assert compiled_patch.merge_many(jobs, gone, depth) == expected


def test_a_cut_list_that_loses_every_entry_stays_cut_and_empty() -> None:
    """Its header alone (patch.merge raised IndexError here): reads compute the pair exactly and
    the list is queued for a refill (fewer than REFILL_BELOW entries)."""
    a = record(IDS[0], 0, 3600, 100)
    b = record(IDS[1], 7200, 9000, 100)
    blob = encode_list([(a,), (a, b)], False)
    empty = HEADER.pack(0, 0, 0, 0)
    assert patch.merge(blob, {IDS[0].bytes}, set(), 40) == empty
    assert compiled_patch.merge_many([(blob, set())], {IDS[0].bytes}, 40) == [empty]


def test_the_compiled_merge_is_loaded_at_warm_up(tmp_path: Path) -> None:
    assert patch.warm_up(tmp_path)
    assert patch._compiled.merge_many is compiled_patch.merge_many


def test_lists_with_hundreds_of_candidates_merge_as_in_python() -> None:
    """Past the kernel's small-input paths: candidates put in price order before the tie-ordering
    insertion sort, and records found through the hash table (many flights, ties in price)."""
    rng = random.Random(7)
    ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(60)]
    for _ in range(20):
        records = [
            record(
                i, rng.randrange(8) * 1800, 8 * 1800 + rng.randrange(4) * 1800, rng.choice([100, 150, 200])
            )
            for i in ids
        ]
        routes = {tuple(rng.sample(range(len(ids)), rng.randint(1, 3))) for _ in range(400)}
        itineraries = [tuple(records[k] for k in legs) for legs in routes]
        rng.shuffle(itineraries)
        stored = sorted(itineraries[:60], key=lambda r: (order_key(r), r))[:40]
        candidates = set(itineraries[30:])  # some of them stored too
        gone = {ids[k].bytes for k in rng.sample(range(len(ids)), 2)}
        for blob in (None, encode_list(stored, False), encode_list(stored[:30], True)):
            expected = patch.merge(blob, gone, candidates, 40)
            assert compiled_patch.merge_many([(blob, candidates)], gone, 40) == [expected]
