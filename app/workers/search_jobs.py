"""Search index jobs on the procrastinate queue: recompute dirty origin-days, or rebuild all.

Deferred with a queueing lock, so at most one of each waits in the queue however many changes ask
for it (a change made while one runs queues the next). Registered on the jobs app by
``app.workers.jobs.create_jobs_app``.

A job that fails is queued again (``RetryUntilDone``), never left failed: until a rebuild has
completed, every search is computed from PostgreSQL, and a reindex's days were taken from the
dirty set (``index.reindex_dirty`` puts them back when it fails).
"""

from __future__ import annotations

import asyncio
import contextlib

import procrastinate
import structlog
from procrastinate.exceptions import AlreadyEnqueued, JobAborted
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision

from app.core.config import Settings
from app.core.context import AppContext

log = structlog.get_logger()

REINDEX_TASK = "search_reindex"
REBUILD_TASK = "search_rebuild"
QUEUE = "search"
RETRY_FIRST_SECONDS = 5
RETRY_MAX_SECONDS = 60


class RetryUntilDone(BaseRetryStrategy):
    """Every failure queues the job again, after 5, 10, 20, 40, then every 60 seconds (the queueing
    lock stays with it: requests meanwhile do not add a second job); a job cut short by a shutdown
    or another worker's sweep at once."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision:
        if isinstance(exception, asyncio.CancelledError | JobAborted):
            return RetryDecision(retry_in={"seconds": 0})
        delay = min(RETRY_FIRST_SECONDS * 2 ** min(job.attempts, 8), RETRY_MAX_SECONDS)
        log.error("search_job_failed_retrying", task=job.task_name, attempts=job.attempts + 1, retry_in=delay)
        return RetryDecision(retry_in={"seconds": delay})


async def reindex(job_context: JobContext) -> None:
    from app.services.search import index

    context: AppContext = job_context.additional_context["app_context"]
    written = await index.reindex_dirty(context)
    log.info("search_reindexed", days=written)


async def rebuild(job_context: JobContext) -> None:
    from app.services.search import index

    context: AppContext = job_context.additional_context["app_context"]
    if not await index.rebuild(context, wait=False):
        log.info("search_rebuild_already_running")


def register(app: procrastinate.App) -> None:
    app.task(name=REINDEX_TASK, queue=QUEUE, pass_context=True, retry=RetryUntilDone())(reindex)
    app.task(name=REBUILD_TASK, queue=QUEUE, pass_context=True, retry=RetryUntilDone())(rebuild)


async def defer(settings: Settings, *, full: bool = False) -> None:
    from app.workers.jobs import create_jobs_app

    name = REBUILD_TASK if full else REINDEX_TASK
    async with create_jobs_app(settings, max_pool_size=1).open_async() as app:
        with contextlib.suppress(AlreadyEnqueued):
            await app.configure_task(name, queueing_lock=name).defer_async()
