"""The job queue (procrastinate on PostgreSQL): one app per process, the worker loop that runs it.

Domains declare their tasks in their own ``tasks.py`` (a ``register(app)`` function); the
composition root (``app.context``) registers them all on the process's one app, which is opened on
first use and closed with the process. The queue keeps its own small psycopg pool: procrastinate's
connector is psycopg-only, the one PostgreSQL path that does not go through ``app.platform.db``.

Durability: a job is a row in ``procrastinate_jobs``; a worker that dies stops sending heartbeats,
and the sweep in ``run_queue`` hands its jobs back to the queue, where any worker resumes them.
A job interrupted by a graceful shutdown is re-queued at once (the task's retry strategy).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import procrastinate
import structlog
from procrastinate.exceptions import AlreadyEnqueued, JobAborted

from app.platform.config import Settings

log = structlog.get_logger()

HEARTBEAT_SECONDS = 2.0
# A worker silent this long is dead: its jobs go back to the queue.
STALLED_AFTER_SECONDS = 10.0
SWEEP_SECONDS = 2.0
SHUTDOWN_GRACE_SECONDS = 3.0

__all__ = ["JobAborted", "JobQueue", "defer_once", "new_app", "run_queue", "worker_options"]

Sweep = Callable[[procrastinate.App], Awaitable[None]]


def new_app(settings: Settings, *, max_pool_size: int = 4) -> procrastinate.App:
    return procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=settings.psycopg_url,
            min_size=1,
            max_size=max_pool_size,
            # prepare_threshold None: psycopg prepares no statement (PgBouncer in transaction mode).
            kwargs={"application_name": "flightdesk-jobs"}
            | ({"prepare_threshold": None} if settings.database_pgbouncer else {}),
        )
    )


class JobQueue:
    """The process's procrastinate app, opened once, on first use."""

    def __init__(self, app: procrastinate.App) -> None:
        self.app = app
        self._open = False
        self._lock = asyncio.Lock()

    async def opened(self) -> procrastinate.App:
        if not self._open:
            async with self._lock:
                if not self._open:
                    await self.app.open_async()
                    self._open = True
        return self.app

    async def defer(self, task: str, *, queueing_lock: str, **kwargs: Any) -> None:
        """Queue ``task`` unless one with the same lock already waits."""
        await defer_once(await self.opened(), task, queueing_lock=queueing_lock, **kwargs)

    async def close(self) -> None:
        if self._open:
            self._open = False
            await self.app.close_async()


async def defer_once(app: procrastinate.App, task: str, *, queueing_lock: str, **kwargs: Any) -> None:
    with contextlib.suppress(AlreadyEnqueued):
        await app.configure_task(task, queueing_lock=queueing_lock).defer_async(**kwargs)


def worker_options(context: object, **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "name": "flightdesk",
        "concurrency": 1,
        "install_signal_handlers": False,
        "additional_context": {"app_context": context},
        "update_heartbeat_interval": HEARTBEAT_SECONDS,
        "stalled_worker_timeout": STALLED_AFTER_SECONDS,
        "shutdown_graceful_timeout": SHUTDOWN_GRACE_SECONDS,
        "delete_jobs": "successful",
    }
    options.update(overrides)
    return options


async def requeue_stalled(app: procrastinate.App) -> None:
    """Hand the jobs of dead workers back to the queue."""
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS):
        log.warning("job_requeued_from_dead_worker", job_id=job.id, task=job.task_name)
        await app.job_manager.retry_job(job)


async def run_queue(queue: JobQueue, context: object, stop: asyncio.Event, sweeps: Sequence[Sweep]) -> None:
    """Run a procrastinate worker on the process's queue, and the sweeps, until ``stop`` is set; a
    crash closes the queue's connections and opens them again."""
    while not stop.is_set():
        try:
            await _run_until(await queue.opened(), context, stop, [requeue_stalled, *sweeps])
        except Exception:
            log.exception("job_worker_crashed")
            await queue.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)


async def _run_until(
    app: procrastinate.App, context: object, stop: asyncio.Event, sweeps: Sequence[Sweep]
) -> None:
    worker = asyncio.create_task(app.run_worker_async(**worker_options(context)))
    stopping = asyncio.create_task(stop.wait())
    try:
        while not worker.done() and not stop.is_set():
            for sweep in sweeps:
                await sweep(app)
            await asyncio.wait({worker, stopping}, timeout=SWEEP_SECONDS, return_when="FIRST_COMPLETED")
    finally:
        stopping.cancel()
        if not worker.done():
            worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
