"""Search index jobs on the procrastinate queue: recompute dirty origin-days, or rebuild all.

Deferred (by ``index.request_reindex``) with a queueing lock, so at most one of each waits in the
queue however many changes ask for it (a change made while one runs queues the next).

A job that fails queues the same job again (``_again``: after 5 s, doubling to every 60 s), so a
failed rebuild or reindex is never left: until a rebuild completes every search is computed from
PostgreSQL, and a reindex's days were taken from the dirty set (``index.reindex_dirty`` puts them
back when it fails). Not procrastinate's retry: a retried job goes back to ``todo`` under its
queueing lock, which a request made while it ran may hold already; the retry then fails on the
lock's unique index and leaves the job ``doing`` for ever.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import procrastinate
import structlog
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.job_context import JobContext

from app.search import index
from app.search.index import QUEUE, REBUILD_TASK, REINDEX_TASK

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

__all__ = ["QUEUE", "REBUILD_TASK", "REINDEX_TASK", "register"]

RETRY_FIRST_SECONDS = 5
RETRY_MAX_SECONDS = 60


async def reindex(job_context: JobContext, attempt: int = 0) -> None:
    context: AppContext = job_context.additional_context["app_context"]
    try:
        written = await index.reindex_dirty(context)
    except Exception:
        await _again(job_context, REINDEX_TASK, attempt)
        raise
    log.info("search_reindexed", days=written)


async def rebuild(job_context: JobContext, attempt: int = 0) -> None:
    context: AppContext = job_context.additional_context["app_context"]
    try:
        done = await index.rebuild(context, wait=False)
    except Exception:
        await _again(job_context, REBUILD_TASK, attempt)
        raise
    if not done:
        log.info("search_rebuild_already_running")


async def _again(job_context: JobContext, name: str, attempt: int) -> None:
    """Queue the failed job again, later; a job already waiting (requested while this one ran)
    does the same work sooner. The job then ends failed, its error logged by the worker."""
    delay = min(RETRY_FIRST_SECONDS * 2 ** min(attempt, 8), RETRY_MAX_SECONDS)
    log.error("search_job_failed_queued_again", task=name, attempt=attempt + 1, retry_in=delay)
    task = job_context.app.configure_task(name, queueing_lock=name, schedule_in={"seconds": delay})
    with contextlib.suppress(AlreadyEnqueued):
        await task.defer_async(attempt=attempt + 1)


def register(app: procrastinate.App) -> None:
    app.task(name=REINDEX_TASK, queue=QUEUE, pass_context=True)(reindex)
    app.task(name=REBUILD_TASK, queue=QUEUE, pass_context=True)(rebuild)
