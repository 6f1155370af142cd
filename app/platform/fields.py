"""Field types shared by request and response schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, PlainSerializer, StringConstraints

# Prices are NUMERIC(10,2) in the database and plain JSON numbers on the wire.
Money = Annotated[
    Decimal,
    Field(ge=0, lt=Decimal("100000000"), decimal_places=2, allow_inf_nan=False),
    PlainSerializer(float, return_type=float, when_used="json"),
]
MoneyOut = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]

AirportName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$"),
]
FlightNumber = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=2, max_length=16, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$"
    ),
]
SeatCount = Annotated[int, Field(ge=1, le=9)]
