"""Helpers for the bulk-upload tests: CSV building, uploading, running queued jobs in-process."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from app.bulk_import import upsert
from app.context import AppContext, create_jobs_app
from app.platform.jobs import worker_options

HEADER = "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price"
BASE = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)


def row(
    number: str = "AI-101",
    source: str = "Delhi",
    destination: str = "Mumbai",
    departure: datetime = BASE,
    minutes: int = 125,
    seats: int | str = 180,
    price: str = "5400.00",
) -> str:
    arrival = departure + timedelta(minutes=minutes)
    return f"{number},{source},{destination},{departure.isoformat()},{arrival.isoformat()},{seats},{price}"


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], content: str | bytes, filename: str = "flights.csv"
) -> httpx.Response:
    data = content.encode() if isinstance(content, str) else content
    return await client.post(
        "/admin/flights/bulk-upload", files={"file": (filename, data, "text/csv")}, headers=headers
    )


async def run_queued_jobs(context: AppContext) -> None:
    """Run the real procrastinate worker in-process until the queue is empty."""
    async with create_jobs_app(context.settings).open_async() as app:
        await app.run_worker_async(**worker_options(context, wait=False, listen_notify=False))


async def job_status(client: httpx.AsyncClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    response = await client.get(f"/admin/flights/bulk-upload/status/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def import_csv(
    client: httpx.AsyncClient, headers: dict[str, str], context: AppContext, content: str | bytes
) -> dict[str, Any]:
    response = await upload(client, headers, content)
    assert response.status_code == 202, response.text
    await run_queued_jobs(context)
    return await job_status(client, headers, response.json()["job_id"])


def write_after_the_read(monkeypatch: pytest.MonkeyPatch, context: AppContext, sql: str) -> None:
    """Run ``sql`` (committed, from another connection) right after the batch reads its flights."""
    read = upsert.existing_flights

    async def read_then_write(conn: asyncpg.Connection, keys: Sequence[Any]) -> Any:
        found = await read(conn, keys)
        other = await asyncpg.connect(context.settings.psycopg_url)
        try:
            await other.execute(sql)
        finally:
            await other.close()
        return found

    monkeypatch.setattr(upsert, "existing_flights", read_then_write)
