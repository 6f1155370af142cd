"""The flight-change event: published after each commit that changes flights, on the
``flight_changes`` topic (the search index and the airports list subscribe in ``app.context``).

Services call ``flights_changed`` after their transaction commits, with one ``FlightChange`` per
flight (``before`` None for an insert, ``after`` None for a delete). Before that commit, a
transaction that moves flights' times runs ``context.schedule_hook`` with its moves
(``ScheduleHook``, rule ``times_moved``), so that what reacts commits with the move or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

import asyncpg

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


# One flight whose times moved: (before, after), the same flight's id in both.
ScheduleMove = tuple[FlightSnapshot, FlightSnapshot]

# Run inside the transaction that moves flights' times, after the new times are written and before
# the commit, on that transaction's asyncpg connection, with every move the transaction makes: the
# admin PUT (one move, the connection under its session) and a bulk import batch (all of the
# batch's moves, its raw connection). The composition root passes the operations domain's
# reaction, so that neither flights nor bulk_import (below operations) imports who reacts.
ScheduleHook = Callable[[asyncpg.Connection, Sequence[ScheduleMove]], Awaitable[None]]


def times_moved(before: FlightSnapshot, after: FlightSnapshot) -> bool:
    """The rule for a schedule change, the same for every writer: departure or arrival differs."""
    return before.departure_ts != after.departure_ts or before.arrival_ts != after.arrival_ts


async def flights_changed(context: AppContext, changes: Sequence[FlightChange]) -> None:
    if not changes:
        return
    await context.flight_changes.publish(changes)
