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


def plain_text(value: str) -> str:
    """``value`` when it is text every layer can carry; ValueError otherwise (contract, Input limits).

    PostgreSQL's text cannot hold NUL, and an unpaired surrogate (which JSON's \\ud800 can spell)
    has no UTF-8 form: either one, let through, fails later at the database or in the answer."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ValueError("must not contain unpaired surrogates") from None
    return value


# Every str a request carries is Text, or ends with PLAIN_TEXT after its own constraints (placed
# last, so pydantic keeps the constraints in its native str check and their usual messages).
PLAIN_TEXT = AfterValidator(plain_text)
Text = Annotated[str, PLAIN_TEXT]

AirportName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$"),
    PLAIN_TEXT,
]
FlightNumber = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=2, max_length=16, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]*$"
    ),
    PLAIN_TEXT,
]
SeatCount = Annotated[int, Field(ge=1, le=9)]
