"""codec.encode_list is the list format's one definition: the patch path's re-encoder
(encode_merged) writes exactly its bytes, and a list decodes back to what was encoded."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from app.search.codec import Records, Stored, decode_list, encode_list, encode_merged, header, record

FLIGHTS = [record(uuid.UUID(int=k + 1), 1_000 * k, 1_000 * k + 500, 100 * (k % 4)) for k in range(12)]

itinerary = st.lists(st.sampled_from(FLIGHTS), min_size=1, max_size=3, unique=True).map(tuple)


def records_of(stored: Stored, item: int | Records) -> Records:
    if isinstance(item, int):
        return tuple(stored.record(i) for i in stored.itineraries[item])
    return item


@settings(max_examples=300, deadline=None)
@given(
    kept=st.lists(itinerary, min_size=1, max_size=20),
    picks=st.lists(st.one_of(st.integers(0, 19), itinerary), max_size=25),
    complete=st.booleans(),
    worst=st.integers(0, 10_000),
)
def test_the_patch_re_encoder_writes_exactly_the_canonical_bytes(
    kept: list[Records], picks: list[int | Records], complete: bool, worst: int
) -> None:
    stored = Stored(encode_list(kept, True))
    items = [p % len(kept) if isinstance(p, int) else p for p in picks]
    expected = encode_list([records_of(stored, i) for i in items], complete, worst)
    assert encode_merged(stored, items, complete, worst) == expected


@settings(max_examples=100, deadline=None)
@given(itineraries=st.lists(itinerary, max_size=40), complete=st.booleans())
def test_a_list_decodes_to_what_was_encoded_and_its_header_holds_the_last_price(
    itineraries: list[Records], complete: bool
) -> None:
    blob = encode_list(itineraries, complete)
    assert decode_list(blob) == (itineraries, complete)
    last = sum(int.from_bytes(r[24:32], "little") for r in itineraries[-1]) if itineraries else 0
    assert header(blob) == (complete, len(itineraries), last)
    # Naming legs by a key and passing the records by key gives the same bytes.
    keys = [tuple(FLIGHTS.index(r) for r in legs) for legs in itineraries]
    assert encode_list(keys, complete, None, FLIGHTS.__getitem__) == blob
