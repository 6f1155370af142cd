"""Running one bulk job: read the stored file chunk by chunk, upsert batch by batch, record progress.

Each batch (the records of one stored chunk) commits its flights together with the job's counters,
so ``processed_rows`` is a checkpoint: a job picked up again after its worker died skips the rows
already committed and re-announces the last committed batches (whose search update may not have
happened, see announce.py), so no row is lost or applied twice.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import asyncpg
import orjson
import structlog

from app.bulk_import.announce import LAG, Announcer, reannounce
from app.bulk_import.reading import Batch, batches, read_ahead
from app.bulk_import.upsert import STAGE_DDL, STAGE_DROP, BatchOutcome, Key, upsert_batch
from app.platform.db import raw_connection
from app.platform.gc_tuning import fewer_collections

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

MAX_ERRORS = 1000
MAX_ATTEMPTS = 5
# A job's connections from the process's pool: the one that writes (and holds the job's lock), the
# one that reads the stored file. The pool is sized to include them.
CONNECTIONS = 2

START_SQL = """
UPDATE bulk_jobs
   SET status = 'IN_PROGRESS', attempts = attempts + 1, started_at = coalesce(started_at, now()),
       updated_at = now()
 WHERE id = $1 AND status IN ('PENDING', 'IN_PROGRESS')
RETURNING attempts, processed_rows, jsonb_array_length(errors) AS stored_errors
"""
PROGRESS_SQL = """
UPDATE bulk_jobs
   SET processed_rows = processed_rows + $2, inserted = inserted + $3, updated = updated + $4,
       failed = failed + $5, errors = errors || $6::jsonb, updated_at = now()
 WHERE id = $1
"""
FINISH_SQL = """
UPDATE bulk_jobs
   SET status = $2, message = $3, finished_at = now(), updated_at = now(),
       total_rows = CASE WHEN $2 = 'COMPLETED' THEN processed_rows ELSE total_rows END
 WHERE id = $1
"""


class JobBusy(Exception):
    """Another worker is still running this job (its connection holds the job's lock)."""


@contextlib.asynccontextmanager
async def job_connection(context: AppContext, job_id: uuid.UUID) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the pool holding the job's session lock: one worker at a time runs a job.

    A session lock, so that it outlives the job's transactions; if the job stops on an error (or
    the process is killed) the connection is closed, not put back, which releases it.
    """
    lock = f"bulk:{job_id}"
    async with raw_connection(context.engine, session_state=True) as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", lock):
            raise JobBusy(str(job_id))
        yield conn
        # Back to the pool as it came: no lock, no staging table.
        await conn.execute(STAGE_DROP)
        await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", lock)


async def run_job(context: AppContext, job_id: uuid.UUID) -> None:
    async with job_connection(context, job_id) as conn:
        start = await conn.fetchrow(START_SQL, job_id)
        if start is None:
            log.info("bulk_job_not_runnable", job_id=str(job_id))
            return
        if start["attempts"] > MAX_ATTEMPTS:
            await finish(conn, job_id, "FAILED", f"Gave up after {MAX_ATTEMPTS} attempts: the worker "
                         "processing this file stopped every time (out of memory?)")  # fmt: skip
            return
        log.info("bulk_job_started", job_id=str(job_id), attempt=start["attempts"])
        started = time.monotonic()
        try:
            with fewer_collections():
                search_seconds = await _import(
                    context, conn, job_id, start["processed_rows"], start["stored_errors"]
                )
        except Exception as exc:
            log.exception("bulk_job_failed", job_id=str(job_id))
            await finish(conn, job_id, "FAILED", f"The import stopped on an unexpected error: {exc!r}")
            return
        await finish(conn, job_id, "COMPLETED", None)
        log.info(
            "bulk_job_completed",
            job_id=str(job_id),
            seconds=round(time.monotonic() - started, 3),
            search_seconds=round(search_seconds, 3),
        )


async def finish(conn: asyncpg.Connection, job_id: uuid.UUID, status: str, message: str | None) -> None:
    async with conn.transaction():
        await conn.execute(FINISH_SQL, job_id, status, message)
        # The file is no longer needed once the job has ended.
        await conn.execute("DELETE FROM bulk_job_chunks WHERE job_id = $1", job_id)


async def _import(
    context: AppContext, conn: asyncpg.Connection, job_id: uuid.UUID, done: int, stored_errors: int
) -> float:
    """Import the rows after the checkpoint ``done``; returns the seconds spent updating search."""
    await conn.execute(STAGE_DDL)
    seen = 0
    announcer = Announcer(context)
    committed: deque[list[Key]] = deque(maxlen=LAG)  # keys of the last batches before ``done``
    try:
        async with (
            raw_connection(context.engine) as reader,
            # Closed here, not whenever it is collected: its reads end before the reader goes back.
            contextlib.aclosing(read_ahead(batches(reader, job_id))) as ahead,
        ):
            async for batch in ahead:
                seen += batch.size
                if seen <= done:
                    committed.append([(r.flight_number, r.departure_ts) for r in batch.rows])
                    if seen == done:
                        await reannounce(context, conn, (k for keys in committed for k in keys))
                        committed.clear()
                    continue

                async def record_progress(outcome: BatchOutcome, batch: Batch = batch) -> None:
                    nonlocal stored_errors
                    # Before this batch commits: a resumed job re-announces only the last LAG batches.
                    await announcer.before_commit()
                    errors = sorted(batch.errors + outcome.errors)
                    kept = errors[: max(MAX_ERRORS - stored_errors, 0)]
                    stored_errors += len(kept)
                    await conn.execute(
                        PROGRESS_SQL,
                        job_id,
                        batch.size,
                        outcome.inserted,
                        outcome.updated,
                        len(errors),
                        orjson.dumps([{"row": line, "error": message} for line, message in kept]).decode(),
                    )

                outcome = await upsert_batch(conn, context, batch.rows, record_progress)
                announcer.committed(outcome.changes)
        await announcer.wait()
    finally:
        announcer.cancel()
    log.info("bulk_job_search_updates", job_id=str(job_id), calls=announcer.calls)
    return announcer.seconds
