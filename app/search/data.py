"""What the search reads from PostgreSQL: flights (``FlightSnapshot``s, for the graph and the cards),
timezones, rules."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import structlog

from app.airports.catalog import timezone as shipped_timezone
from app.airports.service import timezones
from app.flights.events import FlightSnapshot
from app.models import flight_times
from app.platform.config import Settings
from app.platform.metrics import SEARCH_SKIPPED_FLIGHTS
from app.platform.redis.scripts import lua_source
from app.search.codec import FLIGHT
from app.search.engine import Graph, Rules

if TYPE_CHECKING:
    from app.context import AppContext

# 3: airports without an admin timezone take the shipped data set's (app/airports/catalog.py).
FORMAT_VERSION = "3"
# Itineraries kept per city pair and day: more than the 20 answered, so sold-out or departed ones
# can be skipped at read time without a recomputation.
DEPTH = 40

log = structlog.get_logger()

# A row outside the contract's time limits (stored before migration 0004, or kept by it with its
# constraints NOT VALID) is read without its times: never decoded (a year past 9999 cannot be),
# never indexed or searched, logged and counted (fetch). The aggregates below skip such rows too.
_SEARCHABLE = flight_times.SQL
_COLUMNS = (
    "id, flight_number, source, destination,"
    f" CASE WHEN {_SEARCHABLE} THEN departure_ts END, CASE WHEN {_SEARCHABLE} THEN arrival_ts END,"
    " total_seats, price"
)
_LOGGED_SKIPS = 20


def rules_of(settings: Settings) -> Rules:
    return Rules(
        settings.min_connection_minutes * 60, settings.max_layover_minutes * 60, settings.max_stops + 1
    )


def format_tag(settings: Settings) -> str:
    """Changes whenever the stored index would differ: format, depth or search rules."""
    return (
        f"{FORMAT_VERSION}:{DEPTH}:{settings.max_stops}:{settings.min_connection_minutes}:"
        f"{settings.max_layover_minutes}:{settings.default_timezone}"
    )


class Zones:
    """Airport timezones (airports table, else the shipped data set's, else DEFAULT_TIMEZONE) and
    local-day arithmetic."""

    def __init__(self, known: dict[str, str], default: str) -> None:
        self.known = {name: ZoneInfo(tz) for name, tz in known.items()}
        self.default = ZoneInfo(default)

    @classmethod
    async def load(cls, context: AppContext) -> Zones:
        return cls(await timezones(context), context.settings.default_timezone)

    def zone(self, airport: str) -> ZoneInfo:
        zone = self.known.get(airport)
        if zone is None:
            shipped = shipped_timezone(airport)
            zone = self.known[airport] = ZoneInfo(shipped) if shipped else self.default
        return zone

    def local_date(self, airport: str, epoch: int) -> date:
        return datetime.fromtimestamp(epoch, self.zone(airport)).date()

    def bounds(self, airport: str, day: date) -> tuple[int, int]:
        zone = self.zone(airport)
        start = datetime.combine(day, time.min, tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        return int(start.timestamp()), int(end.timestamp())


async def fetch(context: AppContext, where: str, *args: Any) -> list[FlightSnapshot]:
    """Flights matching a SQL condition, through asyncpg directly (fast for 100k+ rows), as the
    same snapshots a flight change carries (one shape for a flight's committed columns)."""
    async with context.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        # A flight cancelled by the airline is gone for search, as a deleted one (docs/operations.md).
        records = await driver.fetch(
            f"SELECT {_COLUMNS} FROM flights WHERE status <> 'CANCELLED' AND ({where})",  # noqa: S608
            *args,
        )
    make = FlightSnapshot._make
    rows = [make(record) for record in records if record[4] is not None]
    if len(rows) < len(records):
        _skipped([record for record in records if record[4] is None])
    return rows


def _skipped(records: list[Any]) -> None:
    SEARCH_SKIPPED_FLIGHTS.inc(len(records))
    log.warning(
        "search_flights_skipped_out_of_limits",
        count=len(records),
        flights=[f"{record[0]} {record[1]}" for record in records[:_LOGGED_SKIPS]],
    )


async def fetch_value(context: AppContext, query: str, *args: Any) -> Any:
    async with context.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        return await driver.fetchval(query, *args)


_LATEST_ARRIVAL = (
    f"SELECT max(arrival_ts) FROM flights WHERE departure_ts >= $1 AND departure_ts <= $2 AND {_SEARCHABLE}"  # noqa: S608
)


async def horizon(context: AppContext, start: int, end: int, rules: Rules) -> int:
    """Latest departure (epoch s) any later leg of an itinerary starting in [start, end) can have."""
    limit = end
    for _ in range(rules.max_legs - 1):
        latest = await fetch_value(
            context,
            _LATEST_ARRIVAL,
            _dt(start),
            _dt(limit),
        )
        if latest is None:
            break
        limit = max(limit, int(latest.timestamp()) + rules.max_layover)
    return limit


_RAISE_MAX = lua_source("app.search", "raise_max")


async def max_duration(context: AppContext, *, at_least: int = 0) -> int:
    """The longest flight duration in seconds, cached in Redis (a full-table scan per bulk batch
    grew with the table). Recomputed from PostgreSQL when Redis lost it; raised by every change."""
    key = context.keys.search_max_duration
    cached = await context.redis.get(key)
    if cached is None:
        value = await fetch_value(
            context,
            f"SELECT max(arrival_ts - departure_ts) FROM flights WHERE {_SEARCHABLE}",  # noqa: S608
        )
        at_least = max(at_least, int(value.total_seconds()) if value is not None else 0)
    elif int(cached) >= at_least:
        return int(cached)
    return int(await context.redis.eval(_RAISE_MAX, 1, key, at_least))


def _dt(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def window_condition(start: int, end: int) -> tuple[str, list[Any]]:
    return "departure_ts >= $1 AND departure_ts <= $2", [_dt(start), _dt(end)]


def graph_of(rows: Sequence[FlightSnapshot]) -> tuple[Graph, list[bytes]]:
    """The engine's graph, and each flight's 32-byte list record by graph index."""
    graph = Graph.build(
        (
            r.id,
            r.source,
            r.destination,
            int(r.departure_ts.timestamp()),
            int(r.arrival_ts.timestamp()),
            int(r.price * 100),
        )
        for r in rows
    )
    pack = FLIGHT.pack
    records = [
        pack(fid.bytes, dep, arr, cents)
        for fid, dep, arr, cents in zip(graph.ids, graph.dep, graph.arr, graph.price, strict=True)
    ]
    return graph, records


async def live_seats(context: AppContext, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    return await context.inventory.live_counts(list(ids))
