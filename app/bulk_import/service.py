"""Starting a bulk job from an upload, and reading its status."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from app.bulk_import.intake import receive_upload
from app.bulk_import.schemas import (
    BulkCounts,
    BulkJobAccepted,
    BulkJobListed,
    BulkJobStatus,
    BulkRowError,
    BulkSummary,
)
from app.bulk_import.tasks import enqueue_bulk_import
from app.models import BulkJob, JobStatus
from app.platform.errors import NotFound

if TYPE_CHECKING:
    from app.context import AppContext


async def start_upload(
    context: AppContext,
    body: AsyncIterator[bytes],
    *,
    content_type: str,
    content_length: int | None,
    user_id: uuid.UUID,
) -> BulkJobAccepted:
    job_id = await receive_upload(
        context, body, content_type=content_type, content_length=content_length, user_id=user_id
    )
    try:
        await enqueue_bulk_import(context, job_id)
    except Exception:
        # Stays PENDING: the worker's sweep queues uploads left without a queued job.
        async with context.session_factory() as session:
            await session.execute(
                update(BulkJob)
                .where(BulkJob.id == job_id)
                .values(message="Waiting to be queued (the job queue was unavailable)")
            )
            await session.commit()
    return BulkJobAccepted(job_id=job_id, status=JobStatus.PENDING.value)


async def status(context: AppContext, job_id: uuid.UUID) -> BulkJobStatus:
    async with context.session_factory() as session:
        job = await session.get(BulkJob, job_id)
    if job is None:
        raise NotFound("Bulk upload job not found")
    return BulkJobStatus(
        job_id=job.id,
        status=job.status,
        message=job.message,
        summary=BulkSummary(
            total_rows=job.total_rows,
            processed_rows=job.processed_rows,
            inserted=job.inserted,
            updated=job.updated,
            failed=job.failed,
            errors=[BulkRowError(**e) for e in job.errors],
        ),
    )


async def recent(context: AppContext, limit: int) -> list[BulkJobListed]:
    async with context.session_factory() as session:
        jobs = (await session.scalars(select(BulkJob).order_by(BulkJob.created_at.desc()).limit(limit))).all()
    return [
        BulkJobListed(
            job_id=job.id,
            status=JobStatus(job.status),
            filename=job.filename,
            message=job.message,
            created_at=job.created_at,
            finished_at=job.finished_at,
            summary=BulkCounts(
                total_rows=job.total_rows,
                processed_rows=job.processed_rows,
                inserted=job.inserted,
                updated=job.updated,
                failed=job.failed,
            ),
        )
        for job in jobs
    ]


async def errors_csv(context: AppContext, job_id: uuid.UUID) -> str:
    """The job's row errors (the first 1,000 kept) as CSV, header ``row,error``."""
    job = await status(context, job_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "error"])
    for error in job.summary.errors:
        # A leading =, +, - or @ would be a formula to a spreadsheet opening the file.
        text = "'" + error.error if error.error[:1] in ("=", "+", "-", "@") else error.error
        writer.writerow([error.row, text])
    return out.getvalue()
