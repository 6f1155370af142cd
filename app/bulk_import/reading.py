"""The stored file to validated batches, read ahead of the writer.

A batch is the data records of one stored chunk, so its boundaries (the job's checkpoints) never
depend on how the reading is scheduled. Parsing and validating are plain Python and cost as much
as PostgreSQL's side of a batch: ``read_ahead`` does them for the next batches, on a connection of
their own, while the writer waits for PostgreSQL on this one, in steps small enough that the
writer's replies are not kept waiting long.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

import asyncpg

from app.bulk_import.records import Record, RecordSplitter
from app.bulk_import.rows import Row, RowError, parse_header, to_row

# Bytes of the chunk parsed, and records validated, between two turns of the event loop.
PARSE_STEP = 64 << 10
VALIDATE_STEP = 500
# Batches validated and waiting for the writer (each is one stored chunk, ~1 MiB of text).
AHEAD = 1


@dataclass
class Batch:
    rows: list[Row]
    errors: list[tuple[int, str]]
    size: int


async def batches(conn: asyncpg.Connection, job_id: uuid.UUID) -> AsyncIterator[Batch]:
    """The file's data records, validated, one batch per stored chunk."""
    splitter = RecordSplitter()
    positions: list[int] | None = None
    count = await conn.fetchval("SELECT count(*) FROM bulk_job_chunks WHERE job_id = $1", job_id)
    for seq in range(count):
        data = await conn.fetchval(
            "SELECT data FROM bulk_job_chunks WHERE job_id = $1 AND seq = $2", job_id, seq
        )
        records: list[Record] = []
        for start in range(0, max(len(data), 1), PARSE_STEP):
            end = start + PARSE_STEP
            records += splitter.feed(data[start:end], final=seq == count - 1 and end >= len(data))
            await asyncio.sleep(0)
        if positions is None and records:
            header, records = records[0], records[1:]
            positions = parse_header(header.fields)
        if positions is not None and records:
            batch = Batch(rows=[], errors=[], size=len(records))
            for start in range(0, len(records), VALIDATE_STEP):
                validate_into(batch, records[start : start + VALIDATE_STEP], positions)
                await asyncio.sleep(0)
            yield batch


def validate_into(batch: Batch, records: list[Record], positions: list[int]) -> None:
    rows, errors = batch.rows, batch.errors
    for record in records:
        if record.error is not None:
            errors.append((record.line, record.error))
            continue
        try:
            rows.append(to_row(record.line, record.fields, positions))
        except RowError as exc:
            errors.append((exc.line, exc.message))


async def read_ahead(source: AsyncIterator[Batch]) -> AsyncGenerator[Batch]:
    """``source``'s batches, the next ones read and validated while the caller handles this one."""
    queue: asyncio.Queue[Batch | Exception | None] = asyncio.Queue(maxsize=AHEAD)

    async def fill() -> None:
        try:
            async for batch in source:
                await queue.put(batch)
        except Exception as exc:
            await queue.put(exc)
        else:
            await queue.put(None)

    task = asyncio.create_task(fill())
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
