"""Search index (precomputed cheapest itineraries in Redis), kept current by flight events.

See docs/search.md for the design: index layout, update rules, key format, cold path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from app.core.context import AppContext
    from app.services.flight_events import FlightChange

log = structlog.get_logger()


async def on_flights_changed(context: AppContext, changes: Sequence[FlightChange]) -> None:
    """Re-index exactly what the changed flights affect: every origin-day, all changes at once."""
    from app.services.search import index

    points: list[tuple[str, int]] = []
    ids = []
    for change in changes:
        for snapshot in (change.before, change.after):
            if snapshot is not None:
                points.append((snapshot.source, int(snapshot.departure_ts.timestamp())))
                ids.append(snapshot.id)
    await index.reindex(context, points, set(ids))


async def on_airport_timezone_changed(context: AppContext, airport: str) -> None:
    """An airport's local dates moved: its departures are re-indexed under their new dates."""
    from app.services.search import data, index

    async with index.writer_lock(context):
        if not await index.is_ready(context):
            return
        zones = await data.Zones.load(context)
        rows = await data.fetch(context, "source = $1 AND arrival_ts >= now()", airport)
        stale = [k async for k in context.redis.scan_iter(match=context.keys.search_day(airport, "*"))]
        if stale:
            await context.redis.delete(*stale)
        await index.recompute(
            context, zones, {(airport, zones.local_date(airport, r.departure)) for r in rows}
        )


async def on_startup(context: AppContext) -> None:
    """Build the index if it is missing or from an older format (in the background, lock-guarded)."""
    from app.services.search import index

    if not await index.is_ready(context):
        log.info("search_index_missing_rebuilding")
        index.rebuild_in_background(context)
