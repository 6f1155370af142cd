"""The job queue (procrastinate on PostgreSQL): the bulk-import task and the worker loop running it.

Durability: a job is a row in ``procrastinate_jobs``; a worker that dies stops sending heartbeats,
and the sweep in ``bulk_jobs_loop`` hands its jobs back to the queue, where any worker resumes them
from their last committed batch. A job interrupted by a graceful shutdown is re-queued at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import procrastinate
import structlog
from procrastinate.exceptions import AlreadyEnqueued, JobAborted
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy import text

from app.core.config import Settings
from app.core.context import AppContext
from app.services.bulk_import.runner import JobBusy, run_job

log = structlog.get_logger()

BULK_IMPORT_TASK = "bulk_import"
HEARTBEAT_SECONDS = 2.0
# A worker silent this long is dead: its jobs go back to the queue.
STALLED_AFTER_SECONDS = 10.0
SWEEP_SECONDS = 2.0
SHUTDOWN_GRACE_SECONDS = 3.0
# A bulk job left PENDING this long with nothing queued (the API died before queueing it) is queued again.
ORPHAN_AFTER_SECONDS = 30

ORPHANS_SQL = """
SELECT b.id FROM bulk_jobs b
 WHERE b.status IN ('PENDING', 'IN_PROGRESS')
   AND b.updated_at < now() - make_interval(secs => :after)
   AND NOT EXISTS (
       SELECT 1 FROM procrastinate_jobs j
        WHERE j.task_name = :task AND j.args ->> 'job_id' = b.id::text
          AND j.status IN ('todo', 'doing'))
"""


class ResumeAfterInterruption(BaseRetryStrategy):
    """Re-queue a job cut short by a shutdown or by another worker still holding it; fail others."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, JobBusy):
            return RetryDecision(retry_in={"seconds": 5})
        if isinstance(exception, asyncio.CancelledError | JobAborted):
            return RetryDecision(retry_in={"seconds": 0})
        return None


async def import_flights(job_context: JobContext, job_id: str) -> None:
    context: AppContext = job_context.additional_context["app_context"]
    await run_job(context, uuid.UUID(job_id))


def create_jobs_app(settings: Settings, *, max_pool_size: int = 4) -> procrastinate.App:
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=settings.psycopg_url,
            min_size=1,
            max_size=max_pool_size,
            # prepare_threshold None: psycopg prepares no statement (PgBouncer in transaction mode).
            kwargs={"application_name": "flightdesk-jobs"}
            | ({"prepare_threshold": None} if settings.database_pgbouncer else {}),
        )
    )
    app.task(name=BULK_IMPORT_TASK, pass_context=True, retry=ResumeAfterInterruption())(import_flights)
    from app.workers import search_jobs  # search index jobs share the queue and its workers

    search_jobs.register(app)
    return app


async def enqueue_bulk_import(settings: Settings, job_id: uuid.UUID) -> None:
    """Queue the import of a stored upload (call after the job row and file are committed)."""
    async with create_jobs_app(settings, max_pool_size=1).open_async() as app:
        await defer(app, job_id)


async def defer(app: procrastinate.App, job_id: uuid.UUID) -> None:
    with contextlib.suppress(AlreadyEnqueued):
        await app.configure_task(BULK_IMPORT_TASK, queueing_lock=f"bulk:{job_id}").defer_async(
            job_id=str(job_id)
        )


async def sweep(app: procrastinate.App, context: AppContext) -> None:
    """Hand the jobs of dead workers back to the queue, and queue uploads nobody queued."""
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS):
        log.warning("job_requeued_from_dead_worker", job_id=job.id, task=job.task_name)
        await app.job_manager.retry_job(job)
    async with context.engine.connect() as connection:
        orphans = (
            (
                await connection.execute(
                    text(ORPHANS_SQL), {"after": ORPHAN_AFTER_SECONDS, "task": BULK_IMPORT_TASK}
                )
            )
            .scalars()
            .all()
        )
    for job_id in orphans:
        log.warning("bulk_job_requeued", job_id=str(job_id))
        await defer(app, job_id)


def worker_options(context: AppContext, **overrides: Any) -> dict[str, Any]:
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


async def bulk_jobs_loop(context: AppContext, stop: asyncio.Event) -> None:
    """Run the procrastinate worker (and the dead-worker sweep) until ``stop`` is set."""
    while not stop.is_set():
        try:
            async with create_jobs_app(context.settings).open_async() as app:
                await _run_until(app, context, stop)
        except Exception:
            log.exception("job_worker_crashed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)


async def _run_until(app: procrastinate.App, context: AppContext, stop: asyncio.Event) -> None:
    worker = asyncio.create_task(app.run_worker_async(**worker_options(context)))
    stopping = asyncio.create_task(stop.wait())
    try:
        while not worker.done() and not stop.is_set():
            await sweep(app, context)
            await asyncio.wait({worker, stopping}, timeout=SWEEP_SECONDS, return_when="FIRST_COMPLETED")
    finally:
        stopping.cancel()
        if not worker.done():
            worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
