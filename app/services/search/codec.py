"""Byte formats of the search index: the itinerary list of a city pair and a flight's card.

List (one hash field per destination): ``complete`` (u8: 1 when these are all the itineraries
there are), the distinct flights (u8 count, then per flight 16-byte id, u32 departure, u32 arrival,
i64 price in cents), then per itinerary a u8 leg count and u8 indices into the flights. Sharing the
flight table keeps a list of 40 itineraries (mostly through the same few first legs) near 1-2 KB.

Card: a flight's JSON object as in the admin API, minus its closing ``"available_seats": n}`` which
the query appends from the live counter.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import orjson

from app.schemas.flights import FlightOut

_FLIGHT = struct.Struct("<16sIIq")


@dataclass(frozen=True, slots=True)
class Leg:
    id: uuid.UUID
    departure: int
    arrival: int
    price: int  # cents


@dataclass(frozen=True, slots=True)
class StoredItinerary:
    legs: tuple[Leg, ...]

    @property
    def price(self) -> int:
        return sum(leg.price for leg in self.legs)


def encode_list(itineraries: Sequence[tuple[Leg, ...]], complete: bool) -> bytes:
    table: dict[uuid.UUID, int] = {}
    flights: list[bytes] = []
    body = bytearray()
    for legs in itineraries:
        body.append(len(legs))
        for leg in legs:
            index = table.get(leg.id)
            if index is None:
                index = table[leg.id] = len(flights)
                flights.append(_FLIGHT.pack(leg.id.bytes, leg.departure, leg.arrival, leg.price))
            body.append(index)
    return bytes((1 if complete else 0, len(flights))) + b"".join(flights) + bytes(body)


def decode_list(blob: bytes) -> tuple[list[StoredItinerary], bool]:
    complete, count = blob[0] == 1, blob[1]
    size = _FLIGHT.size
    legs: list[Leg] = []
    for k in range(count):
        raw, departure, arrival, price = _FLIGHT.unpack_from(blob, 2 + k * size)
        legs.append(Leg(uuid.UUID(bytes=raw), departure, arrival, price))
    itineraries: list[StoredItinerary] = []
    position = 2 + count * size
    while position < len(blob):
        n = blob[position]
        itineraries.append(StoredItinerary(tuple(legs[i] for i in blob[position + 1 : position + 1 + n])))
        position += 1 + n
    return itineraries, complete


def encode_card(
    flight_id: uuid.UUID,
    flight_number: str,
    source: str,
    destination: str,
    departure_ts: datetime,
    arrival_ts: datetime,
    total_seats: int,
    price: Decimal,
) -> bytes:
    # Through FlightOut, so a card serialises exactly as the admin API's flight object.
    out = FlightOut(
        id=flight_id,
        flight_number=flight_number,
        source=source,
        destination=destination,
        departure_ts=departure_ts,
        arrival_ts=arrival_ts,
        total_seats=total_seats,
        available_seats=0,
        price=price,
    ).model_dump(mode="json")
    del out["available_seats"]
    return orjson.dumps(out)[:-1] + b',"available_seats":'


def with_seats(card: bytes, available: int) -> bytes:
    return card + str(available).encode() + b"}"
