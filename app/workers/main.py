"""The worker process: runs every background loop of FlightDesk until SIGTERM / SIGINT.

Each loop is ``async def loop(context, stop: asyncio.Event) -> None`` and must return soon after
``stop`` is set (finishing what it must flush on graceful shutdown).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from typing import Any

import procrastinate
import structlog

from app.booking.tasks import reaper_loop
from app.bulk_import.tasks import requeue_orphans
from app.context import AppContext
from app.flights.tasks import seat_sync_loop
from app.notifications.tasks import mail_loop
from app.platform.config import Settings
from app.platform.jobs import run_queue
from app.platform.logging import configure_logging

log = structlog.get_logger()

WorkerLoop = Callable[[AppContext, asyncio.Event], Coroutine[Any, Any, None]]


async def job_queue_loop(context: AppContext, stop: asyncio.Event) -> None:
    """Run the job queue's worker (bulk imports, search reindexing) and its sweeps."""

    async def orphans(app: procrastinate.App) -> None:
        await requeue_orphans(app, context)

    await run_queue(context.jobs, context, stop, [orphans])


def worker_loops() -> list[WorkerLoop]:
    """Every background loop: the job queue's worker, and each domain's own loops."""
    return [job_queue_loop, seat_sync_loop, reaper_loop, mail_loop]


async def main(settings: Settings) -> None:
    configure_logging(settings.log_level, json=settings.log_json)
    context = AppContext.create(settings, pool_size=10, job_pool_size=4)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loops = worker_loops()
    log.info("worker_started", loops=[getattr(f, "__name__", repr(f)) for f in loops])
    try:
        tasks: list[asyncio.Task[Any]] = [asyncio.create_task(f(context, stop)) for f in loops]
        tasks.append(asyncio.create_task(stop.wait()))
        await asyncio.gather(*tasks)
    finally:
        await context.close()
        log.info("worker_stopped")
