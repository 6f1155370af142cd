from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.flights.schemas import FlightOut
from app.models import BookingStatus
from app.platform.fields import MoneyOut, SeatCount

# The longest itinerary search can return (MAX_STOPS is at most 2).
MAX_LEGS = 3


class BookingIn(BaseModel):
    """One flight (``flight_id``) or the legs of a connecting itinerary in travel order (``flight_ids``)."""

    model_config = ConfigDict(extra="forbid")

    flight_id: uuid.UUID | None = None
    flight_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_LEGS)] | None = None
    seats: SeatCount

    @model_validator(mode="after")
    def _one_form(self) -> BookingIn:
        if (self.flight_id is None) == (self.flight_ids is None):
            raise ValueError("give exactly one of flight_id or flight_ids")
        if self.flight_ids is not None and len(set(self.flight_ids)) != len(self.flight_ids):
            raise ValueError("flight_ids must not repeat a flight")
        return self

    @property
    def is_itinerary(self) -> bool:
        return self.flight_ids is not None

    @property
    def legs(self) -> list[uuid.UUID]:
        if self.flight_ids is not None:
            return list(self.flight_ids)
        assert self.flight_id is not None
        return [self.flight_id]


class BookingOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    flight_id: uuid.UUID
    seats: int
    status: BookingStatus
    payment_ref: str | None
    created_at: datetime
    updated_at: datetime
    flight: FlightOut


class BookingGroupOut(BaseModel):
    group_id: uuid.UUID
    status: BookingStatus
    total_price: MoneyOut
    bookings: list[BookingOut]
