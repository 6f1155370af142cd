from __future__ import annotations

from typing import Annotated
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
    name: str
    timezone: str
    # True when no timezone was set for this airport and DEFAULT_TIMEZONE applies.
    is_default: bool
