"""The flight-change event: published after each commit that changes flights, on the
``flight_changes`` topic (the search index and the airports list subscribe in ``app.context``).

Services call ``flights_changed`` after their transaction commits, with one ``FlightChange`` per
flight (``before`` None for an insert, ``after`` None for a delete).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Flight

if TYPE_CHECKING:
    from app.context import AppContext


class FlightSnapshot(NamedTuple):
    # A tuple, not a frozen dataclass: a bulk batch makes one or two per row, and a tuple is built
    # ~10x faster than a frozen dataclass (which sets each field through object.__setattr__).
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


class FlightChange(NamedTuple):
    before: FlightSnapshot | None
    after: FlightSnapshot | None


# Run by the admin PUT inside its transaction, before the commit, when a flight's times move
# (session, before, after): the composition root passes the operations domain's reaction, so that
# flights (below booking) never imports who reacts.
ScheduleHook = Callable[[AsyncSession, FlightSnapshot, FlightSnapshot], Awaitable[None]]


async def flights_changed(context: AppContext, changes: Sequence[FlightChange]) -> None:
    if not changes:
        return
    await context.flight_changes.publish(changes)
