"""Contract (Bulk upload, Flights): jobs survive a dead worker — no job stuck, no row lost or
doubled — and a process killed while holding a lock does not block the others for long.
"""

from __future__ import annotations

import csv
import io
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis

from tests.faults.conftest import admin_headers, flight_payload
from tests.faults.harness import PrivatePostgres, Stack, stack

ROWS = 30_000
AIRPORTS = [f"Airport {i:02d}" for i in range(12)]


@pytest.fixture
def running(postgres: PrivatePostgres) -> Iterator[Stack]:
    with stack(postgres, PENDING_TIMEOUT_SECONDS="2") as started:
        started.start_worker()
        started.start_api()
        yield started
        assert started.unhandled_errors() == []


def schedule_csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["flight_number", "source", "destination", "departure_ts", "arrival_ts", "total_seats", "price"]
    )
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    for i in range(rows):
        source = AIRPORTS[i % len(AIRPORTS)]
        destination = AIRPORTS[(i * 7 + 1) % len(AIRPORTS)]
        if destination == source:
            destination = AIRPORTS[(i + 1) % len(AIRPORTS)]
        departure = start + timedelta(minutes=17 * i)
        writer.writerow(
            [
                f"BK-{i:06d}",
                source,
                destination,
                departure.isoformat(),
                (departure + timedelta(minutes=95)).isoformat(),
                100 + i % 50,
                f"{2000 + i % 900}.50",
            ]
        )
    return out.getvalue().encode()


def job_status(http: httpx.Client, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    response = http.get(f"/admin/flights/bulk-upload/status/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_worker_killed_mid_upload_resumes_and_loses_or_doubles_no_row(running: Stack) -> None:
    with httpx.Client(base_url=running.base_url, timeout=60) as http:
        admin = admin_headers(http, running)
        upload = http.post(
            "/admin/flights/bulk-upload",
            files={"file": ("schedule.csv", schedule_csv(ROWS), "text/csv")},
            headers=admin,
        )
        assert upload.status_code == 202, upload.text
        job_id = upload.json()["job_id"]

        deadline = time.monotonic() + 120
        while True:
            status = job_status(http, admin, job_id)
            if status["summary"]["processed_rows"] > 0 or status["status"] == "COMPLETED":
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
        assert status["status"] == "IN_PROGRESS", "the job finished before the worker could be killed"
        assert running.worker is not None
        running.worker.kill()
        killed_at = status["summary"]["processed_rows"]
        running.start_worker()

        deadline = time.monotonic() + 120
        while status["status"] not in ("COMPLETED", "FAILED"):
            assert time.monotonic() < deadline, f"job stuck: {status}"
            time.sleep(0.5)
            status = job_status(http, admin, job_id)

    assert status["status"] == "COMPLETED", status
    summary = status["summary"]
    assert summary["total_rows"] == summary["processed_rows"] == ROWS, (summary, killed_at)
    assert summary["failed"] == 0 and summary["errors"] == []
    # A resumed batch may count its rows again as updates; the table itself must be exact.
    assert summary["inserted"] + summary["updated"] >= ROWS
    count, distinct = running.sql("SELECT count(*), count(DISTINCT flight_number) FROM flights")[0]
    assert count == distinct == ROWS
    jobs_left = running.sql(
        "SELECT count(*) FROM procrastinate_jobs"
        " WHERE status IN ('todo', 'doing') AND task_name = 'bulk_import'"
    )[0][0]
    assert jobs_left == 0


def test_a_search_lock_left_by_a_killed_process_does_not_block_flight_changes(running: Stack) -> None:
    """The exact state a kill -9 leaves behind: the lock key of redis-py's Lock, with its TTL."""
    client = redis.Redis.from_url(running.redis.url)
    client.set("fdf:search:lock", secrets.token_hex(16), px=900_000)
    client.close()
    with httpx.Client(base_url=running.base_url, timeout=60) as http:
        admin = admin_headers(http, running)
        started = time.monotonic()
        try:
            response = http.post("/admin/flights", json=flight_payload(1), headers=admin, timeout=20)
        except httpx.ReadTimeout:
            pytest.fail(f"POST /admin/flights hung for {time.monotonic() - started:.0f} s")
        assert response.status_code == 201, response.text
