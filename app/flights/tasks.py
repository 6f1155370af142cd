"""Worker loop: listen on seat_updates, and write the seat counts back every SEAT_SYNC_INTERVAL_SECONDS
and once more on graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import structlog
from redis.asyncio.client import PubSub

from app.flights.seat_sync import SeatSync, mark_dirty, parse_ids, refresh_metrics
from app.platform.redis.client import next_message, subscribe

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

# How often the lag and dirty gauges are refreshed between syncs.
METRICS_EVERY_SECONDS = 10.0
RECONNECT_SECONDS = 1.0


async def seat_sync_loop(context: AppContext, stop: asyncio.Event) -> None:
    listener = asyncio.create_task(listen(context))
    sync = SeatSync(context)
    interval = context.settings.seat_sync_interval_seconds
    next_sync = time.monotonic() + interval
    try:
        while not stop.is_set():
            wait = max(min(next_sync - time.monotonic(), METRICS_EVERY_SECONDS), 0.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
            if stop.is_set():
                break
            try:
                if time.monotonic() >= next_sync:
                    next_sync = time.monotonic() + interval
                    synced = await sync.run_once()
                    log.info("seat_sync_done", flights=synced)
                else:
                    await refresh_metrics(context)
            except Exception:
                log.exception("seat_sync_failed")
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        # Graceful shutdown: nothing waits twelve hours for a worker that is gone.
        try:
            synced = await sync.run_once()
            log.info("seat_sync_flushed", flights=synced)
        except Exception:
            log.exception("seat_sync_flush_failed")


async def listen(context: AppContext) -> None:
    """Mark every flight published on seat_updates as dirty, reconnecting after Redis errors."""
    channel = context.settings.seat_updates_channel
    while True:
        pubsub: PubSub | None = None
        try:
            pubsub = await subscribe(context.redis, channel)
            while True:
                message = await next_message(pubsub, wait_seconds=1.0)
                if message is None:
                    continue
                data = message.get("data")
                value = data.decode() if isinstance(data, bytes) else str(data)
                await mark_dirty(context, [str(fid) for fid in parse_ids([value])])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("seat_updates_listener_failed")
            await asyncio.sleep(RECONNECT_SECONDS)
        finally:
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
