"""Byte formats of the search index: the itinerary list of a city pair and a flight's card.

List (one hash field per destination): a header (u8 ``complete``: 1 when these are all the
itineraries there are; u8 itinerary count; u8 flight count; i64 total price in cents of the last
itinerary, so an update can tell without decoding whether a candidate could enter), the distinct
flights (per flight 16-byte id, u32 departure, u32 arrival, i64 price in cents), then per itinerary
a u8 leg count and u8 indices into the flights. Sharing the flight table keeps a list of 40
itineraries (mostly through the same few first legs) near 1-2 KB.

A flight is handled as its 32-byte table record (``record``): ids compare as raw bytes, whose order
is the order of their canonical strings (the documented final tie-break).

Card: a flight's JSON object as in the admin API, minus its closing ``"available_seats": n}`` which
the query appends from the live counter.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar, cast

FLIGHT = struct.Struct("<16sIIq")
HEADER = struct.Struct("<BBBq")
_ID = 16


# An itinerary as stored: its legs' 32-byte records in travel order.
Records = tuple[bytes, ...]
# A leg as an encoder's caller names it: its record, or a key that maps to one (encode_list).
L = TypeVar("L", bound=Hashable)


def record(flight_id: uuid.UUID, departure: int, arrival: int, cents: int) -> bytes:
    return FLIGHT.pack(flight_id.bytes, departure, arrival, cents)


def order_key(itinerary: Records) -> tuple[int, int, int, tuple[bytes, ...]]:
    """Price, final arrival, fewer flights, then the ids: the order of every list."""
    legs = [FLIGHT.unpack(r) for r in itinerary]
    return (sum(leg[3] for leg in legs), legs[-1][2], len(legs), tuple(leg[0] for leg in legs))


def encode_list(
    itineraries: Iterable[Sequence[L]],
    complete: bool,
    worst: int | None = None,
    record: Callable[[L], bytes] | None = None,
) -> bytes:
    """THE list encoder: the definition of the list format's bytes (see the module docstring).

    ``itineraries`` in order, each its legs in travel order; a leg is its 32-byte record, or with
    ``record`` anything hashable that names one flight (the build passes graph indices and the
    records by index, so no record is looked up twice). The flight table lists the distinct legs
    in order of first appearance. ``worst`` (the last itinerary's price) is computed when not given.

    Every other producer of list bytes must produce these bytes exactly: ``encode_merged`` (the
    patch path's re-encoder, tests/test_search_codec.py) and the numba kernel's ``compiled._encode``
    (tests/test_search_engine_compiled.py).
    """
    table: dict[L, int] = {}
    body = bytearray()
    count = 0
    last: Sequence[L] = ()
    for legs in itineraries:
        count += 1
        body.append(len(legs))
        for leg in legs:
            index = table.get(leg)
            if index is None:
                index = table[leg] = len(table)
            body.append(index)
        last = legs
    flights = b"".join(cast(Iterable[bytes], table) if record is None else map(record, table))
    if worst is None:
        worst = sum(FLIGHT.unpack_from(flights, table[leg] * FLIGHT.size)[3] for leg in last)
    return HEADER.pack(1 if complete else 0, count, len(table), worst) + flights + bytes(body)


def header(blob: bytes) -> tuple[bool, int, int]:
    """(complete, itinerary count, price of the last itinerary) without decoding the list."""
    complete, count, _, worst = HEADER.unpack_from(blob)
    return complete == 1, count, worst


def decode_list(blob: bytes) -> tuple[list[Records], bool]:
    complete, _, count, _ = HEADER.unpack_from(blob)
    start = HEADER.size
    size = FLIGHT.size
    flights = [blob[start + k * size : start + (k + 1) * size] for k in range(count)]
    get = flights.__getitem__  # map() over the index bytes: ~2x faster than a generator
    itineraries: list[Records] = []
    position = start + count * size
    end = len(blob)
    while position < end:
        n = blob[position]
        itineraries.append(tuple(map(get, blob[position + 1 : position + 1 + n])))
        position += 1 + n
    return itineraries, complete == 1


def flight_ids(blob: bytes) -> list[bytes]:
    """Raw ids of the flights a list references, without decoding its itineraries."""
    start, size = HEADER.size, FLIGHT.size
    return [blob[start + k * size : start + k * size + _ID] for k in range(blob[2])]


def mentions(blob: bytes, ids: Iterable[bytes]) -> bool:
    """Whether the list's flight table holds one of ``ids`` (a byte search, aligned to records)."""
    start, size = HEADER.size, FLIGHT.size
    end = start + blob[2] * size
    for flight_id in ids:
        at = blob.find(flight_id, start, end)
        while at >= 0:
            if (at - start) % size == 0:
                return True
            at = blob.find(flight_id, at + 1, end)
    return False


def with_seats(card: bytes, available: int) -> bytes:
    return card + str(available).encode() + b"}"


Key = tuple[int, int, int, tuple[bytes, ...]]


class Stored:
    """A stored list read in place: itineraries are index-byte slices of the blob, their order keys are
    computed only where a merge probes them, and re-encoding copies index bytes instead of
    rebuilding the itineraries' records (a hub change touches ~150 lists of ~40 itineraries)."""

    __slots__ = ("_keys", "_legs", "blob", "complete", "itineraries", "worst")

    def __init__(self, blob: bytes) -> None:
        complete, count, flights, worst = HEADER.unpack_from(blob)
        self.blob = blob
        self.complete = complete == 1
        self.worst = worst
        # Per itinerary its legs' table indices; an itinerary is named by its position here.
        itineraries: list[bytes] = []
        append = itineraries.append
        position = HEADER.size + flights * FLIGHT.size
        for _ in range(count):
            end = position + 1 + blob[position]
            append(blob[position + 1 : end])
            position = end
        self.itineraries = itineraries
        self._legs: list[tuple[bytes, int, int, int]] = []
        self._keys: dict[int, Key] = {}

    def indices(self, ids: Iterable[bytes]) -> set[int]:
        """Table indices of the flights with one of ``ids`` (aligned byte search, no decoding)."""
        blob, start, size = self.blob, HEADER.size, FLIGHT.size
        end = start + blob[2] * size
        found: set[int] = set()
        for flight_id in ids:
            at = blob.find(flight_id, start, end)
            while at >= 0:
                if (at - start) % size == 0:
                    found.add((at - start) // size)
                at = blob.find(flight_id, at + 1, end)
        return found

    def record(self, index: int) -> bytes:
        start = HEADER.size + index * FLIGHT.size
        return self.blob[start : start + FLIGHT.size]

    def key(self, position: int) -> Key:
        """order_key of the itinerary at ``position`` (cached; the table unpacked once, in C)."""
        found = self._keys.get(position)
        if found is None:
            table = self._legs
            if not table:
                end = HEADER.size + self.blob[2] * FLIGHT.size
                table.extend(FLIGHT.iter_unpack(memoryview(self.blob)[HEADER.size : end]))
            # Unrolled per leg count (1-3 legs): a merge probes ~20 keys per list, ~1,000 lists
            # per hub change; generator expressions cost ~2x.
            indices = self.itineraries[position]
            n = len(indices)
            if n == 1:
                a = table[indices[0]]
                found = (a[3], a[2], 1, (a[0],))
            elif n == 2:
                a, b = table[indices[0]], table[indices[1]]
                found = (a[3] + b[3], b[2], 2, (a[0], b[0]))
            elif n == 3:
                a, b, c = table[indices[0]], table[indices[1]], table[indices[2]]
                found = (a[3] + b[3] + c[3], c[2], 3, (a[0], b[0], c[0]))
            else:
                legs = [table[i] for i in indices]
                found = (sum(leg[3] for leg in legs), legs[-1][2], n, tuple(leg[0] for leg in legs))
            self._keys[position] = found
        return found


def encode_merged(stored: Stored, items: Sequence[int | Records], complete: bool, worst: int) -> bytes:
    """encode_list's bytes for ``items`` (positions in ``stored`` or new itineraries' records),
    without decoding the kept itineraries: the patch path's fast re-encoder, byte for byte equal
    to encode_list (tests/test_search_codec.py); it falls back to encode_list when the table
    would outgrow a u8 index. Kept itineraries' index bytes are renumbered with one
    bytes.translate each (first appearance: dict.fromkeys over the index bytes), not leg by leg:
    re-encoding is most of a hub change's CPU."""
    blob, start, size = stored.blob, HEADER.size, FLIGHT.size
    table_end = start + blob[2] * size
    # New records (candidates' legs not in the table) get indices after the table's.
    extra: dict[bytes, int] = {}
    itineraries = stored.itineraries
    parts: list[bytes] = []
    append = parts.append
    for item in items:
        if item.__class__ is int:
            append(itineraries[item])
            continue
        indices = bytearray()
        for raw in item:  # type: ignore[union-attr]
            index = extra.get(raw)
            if index is None:
                at = blob.find(raw, start, table_end)
                while at >= 0 and (at - start) % size:
                    at = blob.find(raw, at + 1, table_end)
                index = extra[raw] = (at - start) // size if at >= 0 else blob[2] + len(extra)
            if index > 255:  # the table would outgrow a u8 index: encode from the records
                return encode_list([_records(stored, i) for i in items], complete, worst)
            indices.append(index)
        append(bytes(indices))
    order = bytes(dict.fromkeys(b"".join(parts)))
    renumber = bytes.maketrans(order, bytes(range(len(order))))
    flights = blob[2]
    if extra:
        fresh = {index: raw for raw, index in extra.items() if index >= flights}
        table = b"".join(
            [fresh[i] if i >= flights else blob[start + i * size : start + i * size + size] for i in order]
        )
    else:
        table = b"".join([blob[start + i * size : start + i * size + size] for i in order])
    body = bytearray()
    for legs in parts:
        body += _LENGTH[len(legs)]
        body += legs.translate(renumber)
    return HEADER.pack(1 if complete else 0, len(items), len(order), worst) + table + bytes(body)


_LENGTH = [bytes([n]) for n in range(256)]


def _records(stored: Stored, item: int | Records) -> Records:
    if isinstance(item, int):
        return tuple(stored.record(i) for i in stored.itineraries[item])
    return item
