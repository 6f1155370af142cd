from __future__ import annotations

import datetime as dt
import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from app.airports.catalog import canonical, fold, tidy
from app.models import FlightStatus, flight_times
from app.platform.fields import AirportName, FlightNumber, Money, MoneyOut

MAX_SEATS_PER_FLIGHT = 1000


def _within_limits(value: datetime) -> datetime:
    # Checked before the conversion to UTC, which overflows near year 1 and 9999.
    if not flight_times.time_allowed(value):
        raise ValueError(flight_times.TIME_RANGE_MESSAGE)
    return value.astimezone(UTC)


FlightTime = Annotated[AwareDatetime, AfterValidator(_within_limits)]
# A local date of departure, as search and the admin list take it.
FlightDate = Annotated[dt.date, Field(ge=flight_times.FIRST_DATE, le=flight_times.LAST_DATE)]


class FlightIn(BaseModel):
    """A flight as an operator writes it (POST and PUT bodies, CSV rows)."""

    model_config = ConfigDict(extra="forbid")

    flight_number: FlightNumber
    source: AirportName
    destination: AirportName
    departure_ts: FlightTime
    arrival_ts: FlightTime
    total_seats: Annotated[int, Field(ge=1, le=MAX_SEATS_PER_FLIGHT)]
    price: Money
    # Read-only, accepted so that a flight as GET returns it can be PUT back: it must equal the
    # flight's status (a cancel is POST /admin/flights/{id}/cancel). Never stored from here.
    status: Annotated[FlightStatus | None, Field(exclude=True)] = None

    @model_validator(mode="after")
    def _coherent(self) -> FlightIn:
        # A known airport's canonical spelling (`jfk` -> `JFK`, `DEL` -> `Delhi`); other names
        # take the spelling in use in the service (app/airports/service.py).
        self.source = canonical(self.source) or tidy(self.source)
        self.destination = canonical(self.destination) or tidy(self.destination)
        if fold(self.source) == fold(self.destination):
            raise ValueError("source and destination must differ")
        if self.arrival_ts <= self.departure_ts:
            raise ValueError("arrival_ts must be after departure_ts")
        if not flight_times.duration_allowed(self.departure_ts, self.arrival_ts):
            raise ValueError(flight_times.DURATION_MESSAGE)
        return self


class FlightOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    flight_number: str
    source: str
    destination: str
    departure_ts: datetime
    arrival_ts: datetime
    total_seats: int
    available_seats: int
    price: MoneyOut
    # CANCELLED: cancelled by the airline, kept as a record (neither searchable nor bookable).
    # Defaults to SCHEDULED for views built from rows read before the status was known (booking).
    status: FlightStatus = FlightStatus.SCHEDULED


class FlightPage(BaseModel):
    items: list[FlightOut]
    total: int


class FlightFilter(BaseModel):
    source: AirportName | None = None
    destination: AirportName | None = None
    date: FlightDate | None = None
    status: FlightStatus | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    offset: Annotated[int, Field(ge=0, le=10_000_000)] = 0
