"""Several workers and API processes side by side (WORKER_PROCESSES, API replicas).

The seat write-back and the PENDING reaper run in every worker: here two of each run at once
against the same PostgreSQL and Redis, in process (deterministic interleavings) and as real
processes (`python -m app.cli worker` twice, two API servers) under a booking storm.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from app.booking.recovery import fail_abandoned
from app.booking.reservation import LuaStrategy
from app.context import AppContext
from app.flights.seat_sync import SeatSync
from app.platform.embedded import free_port
from tests import infra
from tests.bulk_helpers import csv_text, row, upload
from tests.conftest import create_flight, make_settings, register_and_login
from tests.test_booking_recovery import _insert_booking as insert_booking
from tests.test_booking_support import counter, statuses

ROOT = Path(__file__).resolve().parent.parent
DEPARTURE = (datetime.now(UTC) + timedelta(days=6)).replace(hour=7, minute=0, second=0, microsecond=0)


async def _stored(context: AppContext, flight_id: Any) -> int:
    async with context.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT available_seats FROM flights WHERE id = :id"), {"id": uuid.UUID(str(flight_id))}
        )
        return int(result.scalar_one())


async def _book(client: httpx.AsyncClient, headers: dict[str, str], flight_id: str) -> None:
    response = await client.post(
        "/api/v1/booking", json={"flight_id": flight_id, "seats": 1}, headers=headers
    )
    assert response.status_code == 201, response.text


async def test_two_write_backs_side_by_side_never_store_an_older_count(
    servers: infra.TestServers,
    context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=40)
    await _book(client, user_headers, flight["id"])  # 39 left, the flight awaits write-back
    first = AppContext.create(make_settings(servers), pool_size=3)
    second = AppContext.create(make_settings(servers), pool_size=3)
    read, go = asyncio.Event(), asyncio.Event()
    live_counts = first.inventory.live_counts

    async def slow_live_counts(flight_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        counts = await live_counts(flight_ids)
        read.set()
        await go.wait()  # this worker is descheduled between reading the count and storing it
        return counts

    first.inventory.live_counts = slow_live_counts  # type: ignore[method-assign]
    try:
        slow = asyncio.create_task(SeatSync(first).run_once())
        await asyncio.wait_for(read.wait(), timeout=10)
        await _book(client, user_headers, flight["id"])  # 38 left, marked for write-back again
        fast = asyncio.create_task(SeatSync(second).run_once())
        await asyncio.sleep(0.5)
        go.set()
        await asyncio.gather(slow, fast)
    finally:
        go.set()
        await first.close()
        await second.close()
    assert await _stored(context, flight["id"]) == 38


async def test_two_reapers_fail_each_abandoned_booking_once_and_free_its_seats_once(
    servers: infra.TestServers,
    context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=10)
    fid = uuid.UUID(flight["id"])
    strategy = LuaStrategy(context.redis, context.keys)
    for _ in range(10):
        await strategy.reserve(fid, 1)
        await insert_booking(context, flight["id"], 1, "PENDING", age=timedelta(minutes=10))
    assert await counter(context, fid) == 0
    workers = [AppContext.create(make_settings(servers), pool_size=3) for _ in range(2)]
    try:
        failed = await asyncio.gather(*(fail_abandoned(w) for w in workers for _ in range(3)))
    finally:
        for w in workers:
            await w.close()
    assert sum(failed) == 10
    assert await statuses(context, fid) == {"FAILED": 10}
    assert await counter(context, fid) == 10


# Two workers and two API servers as `make run` starts them (WORKER_PROCESSES=2), then a storm.
SEATS = 30
ATTEMPTS = 120
BULK_ROWS = 200


def _env(servers: infra.TestServers, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "APP_ENV": "test",
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "REDIS_CLUSTER": str(servers.redis_cluster).lower(),
        "REDIS_KEY_PREFIX": servers.redis_prefix,
        "SEAT_UPDATES_CHANNEL": f"{servers.redis_prefix}:seat_updates",
        "JWT_SECRET": make_settings(servers).resolved_jwt_secret(),
        "DEMO_DATA": "0",
        "FRONTEND_DIST": "/nonexistent",
        "LOGIN_RATE_LIMIT": "0",
        "REGISTER_RATE_LIMIT": "0",
        "PAYMENT_LATENCY_MS": "20",
        "PAYMENT_SUCCESS_RATE": "0.8",
        "SEAT_SYNC_INTERVAL_SECONDS": "1",
        "PENDING_TIMEOUT_SECONDS": "3",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@contextmanager
def _processes(servers: infra.TestServers) -> Iterator[list[str]]:
    """Two `app.cli worker` and two `app.cli api` processes; yields the two API base URLs."""
    ports = [free_port(), free_port()]
    children = [
        subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], cwd=ROOT, env=_env(servers))
        for _ in range(2)
    ] + [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "api"],
            cwd=ROOT,
            env=_env(servers, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="1"),
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 90
        for base in bases:
            while True:
                assert all(c.poll() is None for c in children), "a FlightDesk process exited"
                with suppress(httpx.TransportError):
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                assert time.monotonic() < deadline, "the API did not start"
                time.sleep(0.2)
        yield bases
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "not settled in time"
        await asyncio.sleep(0.3)


async def test_two_workers_and_two_apis_keep_the_books_under_a_storm(
    servers: infra.TestServers,
    context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    flight = await create_flight(
        client, admin_headers, source="SXA", destination="SXB", departure=DEPARTURE, total_seats=SEATS
    )
    fid = uuid.UUID(flight["id"])
    buyers = [await register_and_login(client) for _ in range(6)]
    # Bookings abandoned by a process that died: both workers' reapers see them.
    strategy = LuaStrategy(context.redis, context.keys)
    for _ in range(5):
        await strategy.reserve(fid, 1)
        await insert_booking(context, flight["id"], 1, "PENDING", age=timedelta(minutes=10))
    with _processes(servers) as bases:
        apis = [httpx.AsyncClient(base_url=base, timeout=60) for base in bases]
        try:
            bulk = await upload(
                apis[0],
                admin_headers,
                csv_text(
                    *(
                        row(f"SX-{i:04d}", "SXB", "SXC", DEPARTURE + timedelta(hours=3, minutes=i), seats=50)
                        for i in range(BULK_ROWS)
                    )
                ),
            )
            assert bulk.status_code == 202, bulk.text
            results = await asyncio.gather(
                *(
                    apis[i % 2].post(
                        "/api/v1/booking",
                        json={"flight_id": flight["id"], "seats": 1},
                        headers=buyers[i % len(buyers)],
                    )
                    for i in range(ATTEMPTS)
                )
            )
            codes = Counter(r.status_code for r in results)
            assert set(codes) <= {201, 402, 409}, codes

            async def bulk_done() -> bool:
                status = (
                    await apis[1].get(
                        f"/admin/flights/bulk-upload/status/{bulk.json()['job_id']}", headers=admin_headers
                    )
                ).json()
                assert status["status"] != "FAILED", status
                return bool(status["status"] == "COMPLETED")

            await _eventually(bulk_done)

            async def books_settled() -> bool:
                state = await statuses(context, fid)
                return "PENDING" not in state and await _stored(context, fid) == SEATS - state.get(
                    "CONFIRMED", 0
                )

            # The reapers failed the abandoned bookings (once each), the write-backs stored the count.
            await _eventually(books_settled)
            state = await statuses(context, fid)
            assert state.get("CONFIRMED", 0) == codes[201] <= SEATS
            assert await counter(context, fid) == SEATS - codes[201]
            # The imported flights are searchable through either API (exactly, or from the index
            # the workers' jobs rebuilt).
            for api in apis:
                found = await api.get(
                    "/api/v1/search",
                    params={"source": "SXB", "destination": "SXC", "date": DEPARTURE.date().isoformat()},
                )
                assert found.status_code == 200, found.text
                assert len(found.json()) == 20, "the imported flights are not all searchable"
        finally:
            for api in apis:
                await api.aclose()
    async with context.engine.connect() as connection:
        imported = await connection.execute(text("SELECT count(*) FROM flights WHERE source = 'SXB'"))
        assert imported.scalar_one() == BULK_ROWS
