"""Search query parameters, and the shape of a result.

The response bytes are pre-serialised (app/search/render.py), never made from Itinerary: the
model is the contract the OpenAPI schema publishes for them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, NamedTuple, get_args

from pydantic import BaseModel, Field, StringConstraints, model_validator

from app.flights.schemas import FlightDate, FlightOut
from app.platform.fields import AirportName, MoneyOut, SeatCount

# A local time of day at the first airport, 00:00-23:59, two digits each ("7:5", "24:00" -> 422).
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
MAX_DURATION_MINUTES = 4320


class SearchSort(StrEnum):
    """The order of a search's answer; ties always fall back to the price order."""

    price = "price"
    duration = "duration"
    departure = "departure"
    arrival = "arrival"


class SearchQuery(BaseModel):
    source: AirportName
    destination: AirportName
    date: FlightDate
    seats: SeatCount = 1
    max_stops: Annotated[int, Field(ge=0, le=2)] | None = None
    depart_after: LocalTime | None = None  # inclusive, local at the first airport
    depart_before: LocalTime | None = None  # inclusive (the whole minute)
    max_duration_minutes: Annotated[int, Field(ge=1, le=MAX_DURATION_MINUTES)] | None = None
    sort: SearchSort = SearchSort.price

    @model_validator(mode="after")
    def _distinct(self) -> SearchQuery:
        if self.source.casefold() == self.destination.casefold():
            raise ValueError("source and destination must differ")
        after, before = self.depart_after, self.depart_before
        # Zero-padded HH:MM compares as text in time order.
        if after is not None and before is not None and after > before:
            raise ValueError("depart_after must not be later than depart_before")
        return self


# The parameters that make a search a filtered or sorted one (never answered by the fast path).
FILTER_PARAMETERS = ("max_stops", "depart_after", "depart_before", "max_duration_minutes", "sort")

_MONTH = re.compile(r"^(20[0-9][0-9])-(0[1-9]|1[0-2])$")


class CalendarQuery(BaseModel):
    source: AirportName
    destination: AirportName
    month: Annotated[str, StringConstraints(pattern=_MONTH.pattern)]  # YYYY-MM, 2000-01 to 2099-12
    seats: SeatCount = 1

    @model_validator(mode="after")
    def _distinct(self) -> CalendarQuery:
        if self.source.casefold() == self.destination.casefold():
            raise ValueError("source and destination must differ")
        return self

    def days(self) -> list[dt.date]:
        return _month_days(int(self.month[:4]), int(self.month[5:]))


class CalendarDay(BaseModel):
    """One day of the price calendar: the first result /search gives for that day (nulls: none)."""

    date: dt.date
    min_price: MoneyOut | None
    stops: int | None


class Itinerary(BaseModel):
    """One search result: its flights in travel order (each with its live available_seats)."""

    flights: list[FlightOut]
    total_price: MoneyOut  # the sum of the flights' prices, per seat
    stops: int
    departure_ts: datetime
    arrival_ts: datetime
    duration_minutes: int


def _constraint(field: str, name: str) -> Any:
    """A limit of SearchQuery's own field: the fast path below applies the model's rules, never a
    copy of them (narrow the model and the fast path narrows with it). An optional field's limits
    sit inside its ``Annotated`` type."""
    info = SearchQuery.model_fields[field]
    items = list(info.metadata)
    for member in get_args(info.annotation):
        for meta in getattr(member, "__metadata__", ()):
            items += [meta, *getattr(meta, "metadata", ())]
    for item in items:
        if (value := getattr(item, name, None)) is not None:
            return value
    raise LookupError(f"SearchQuery.{field} has no {name}")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME_LENGTHS = range(_constraint("source", "min_length"), _constraint("source", "max_length") + 1)
_NAME_PATTERN = re.compile(_constraint("source", "pattern"))
_SEATS = {str(n): n for n in range(_constraint("seats", "ge"), _constraint("seats", "le") + 1)}
_DATES = range(_constraint("date", "ge").toordinal(), _constraint("date", "le").toordinal() + 1)
_STOPS = {str(n): n for n in range(_constraint("max_stops", "ge"), _constraint("max_stops", "le") + 1)}
_LOCAL_TIME = re.compile(_constraint("depart_after", "pattern"))
_DURATIONS = range(_constraint("max_duration_minutes", "ge"), _constraint("max_duration_minutes", "le") + 1)
_SORTS = {sort.value: sort for sort in SearchSort}
_DIGITS = re.compile(r"[0-9]{1,4}")


class PlainFilters(NamedTuple):
    """The filter and sort parameters of a plainly valid request, as SearchQuery holds them."""

    max_stops: int | None = None
    depart_after: str | None = None
    depart_before: str | None = None
    max_duration_minutes: int | None = None
    sort: SearchSort = SearchSort.price


def plain_search_params(
    params: Mapping[str, str],
) -> tuple[str, str, dt.date, int, PlainFilters | None] | None:
    """The parameters when they are plainly valid, else None (then SearchQuery decides, and words
    the 422). Accepts only inputs SearchQuery accepts unchanged: no surrounding whitespace, a
    YYYY-MM-DD date, seats and limits as digits within the model's bounds, times as its pattern,
    a sort by its value; everything unusual goes the slow, exact way."""
    source, destination, day = params.get("source"), params.get("destination"), params.get("date")
    seats = params.get("seats", "1")
    filters = None
    if any(name in params for name in FILTER_PARAMETERS):
        filters = _plain_filters(params)
        if filters is None:
            return None
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
    if parsed.toordinal() not in _DATES:
        return None
    return source, destination, parsed, _SEATS[seats], filters


def _plain_filters(params: Mapping[str, str]) -> PlainFilters | None:
    stops, after, before = params.get("max_stops"), params.get("depart_after"), params.get("depart_before")
    duration, sort = params.get("max_duration_minutes"), params.get("sort", SearchSort.price.value)
    if (stops is not None and stops not in _STOPS) or sort not in _SORTS:
        return None
    if any(t is not None and _LOCAL_TIME.fullmatch(t) is None for t in (after, before)):
        return None
    if after is not None and before is not None and after > before:
        return None
    if duration is not None and (_DIGITS.fullmatch(duration) is None or int(duration) not in _DURATIONS):
        return None
    return PlainFilters(
        None if stops is None else _STOPS[stops],
        after,
        before,
        None if duration is None else int(duration),
        _SORTS[sort],
    )


def plain_calendar_params(params: Mapping[str, str]) -> tuple[str, str, list[dt.date], int] | None:
    """CalendarQuery's parameters when plainly valid (the same rules as the search's fast path:
    its name, month and seat limits are the models'), else None: the model decides."""
    source, destination, month = params.get("source"), params.get("destination"), params.get("month")
    seats = params.get("seats", "1")
    if source is None or destination is None or month is None or seats not in _SEATS:
        return None
    if not (_plain_name(source) and _plain_name(destination)) or _MONTH.fullmatch(month) is None:
        return None
    if source.casefold() == destination.casefold():
        return None
    return source, destination, _month_days(int(month[:4]), int(month[5:])), _SEATS[seats]


def _month_days(year: int, month: int) -> list[dt.date]:
    first = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return [dt.date.fromordinal(n) for n in range(first.toordinal(), following.toordinal())]


def _plain_name(name: str) -> bool:
    return len(name) in _NAME_LENGTHS and name == name.strip() and _NAME_PATTERN.search(name) is not None
