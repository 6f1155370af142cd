"""The contract's limits on flight times ("Input limits"), defined once.

A flight departs and arrives between FIRST_TIME and LAST_TIME (both included) and lasts at most
MAX_DURATION. Every path that takes a flight checks these (FlightIn for the API and the CSV, the
CSV fast path through ``allowed``), the database refuses other rows (migration 0004), and the search
reads only rows within them (``SQL``), so a row stored before the limits existed can never reach
the index: 2000-2100 fits the index's unsigned 32-bit epochs, a bounded duration its reach.
Search dates lie between FIRST_DATE and LAST_DATE.

Standard library only: the models, the schemas and the search import it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

FIRST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LAST_TIME = datetime(2100, 1, 1, tzinfo=UTC)
MAX_DURATION = timedelta(hours=48)
FIRST_DATE: date = FIRST_TIME.date()
LAST_DATE: date = LAST_TIME.date()

TIME_RANGE_MESSAGE = f"must lie between {FIRST_TIME:%Y-%m-%dT%H:%M:%SZ} and {LAST_TIME:%Y-%m-%dT%H:%M:%SZ}"
DURATION_MESSAGE = f"a flight lasts at most {MAX_DURATION.total_seconds() / 3600:g} hours"


def time_allowed(value: datetime) -> bool:
    """An aware time within the limits (compared without converting: no overflow near year 1 or 9999)."""
    return value.tzinfo is not None and FIRST_TIME <= value <= LAST_TIME


def duration_allowed(departure: datetime, arrival: datetime) -> bool:
    """For times already within the limits: arrival after departure, at most MAX_DURATION later."""
    return departure < arrival <= departure + MAX_DURATION


def allowed(departure: datetime, arrival: datetime) -> bool:
    """Both times within the limits and the duration too (any datetimes, naive ones included: the
    database driver gives ±infinity as naive datetime.min / max)."""
    return time_allowed(departure) and time_allowed(arrival) and duration_allowed(departure, arrival)


def _literal(value: datetime) -> str:
    return f"TIMESTAMPTZ '{value.isoformat()}'"


# The same rules as SQL conditions on the flights table (the CHECK constraints' text, and the
# search's filter). A range test never fails on ±infinity; the duration is written as a sum, as
# subtracting infinite timestamps is an error.
TIMES_SQL = (
    f"departure_ts BETWEEN {_literal(FIRST_TIME)} AND {_literal(LAST_TIME)}"
    f" AND arrival_ts BETWEEN {_literal(FIRST_TIME)} AND {_literal(LAST_TIME)}"
)
DURATION_SQL = f"arrival_ts <= departure_ts + INTERVAL '{int(MAX_DURATION.total_seconds())} seconds'"
SQL = f"({TIMES_SQL} AND arrival_ts > departure_ts AND {DURATION_SQL})"
