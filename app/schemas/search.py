"""Search query parameters (the response is pre-serialised JSON, see app/services/search/query.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from pydantic import BaseModel, model_validator

from app.schemas import flight_times
from app.schemas.common import AirportName, SeatCount
from app.schemas.flights import FlightDate


class SearchQuery(BaseModel):
    source: AirportName
    destination: AirportName
    date: FlightDate
    seats: SeatCount = 1

    @model_validator(mode="after")
    def _distinct(self) -> SearchQuery:
        if self.source.casefold() == self.destination.casefold():
            raise ValueError("source and destination must differ")
        return self


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SEATS = {str(n): n for n in range(1, 10)}


def plain_search_params(params: Mapping[str, str]) -> tuple[str, str, dt.date, int] | None:
    """The parameters when they are plainly valid, else None (then SearchQuery decides, and words
    the 422). Accepts only inputs SearchQuery accepts unchanged: no surrounding whitespace, a
    YYYY-MM-DD date, seats as one digit; everything unusual goes the slow, exact way."""
    source, destination, day = params.get("source"), params.get("destination"), params.get("date")
    seats = params.get("seats", "1")
    if source is None or destination is None or day is None or seats not in _SEATS:
        return None
    if not (_plain_name(source) and _plain_name(destination)) or _ISO_DATE.fullmatch(day) is None:
        return None
    if source.casefold() == destination.casefold():
        return None
    try:
        parsed = dt.date.fromisoformat(day)
    except ValueError:
        return None
    if not flight_times.FIRST_DATE <= parsed <= flight_times.LAST_DATE:
        return None
    return source, destination, parsed, _SEATS[seats]


def _plain_name(name: str) -> bool:
    return 2 <= len(name) <= 64 and name == name.strip() and _CONTROL.search(name) is None
