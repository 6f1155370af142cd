"""What happens after flights change: the search index and the airports list follow.

Services call ``flights_changed`` after their transaction commits, with one ``FlightChange`` per
flight (``before`` None for an insert, ``after`` None for a delete).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.core.context import AppContext
from app.models import Flight


@dataclass(frozen=True, slots=True)
class FlightSnapshot:
    id: uuid.UUID
    flight_number: str
    source: str
    destination: str
    departure_ts: datetime
    arrival_ts: datetime
    total_seats: int
    price: Decimal

    @classmethod
    def of(cls, flight: Flight) -> FlightSnapshot:
        return cls(
            id=flight.id,
            flight_number=flight.flight_number,
            source=flight.source,
            destination=flight.destination,
            departure_ts=flight.departure_ts,
            arrival_ts=flight.arrival_ts,
            total_seats=flight.total_seats,
            price=flight.price,
        )


@dataclass(frozen=True, slots=True)
class FlightChange:
    before: FlightSnapshot | None
    after: FlightSnapshot | None


async def flights_changed(context: AppContext, changes: Sequence[FlightChange]) -> None:
    if not changes:
        return
    # Imported here: the search package depends on this module's dataclasses.
    from app.services import airports, search

    await airports.invalidate_names(context)
    await search.on_flights_changed(context, changes)
