"""The search response, assembled as bytes from stored lists (codec.py), cards and live counters.

What a stored list fixes (its flights, each itinerary's price, stops, times) is decoded and
serialised once per distinct list (``prepared``, memoised by the list's bytes, so a changed list
is a new entry and never served stale); a request then only filters the itineraries by its live
counters and departure time and joins the flights' cards, each with its live seat count.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Iterator, Sequence

from app.search.codec import FLIGHT, HEADER, with_seats

# codec.FLIGHT unpacked: raw id, departure, arrival (epoch seconds), price in cents.
FlightRecord = tuple[bytes, int, int, int]
# An itinerary of a prepared list: its flights' indices into the list's table, its first
# departure, and its JSON after the flights (closing the flights array).
Prepared = tuple[bytes, int, bytes]

# ~10 KB per national-size list (40 itineraries): at most ~20 MB per process.
PREPARED_LISTS = 2048


def flight_table(blob: bytes) -> list[FlightRecord]:
    """A stored list's flights, in index order."""
    start = HEADER.size
    return list(FLIGHT.iter_unpack(blob[start : start + blob[2] * FLIGHT.size]))


def itinerary_indices(blob: bytes) -> Iterator[bytes]:
    """Each itinerary of a stored list as indices into ``flight_table(blob)``, in order."""
    position, end = HEADER.size + blob[2] * FLIGHT.size, len(blob)
    while position < end:
        n = blob[position]
        yield blob[position + 1 : position + 1 + n]
        position += 1 + n


@functools.lru_cache(maxsize=PREPARED_LISTS)
def prepared(blob: bytes) -> tuple[tuple[bytes, ...], tuple[Prepared, ...]]:
    """The list's flight ids (index order) and its itineraries, decoded and serialised once."""
    table = flight_table(blob)
    itineraries = tuple(
        (legs, table[legs[0]][1], tail([table[i] for i in legs])) for legs in itinerary_indices(blob)
    )
    return tuple(f[0] for f in table), itineraries


def tail(legs: Sequence[FlightRecord]) -> bytes:
    """An itinerary's JSON after its flights' objects: fixed by its legs' records."""
    return tail_of(legs[0][1], legs[-1][2], sum(leg[3] for leg in legs), len(legs))


def tail_of(departure: int, arrival: int, cents: int, flights: int) -> bytes:
    """``tail`` from the itinerary's first departure, final arrival, total price and flights."""
    # %r of the float is money()'s spelling (repr, ASCII), without its call and encode.
    return b'],"total_price":%r,"stops":%d,"departure_ts":"%s","arrival_ts":"%s","duration_minutes":%d}' % (
        cents / 100,
        flights - 1,
        iso(departure),
        iso(arrival),
        (arrival - departure) // 60,
    )


def scanned(
    itineraries: Iterable[tuple[Sequence[int], int, int, int]],
    cards: dict[int, bytes],
    counts: dict[int, int],
) -> bytes:
    """The response for a scan's itineraries (scan.Itinerary: flights' slots, total price, first
    departure, final arrival), each flight's card closed by its live seat count: ``body`` of
    ``with_seats`` and ``tail_of``, built in one pass (each flight's object spelled once)."""
    shown: dict[int, bytes] = {}
    out = []
    for legs, cents, departure, arrival in itineraries:
        flights = []
        for f in legs:
            flight = shown.get(f)
            if flight is None:
                n = counts[f]
                flight = shown[f] = cards[f] + (_SEATS_END[n] if 0 <= n < _SEATS_KNOWN else b"%d}" % n)
            flights.append(flight)
        out.append(b'{"flights":[' + b",".join(flights) + tail_of(departure, arrival, cents, len(legs)))
    return b"[" + b",".join(out) + b"]"


# with_seats' ends for the usual counts, spelled once.
_SEATS_KNOWN = 1024
_SEATS_END = tuple(b"%d}" % n for n in range(_SEATS_KNOWN))


def body(itineraries: Sequence[tuple[Sequence[bytes], bytes]]) -> bytes:
    """The JSON array from each itinerary's flights' objects and its ``tail``."""
    return b"[" + b",".join(b'{"flights":[' + b",".join(flights) + end for flights, end in itineraries) + b"]"


def render(
    itineraries: Sequence[Sequence[FlightRecord]], counts: dict[bytes, int], cards: dict[bytes, bytes]
) -> bytes:
    """The response for itineraries given as their flights' records (the exact path's)."""
    return body(
        [
            ([with_seats(cards[leg[0]], counts.get(leg[0], 0)) for leg in legs], tail(legs))
            for legs in itineraries
        ]
    )


def money(cents: int) -> bytes:
    # IEEE division is correctly rounded, as float(Decimal(cents) / 100) is: the same float.
    return repr(cents / 100).encode()


@functools.lru_cache(maxsize=65536)
def iso(epoch: int) -> bytes:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)).encode()
