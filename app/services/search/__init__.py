"""Search index (precomputed cheapest itineraries in Redis). Filled in by the search issue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.context import AppContext
    from app.services.flight_events import FlightChange


async def on_flights_changed(context: AppContext, changes: Sequence[FlightChange]) -> None:
    """Re-index exactly what the changed flights affect."""


async def on_airport_timezone_changed(context: AppContext, airport: str) -> None:
    """An airport's local dates moved: re-index its departures."""


async def on_startup(context: AppContext) -> None:
    """Build the index if it is missing or from an older format."""
