from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from app.platform.fields import PLAIN_TEXT


def _iana_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA timezone {value!r}") from exc
    return value


TimezoneName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    PLAIN_TEXT,
    AfterValidator(_iana_zone),
]


class AirportTimezoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: TimezoneName


class AirportOut(BaseModel):
    name: str  # the spelling its flights are stored under
    code: str | None  # IATA code, when it is a known airport
    city: str | None
    country: str | None  # ISO 3166-1 alpha-2
    timezone: str
    # True when no admin set its timezone: the shipped data set's, else DEFAULT_TIMEZONE, applies.
    is_default: bool


class PlaceOut(BaseModel):
    name: str  # the spelling its flights are stored under, as search results show it
    code: str | None
    city: str | None
    country: str | None
    timezone: str  # the one search uses for its local dates


class SuggestionOut(BaseModel):
    code: str | None  # an airport's IATA code, or a city's metropolitan code
    name: str
    city: str | None
    country: str | None
    timezone: str
    kind: Literal["airport", "city"]
