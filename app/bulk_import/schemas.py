from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from app.models import JobStatus


class BulkJobAccepted(BaseModel):
    job_id: uuid.UUID
    status: JobStatus


class BulkRowError(BaseModel):
    row: int  # line number in the file; the header is line 1
    error: str


class BulkSummary(BaseModel):
    total_rows: int
    processed_rows: int
    inserted: int
    updated: int
    failed: int
    errors: list[BulkRowError]


class BulkJobStatus(BaseModel):
    job_id: uuid.UUID
    status: JobStatus
    summary: BulkSummary
    # Why a job FAILED (or was interrupted); null otherwise.
    message: str | None = None


class BulkCounts(BaseModel):
    total_rows: int
    processed_rows: int
    inserted: int
    updated: int
    failed: int


class BulkJobListed(BaseModel):
    """A recent job as the operations list shows it (its errors: errors.csv)."""

    job_id: uuid.UUID
    status: JobStatus
    filename: str | None
    summary: BulkCounts
    message: str | None
    created_at: datetime
    finished_at: datetime | None
