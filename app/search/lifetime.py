"""How long the search index keeps what it stores: one rule, for the rebuild, the worker's reindex,
the change hooks and the read path.

Search data about something that ends at epoch T (an origin-day at its midnight, a flight at its
arrival) is kept until ``expires_at(T)``: T + 2 days. A flight's card counts from a day after its
arrival: a flight in a day's lists arrives no earlier than that day's start, a day before its end,
so its card outlives every list that names it. The full rebuild reads the flights whose departure
is at most that long ago (``oldest_departure``): older ones are in no day still kept.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

KEPT_SECONDS = 2 * 86400
_DAY = 86400


def expires_at(end: float) -> int:
    """When search data about something that ends at epoch ``end`` is dropped."""
    return int(end) + KEPT_SECONDS


def day_expires_at(day_end: int) -> int:
    """An origin-day's hash, from its local end (the build knows the origin's timezone)."""
    return expires_at(day_end)


def day_expires_at_utc(day: date) -> int:
    """An origin-day's hash where no timezone is at hand (invalidation): from its UTC end."""
    return expires_at(datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC).timestamp())


def card_ttl(arrival: float, now: float) -> int:
    """Seconds from ``now`` that a flight's card is kept: until expires_at(its arrival + 1 day),
    counted from now for a flight that has already landed."""
    return expires_at(max(arrival, now) + _DAY) - int(now)


def oldest_departure() -> datetime:
    """The earliest departure the full rebuild reads."""
    return datetime.fromtimestamp(time.time() - KEPT_SECONDS, UTC)
