from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime

from pydantic import BaseModel, model_validator

from app.flights.schemas import FlightDate, FlightOut
from app.models import BookingStatus, OrderStatus, PassengerType
from app.platform.fields import MoneyOut


class ManifestPassenger(BaseModel):
    given_name: str
    family_name: str
    born_on: dt.date
    type: PassengerType


class ManifestEntry(BaseModel):
    """One bookings row of the flight (an order's flight, or a plain /booking booking)."""

    booking_id: uuid.UUID
    order_id: uuid.UUID | None
    # The order's reference; null for a plain /booking booking.
    reference: str | None
    status: BookingStatus
    order_status: OrderStatus | None
    seats: int
    passengers: list[ManifestPassenger]
    contact_email: str | None
    username: str
    needs_attention: bool
    created_at: datetime


class StatusCounts(BaseModel):
    """Bookings rows of the flight per status."""

    PENDING: int = 0
    CONFIRMED: int = 0
    CANCELLED: int = 0
    FAILED: int = 0
    HELD: int = 0
    EXPIRED: int = 0


class ManifestTotals(BaseModel):
    # Seats of HELD, PENDING and CONFIRMED rows: what counts against total_seats.
    seats_taken: int
    seats_confirmed: int
    seats_held: int
    # People travelling on seat-holding rows: an order's passengers (infants included), a plain
    # booking's seats.
    passengers: int
    infants: int
    bookings: int
    by_status: StatusCounts


class ManifestOut(BaseModel):
    flight: FlightOut
    entries: list[ManifestEntry]
    totals: ManifestTotals


class CancellationImpact(BaseModel):
    """What POST /admin/flights/{id}/cancel would do now."""

    orders: int
    # Bookings rows that would be cancelled, on this flight and on the orders' other flights.
    bookings: int
    passengers: int
    refund_total: MoneyOut


class CancelOut(BaseModel):
    flight: FlightOut
    orders_cancelled: int
    bookings_cancelled: int
    passengers: int
    refund_total: MoneyOut
    # False when the flight was already cancelled (the counts are then zero).
    changed: bool


class RouteDay(BaseModel):
    source: str
    destination: str
    # UTC day of departure.
    day: dt.date
    flights: int
    cancelled_flights: int
    seats: int
    seats_sold: int
    load_factor: float
    revenue: MoneyOut


class RoutesReport(BaseModel):
    date_from: dt.date
    date_to: dt.date
    items: list[RouteDay]


class Departure(BaseModel):
    flight: FlightOut
    seats_sold: int
    seats_held: int
    load_factor: float
    orders: int


class DeparturesOut(BaseModel):
    hours: int
    items: list[Departure]


MAX_ROUTE_DAYS = 62


class RouteRange(BaseModel):
    """UTC days of departure, both included; default the next 7 days; at most 62 days."""

    date_from: FlightDate | None = None
    date_to: FlightDate | None = None

    @model_validator(mode="after")
    def _bounded(self) -> RouteRange:
        start = self.date_from or dt.datetime.now(dt.UTC).date()
        end = self.date_to or start + dt.timedelta(days=6)
        if end < start:
            raise ValueError("date_to must not be before date_from")
        if (end - start).days + 1 > MAX_ROUTE_DAYS:
            raise ValueError(f"At most {MAX_ROUTE_DAYS} days at once")
        self.date_from, self.date_to = start, end
        return self
