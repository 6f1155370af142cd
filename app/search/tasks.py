"""Search index jobs on the procrastinate queue: recompute dirty origin-days, or rebuild all.

Deferred (by ``index.request_reindex``) with a queueing lock, so at most one of each waits in the
queue however many changes ask for it (a change made while one runs queues the next).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import procrastinate
import structlog
from procrastinate.job_context import JobContext

from app.search import index
from app.search.index import QUEUE, REBUILD_TASK, REINDEX_TASK

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

__all__ = ["QUEUE", "REBUILD_TASK", "REINDEX_TASK", "register"]


async def reindex(job_context: JobContext) -> None:
    context: AppContext = job_context.additional_context["app_context"]
    written = await index.reindex_dirty(context)
    log.info("search_reindexed", days=written)


async def rebuild(job_context: JobContext) -> None:
    context: AppContext = job_context.additional_context["app_context"]
    if not await index.rebuild(context, wait=False):
        log.info("search_rebuild_already_running")


def register(app: procrastinate.App) -> None:
    app.task(name=REINDEX_TASK, queue=QUEUE, pass_context=True)(reindex)
    app.task(name=REBUILD_TASK, queue=QUEUE, pass_context=True)(rebuild)
