"""The bulk import's background job: the procrastinate task that runs an upload, and the sweep
that queues uploads nobody queued (registered and run by ``app.workers.main``; queue mechanics in
``app.platform.jobs``).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import procrastinate
import structlog
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy import text

from app.bulk_import.runner import JobBusy, run_job
from app.platform.jobs import JobAborted, defer_once

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

BULK_IMPORT_TASK = "bulk_import"
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


def register(app: procrastinate.App) -> None:
    app.task(name=BULK_IMPORT_TASK, pass_context=True, retry=ResumeAfterInterruption())(import_flights)


def _lock(job_id: uuid.UUID) -> str:
    return f"bulk:{job_id}"


async def enqueue_bulk_import(context: AppContext, job_id: uuid.UUID) -> None:
    """Queue the import of a stored upload (call after the job row and file are committed)."""
    await context.jobs.defer(BULK_IMPORT_TASK, queueing_lock=_lock(job_id), job_id=str(job_id))


async def requeue_orphans(app: procrastinate.App, context: AppContext) -> None:
    """Queue the uploads nobody queued (the API died, or the queue was down, before it could)."""
    async with context.engine.connect() as connection:
        result = await connection.execute(
            text(ORPHANS_SQL), {"after": ORPHAN_AFTER_SECONDS, "task": BULK_IMPORT_TASK}
        )
        orphans = result.scalars().all()
    for job_id in orphans:
        log.warning("bulk_job_requeued", job_id=str(job_id))
        await defer_once(app, BULK_IMPORT_TASK, queueing_lock=_lock(job_id), job_id=str(job_id))
