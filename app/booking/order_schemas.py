"""What clients send and see of orders (contract: "Orders"). Every status is an enum in OpenAPI."""

from __future__ import annotations

import enum
import unicodedata
import uuid
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)

from app.booking.schemas import MAX_LEGS
from app.flights.schemas import FlightOut
from app.models import OrderStatus, PassengerType
from app.platform.fields import PLAIN_TEXT, MoneyOut

MAX_SLICES = 4
MAX_PASSENGERS = 9
MAX_NAME_LENGTH = 64
EARLIEST_BIRTH = date(1900, 1, 1)
REFERENCE_LENGTH = 6

_NAME_PUNCTUATION = frozenset(" '-")


def _person_name(value: str) -> str:
    """Letters of any script, spaces, ``'`` and ``-``, at least one letter (NFC first, so a name
    typed with combining accents is the same name as its precomposed spelling)."""
    value = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(value) <= MAX_NAME_LENGTH:
        raise ValueError(f"must be 1 to {MAX_NAME_LENGTH} characters")
    if not all(ch.isalpha() or ch in _NAME_PUNCTUATION for ch in value):
        raise ValueError("may hold only letters, spaces, ' and -")
    if not any(ch.isalpha() for ch in value):
        raise ValueError("must contain a letter")
    return value


# PLAIN_TEXT first: a NUL or an unpaired surrogate is refused before normalisation sees it.
PersonName = Annotated[
    str, StringConstraints(max_length=4 * MAX_NAME_LENGTH), PLAIN_TEXT, AfterValidator(_person_name)
]
BirthDate = Annotated[date, Field(ge=EARLIEST_BIRTH, le=date(2100, 1, 1))]


class SliceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flight_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_LEGS)]


class PassengerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    given_name: PersonName
    family_name: PersonName
    born_on: BirthDate
    type: PassengerType


@lru_cache(maxsize=4096)
def _email_address(value: str) -> str:
    """pydantic's EmailStr check (email-validator, no DNS lookup), memoised: its IDNA and syntax
    checks cost more than the rest of an order's validation, and travellers reuse addresses."""
    return str(_EMAIL.validate_python(value))


_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)
EmailAddress = Annotated[
    str,
    StringConstraints(max_length=254),
    PLAIN_TEXT,
    AfterValidator(_email_address),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254}),
]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailAddress


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slices: Annotated[list[SliceIn], Field(min_length=1, max_length=MAX_SLICES)]
    passengers: Annotated[list[PassengerIn], Field(min_length=1, max_length=MAX_PASSENGERS)]
    contact: ContactIn
    hold: bool = False

    @model_validator(mode="after")
    def _shape(self) -> OrderIn:
        ids = self.flight_ids
        if len(set(ids)) != len(ids):
            raise ValueError("an order must not contain the same flight twice")
        infants = sum(1 for p in self.passengers if p.type == PassengerType.INFANT)
        adults = sum(1 for p in self.passengers if p.type == PassengerType.ADULT)
        if infants > adults:
            raise ValueError("each infant travels on an adult's lap: at most one infant per adult")
        return self

    @property
    def flight_ids(self) -> list[uuid.UUID]:
        return [fid for part in self.slices for fid in part.flight_ids]

    @property
    def seated(self) -> int:
        """Adults and children: the seats every flight of the order takes."""
        return sum(1 for p in self.passengers if p.type != PassengerType.INFANT)

    @property
    def infants(self) -> int:
        return sum(1 for p in self.passengers if p.type == PassengerType.INFANT)


class CancelledBy(enum.StrEnum):
    TRAVELLER = "traveller"
    AIRLINE = "airline"


class SliceOut(BaseModel):
    flights: list[FlightOut]


class PassengerOut(BaseModel):
    given_name: str
    family_name: str
    born_on: date
    type: PassengerType


class ContactOut(BaseModel):
    email: str


class Order(BaseModel):
    id: uuid.UUID
    reference: Annotated[str, Field(min_length=REFERENCE_LENGTH, max_length=REFERENCE_LENGTH)]
    status: OrderStatus
    total_price: MoneyOut
    slices: list[SliceOut]
    passengers: list[PassengerOut]
    contact: ContactOut
    payment_required_by: datetime | None
    refund_amount: MoneyOut | None
    needs_attention: bool
    cancelled_by: CancelledBy | None
    created_at: datetime
    updated_at: datetime


class CancellationQuote(BaseModel):
    refund_amount: MoneyOut
    # The moment this amount would change (the 24 h mark, the hold's deadline or the departure).
    expires_at: datetime
