"""One CSV row to a validated flight, with exactly the rules (and messages) of ``FlightIn``.

A strict fast path accepts only rows in the canonical form (ISO timestamps with an offset, plain
integers and decimals) and produces exactly what ``FlightIn`` would; anything else goes through
``FlightIn`` itself, so the set of rejected rows and their messages are FlightIn's.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import ValidationError

from app.airports.catalog import canonical, fold, tidy
from app.flights.schemas import MAX_SEATS_PER_FLIGHT, FlightIn
from app.models import flight_times

COLUMNS = ("flight_number", "source", "destination", "departure_ts", "arrival_ts", "total_seats", "price")

_FLIGHT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{1,15}")
# Ends never whitespace: FlightIn strips it, so such values take the FlightIn path.
_AIRPORT = re.compile(r"[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]{0,62}[^\s\x00-\x1f\x7f]")
# Offsets within ±14:00 (every real zone); seconds without fractions; both parsers agree on these.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:[0-5]\d:[0-5]\d(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d)")
_SEATS = re.compile(r"[1-9]\d{0,3}")
_PRICE = re.compile(r"\d{1,8}(?:\.\d{1,2})?")


@dataclass(slots=True)
class Row:
    line: int
    flight_number: str
    source: str
    destination: str
    departure_ts: datetime
    arrival_ts: datetime
    total_seats: int
    price: Decimal


class RowError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_header(fields: list[str]) -> list[int]:
    """Positions of COLUMNS in the header; ValueError with a readable message when it does not match."""
    names = [name.strip() for name in fields]
    counts = Counter(names)  # linear in the header, whatever its length (names.count was quadratic)
    missing = [c for c in COLUMNS if c not in counts]
    extra = [n for n in names if n not in COLUMNS]
    duplicated = sorted(n for n, times in counts.items() if times > 1)
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected {', '.join(repr(n) for n in extra)}")
    if duplicated:
        problems.append(f"repeated {', '.join(duplicated)}")
    if problems:
        raise ValueError(
            f"CSV header must be exactly {','.join(COLUMNS)} in any order: {'; '.join(problems)}"
        )
    return [names.index(c) for c in COLUMNS]


def to_row(line: int, fields: list[str], positions: list[int]) -> Row:
    if len(fields) != len(COLUMNS):
        raise RowError(line, f"expected {len(COLUMNS)} columns, found {len(fields)}")
    values = [fields[i] for i in positions]
    row = _fast(line, values)
    if row is not None:
        return row
    try:
        flight = FlightIn.model_validate(dict(zip(COLUMNS, values, strict=True)))
    except ValidationError as exc:
        raise RowError(line, describe(exc)) from None
    return Row(
        line,
        flight.flight_number,
        flight.source,
        flight.destination,
        flight.departure_ts,
        flight.arrival_ts,
        flight.total_seats,
        flight.price,
    )


def describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        location = ".".join(str(p) for p in error["loc"])
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def _fast(line: int, values: list[str]) -> Row | None:
    number, source, destination, departure, arrival, seats, price = values
    if not (
        _FLIGHT_NUMBER.fullmatch(number)
        and _AIRPORT.fullmatch(source)
        and _AIRPORT.fullmatch(destination)
        and _TIMESTAMP.fullmatch(departure)
        and _TIMESTAMP.fullmatch(arrival)
        and _SEATS.fullmatch(seats)
        and _PRICE.fullmatch(price)
    ):
        return None
    total_seats = int(seats)
    source, destination = canonical(source) or tidy(source), canonical(destination) or tidy(destination)
    if total_seats > MAX_SEATS_PER_FLIGHT or number[-1] == " " or fold(source) == fold(destination):
        return None
    try:
        departure_ts = datetime.fromisoformat(departure).astimezone(UTC)
        arrival_ts = datetime.fromisoformat(arrival).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: a time near year 1 or 9999 converted to UTC
        return None
    if not flight_times.allowed(departure_ts, arrival_ts):
        return None
    return Row(line, number, source, destination, departure_ts, arrival_ts, total_seats, Decimal(price))
