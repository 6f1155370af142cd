"""What a FlightDesk process does when it starts, shared by the API and the workers."""

from __future__ import annotations

import secrets

import structlog

from app.context import AppContext

log = structlog.get_logger()


async def ensure_epoch(context: AppContext) -> bool:
    """Mark Redis as holding FlightDesk state. Returns True when it was empty (first start or data lost)."""
    created = await context.redis.set(context.keys.epoch, secrets.token_hex(8), nx=True)
    if created:
        log.info("redis_epoch_started")
    return bool(created)


async def on_api_startup(context: AppContext) -> None:
    from app import search

    await ensure_epoch(context)
    await search.on_startup(context)
    if context.settings.demo_data:
        from app.flights.demo_data import load_if_empty

        await load_if_empty(context)
