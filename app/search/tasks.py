"""Search index jobs on the procrastinate queue: recompute dirty origin-days, or rebuild all.

Deferred with a queueing lock, so at most one of each waits in the queue however many changes ask
for it (a change made while one runs queues the next). Registered on the jobs app by
``app.bulk_import.tasks.create_jobs_app``.
"""

from __future__ import annotations

import contextlib

import procrastinate
import structlog
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.job_context import JobContext

from app.context import AppContext
from app.platform.config import Settings

log = structlog.get_logger()

REINDEX_TASK = "search_reindex"
REBUILD_TASK = "search_rebuild"
QUEUE = "search"


async def reindex(job_context: JobContext) -> None:
    from app.search import index

    context: AppContext = job_context.additional_context["app_context"]
    written = await index.reindex_dirty(context)
    log.info("search_reindexed", days=written)


async def rebuild(job_context: JobContext) -> None:
    from app.search import index

    context: AppContext = job_context.additional_context["app_context"]
    if not await index.rebuild(context, wait=False):
        log.info("search_rebuild_already_running")


def register(app: procrastinate.App) -> None:
    app.task(name=REINDEX_TASK, queue=QUEUE, pass_context=True)(reindex)
    app.task(name=REBUILD_TASK, queue=QUEUE, pass_context=True)(rebuild)


async def defer(settings: Settings, *, full: bool = False) -> None:
    from app.bulk_import.tasks import create_jobs_app

    name = REBUILD_TASK if full else REINDEX_TASK
    async with create_jobs_app(settings, max_pool_size=1).open_async() as app:
        with contextlib.suppress(AlreadyEnqueued):
            await app.configure_task(name, queueing_lock=name).defer_async()
