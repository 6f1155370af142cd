"""Durable bulk jobs: a worker process killed mid-import is replaced and the job completes exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.bulk_import import intake
from app.context import AppContext
from app.main import create_app
from app.models import Flight
from app.platform.config import Settings
from tests.bulk_helpers import BASE, csv_text, job_status, row, upload
from tests.conftest import make_settings
from tests.infra import TestServers

ROOT = Path(__file__).resolve().parent.parent
ROWS = 6_000


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.require_database_url(),
        "REDIS_URL": settings.require_redis_url(),
        "REDIS_CLUSTER": str(settings.redis_cluster).lower(),
        "REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "SEAT_UPDATES_CHANNEL": settings.seat_updates_channel,
        "JWT_SECRET": settings.resolved_jwt_secret(),
        "DEMO_DATA": "0",
        "APP_ENV": "test",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"], env=env, cwd=ROOT, start_new_session=True
    )


async def wait_for(client: httpx.AsyncClient, headers: dict[str, str], job_id: str, done, timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await job_status(client, headers, job_id)
        if done(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"job did not get there in {timeout}s: {status}")


@pytest.mark.timeout(180)
async def test_a_killed_worker_is_replaced_and_no_row_is_lost_or_doubled(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intake, "CHUNK_BYTES", 4 << 10)  # many small batches: a long job to interrupt
    lines = [
        row(f"AI-{i % 9000}", departure=BASE + timedelta(minutes=7 * i), seats=100 + i % 50)
        for i in range(ROWS)
    ]
    response = await upload(client, admin_headers, csv_text(*lines))
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]

    first = start_worker(settings)
    try:
        running = await wait_for(
            client, admin_headers, job_id, lambda s: s["summary"]["processed_rows"] >= ROWS // 5, timeout=60
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert running["status"] == "IN_PROGRESS"
        await asyncio.sleep(0.5)
        stuck = await job_status(client, admin_headers, job_id)
        assert stuck["status"] == "IN_PROGRESS" and stuck["summary"]["processed_rows"] < ROWS
    finally:
        if first.poll() is None:
            first.kill()

    # The killed process may have died inside the search index update, holding the search writer
    # lock (a Redis lock that expires after search's LOCK_TIMEOUT_SECONDS, 15 minutes): release it as
    # an operator would, so this test measures the job queue's recovery, not that timeout.
    await context.redis.delete(context.keys.search_lock)
    second = start_worker(settings)
    try:
        final = await wait_for(
            client, admin_headers, job_id, lambda s: s["status"] != "IN_PROGRESS", timeout=90
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    assert final["status"] == "COMPLETED", final
    assert final["summary"] == {
        "total_rows": ROWS,
        "processed_rows": ROWS,
        "inserted": ROWS,
        "updated": 0,
        "failed": 0,
        "errors": [],
    }
    async with context.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Flight)) == ROWS
        totals = dict(
            (await session.execute(select(Flight.id, Flight.total_seats).limit(2000))).tuples().all()
        )
    # Every imported flight shows all its seats (counters are rebuilt from PostgreSQL on first use).
    assert await context.inventory.live_counts(list(totals)) == totals


async def test_a_file_over_max_upload_mb_is_413_without_reading_it_all(
    servers: TestServers, admin_headers: dict[str, str]
) -> None:
    small: FastAPI = create_app(make_settings(servers, max_upload_mb=0.01, max_upload_rows=50))
    async with small.router.lifespan_context(small):
        transport = httpx.ASGITransport(app=small)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            big = csv_text(*[row(f"AI-{i}") for i in range(200)])
            assert len(big) > 0.01 * (1 << 20)
            response = await upload(http, admin_headers, big)
            assert response.status_code == 413
            assert "MAX_UPLOAD_MB" in response.json()["detail"]

            # A Content-Length header is not trusted: a chunked body is counted as it streams.
            async def body():  # type: ignore[no-untyped-def]
                disposition = 'Content-Disposition: form-data; name="file"; filename="f.csv"'
                yield f"--b0undary\r\n{disposition}\r\n\r\n".encode()
                for _ in range(100):
                    yield big.encode()[:4096]
                yield b"\r\n--b0undary--\r\n"

            response = await http.post(
                "/admin/flights/bulk-upload",
                content=body(),
                headers={**admin_headers, "Content-Type": "multipart/form-data; boundary=b0undary"},
            )
            assert response.status_code == 413

            many = csv_text(*[row(f"A{i}")[:0] + "x" for i in range(60)])
            response = await upload(http, admin_headers, many)
            assert response.status_code == 413
            assert "more than 50 rows" in response.json()["detail"]
