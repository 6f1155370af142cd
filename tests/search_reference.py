"""Brute-force reference search for the tests: every path, no pruning, straight from PostgreSQL,
then the contract's filters (max_stops, local depart window, max duration), the booking cut-off
and the sort (ties by the price order) applied to the whole list."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.airports.service import zone_name
from app.context import AppContext
from app.flights.schemas import FlightOut
from app.models import Flight


async def brute_force(
    context: AppContext,
    source: str,
    destination: str,
    day: date,
    seats: int,
    *,
    max_stops: int | None = None,
    depart_after: str | None = None,
    depart_before: str | None = None,
    max_duration_minutes: int | None = None,
    sort: str = "price",
) -> list[Any]:
    settings = context.settings
    zone = ZoneInfo(await zone_name(context, source))
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    async with context.session_factory() as session:
        flights = list((await session.scalars(select(Flight))).all())
    counts = await context.inventory.live_counts([f.id for f in flights])
    usable = [f for f in flights if counts.get(f.id, 0) >= seats]
    now = datetime.fromtimestamp(time.time(), UTC) + timedelta(minutes=settings.booking_cutoff_minutes)
    low = timedelta(minutes=settings.min_connection_minutes)
    high = timedelta(minutes=settings.max_layover_minutes)
    paths: list[list[Flight]] = []

    def extend(path: list[Flight]) -> None:
        if path[-1].destination == destination:
            paths.append(path)
            return
        if len(path) == settings.max_stops + 1:
            return
        visited = {path[0].source, *(f.destination for f in path)}
        for f in usable:
            if (
                f.source == path[-1].destination
                and f.destination not in visited
                and low <= f.departure_ts - path[-1].arrival_ts <= high
            ):
                extend([*path, f])

    for f in usable:
        if f.source == source and start <= f.departure_ts < end and f.departure_ts > now:
            extend([f])

    def allowed(p: list[Flight]) -> bool:
        local = p[0].departure_ts.astimezone(zone).strftime("%H:%M")
        minutes = int((p[-1].arrival_ts - p[0].departure_ts).total_seconds()) // 60
        return (
            (max_stops is None or len(p) - 1 <= max_stops)
            and (depart_after is None or local >= depart_after)
            and (depart_before is None or local <= depart_before)
            and (max_duration_minutes is None or minutes <= max_duration_minutes)
        )

    def first(p: list[Flight]) -> Any:
        if sort == "duration":
            return p[-1].arrival_ts - p[0].departure_ts
        if sort == "departure":
            return p[0].departure_ts
        if sort == "arrival":
            return p[-1].arrival_ts
        return 0

    paths = [p for p in paths if allowed(p)]
    paths.sort(
        key=lambda p: (first(p), sum(f.price for f in p), p[-1].arrival_ts, len(p), [str(f.id) for f in p])
    )
    return [
        {
            "flights": [
                {**FlightOut.model_validate(f).model_dump(mode="json"), "available_seats": counts[f.id]}
                for f in p
            ],
            "total_price": float(sum(f.price for f in p)),
            "stops": len(p) - 1,
            "departure_ts": p[0].departure_ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "arrival_ts": p[-1].arrival_ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_minutes": int((p[-1].arrival_ts - p[0].departure_ts).total_seconds()) // 60,
        }
        for p in paths[:20]
    ]
