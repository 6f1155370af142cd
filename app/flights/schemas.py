from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.airports.catalog import canonical, fold, tidy
from app.platform.fields import AirportName, FlightNumber, Money, MoneyOut, UtcDatetime

MAX_SEATS_PER_FLIGHT = 1000


class FlightIn(BaseModel):
    """A flight as an operator writes it (POST and PUT bodies, CSV rows)."""

    model_config = ConfigDict(extra="forbid")

    flight_number: FlightNumber
    source: AirportName
    destination: AirportName
    departure_ts: UtcDatetime
    arrival_ts: UtcDatetime
    total_seats: Annotated[int, Field(ge=1, le=MAX_SEATS_PER_FLIGHT)]
    price: Money

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


class FlightPage(BaseModel):
    items: list[FlightOut]
    total: int


class FlightFilter(BaseModel):
    source: AirportName | None = None
    destination: AirportName | None = None
    date: dt.date | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    offset: Annotated[int, Field(ge=0, le=10_000_000)] = 0
