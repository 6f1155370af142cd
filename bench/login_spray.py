"""A login spray against a real API process: its memory, its answers, and what it does to search.

    .venv/bin/python bench/login_spray.py [--logins 120] [--concurrency 40] [--port 8131]

Needs the PostgreSQL / Redis the tests use (a fresh database and key prefix, removed afterwards).
Starts the API as `make run` does (app.cli.api_command, granian, 1 worker) with the default rate
limits, except the registration limit, off so the setup can register. Then, from one client:
`--logins` POST /api/v1/auth/token, each with its own username (none of them exists: every answer
that is not a 429 is a 401), `--concurrency` at a time, as in issue #12. While it runs, the API
process tree's RSS is read from /proc every 10 ms and one search at a time is timed; the same
search is timed for a few seconds before the spray. Printed: RSS before / peak, the status counts,
search p50 / p95 before and during the spray. A 429 is counted with its reason.

It runs the spray twice, on two fresh servers: with the default LOGIN_CLIENT_RATE_LIMIT, and with
LOGIN_CLIENT_RATE_LIMIT=0 (no per-client limit: what a spray from many addresses looks like to the
per-process bound on password hashes). Code that knows no such setting runs the same thing twice.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cli import migrate  # noqa: E402
from app.platform.config import to_driver_url  # noqa: E402
from bench.procstat import tree_rss  # noqa: E402
from bench.tools import start_api, stop_api  # noqa: E402
from tests.infra import test_servers  # noqa: E402

JWT = "bench-secret-" + "x" * 40
LOG_PATH = Path(tempfile.gettempdir()) / "flightdesk-bench-login-spray.log"
SEARCH_DAY = (datetime.now(UTC) + timedelta(days=10)).date()


def seed(database_url: str) -> None:
    """A small schedule Delhi -> Mumbai (some direct, some via Jaipur), so search has work to do."""
    with psycopg.connect(to_driver_url(database_url, "postgresql"), autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts,
                                 total_seats, available_seats, price)
            SELECT gen_random_uuid(), left(src, 2) || left(dst, 2) || '-' || n, src, dst,
                   %(day)s::date + interval '6 hours' + n * interval '7 minutes',
                   %(day)s::date + interval '8 hours' + n * interval '7 minutes', 180, 180, 3000 + n
            FROM generate_series(1, 60) AS n,
                 (VALUES ('Delhi', 'Mumbai'), ('Delhi', 'Jaipur'), ('Jaipur', 'Mumbai')) AS r(src, dst)
            """,
            {"day": SEARCH_DAY},
        )


async def sample_rss(pid: int, stop: asyncio.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], tree_rss(pid))
        await asyncio.sleep(0.01)


async def time_searches(http: httpx.AsyncClient, stop: asyncio.Event, times: list[float]) -> None:
    params = {"source": "Delhi", "destination": "Mumbai", "date": SEARCH_DAY.isoformat()}
    while not stop.is_set():
        started = time.perf_counter()
        response = await http.get("/api/v1/search", params=params)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def spray(base: str, pid: int, logins: int, concurrency: int) -> dict[str, object]:
    async with (
        httpx.AsyncClient(base_url=base, timeout=120) as probe,
        httpx.AsyncClient(
            base_url=base, timeout=120, limits=httpx.Limits(max_connections=concurrency)
        ) as attacker,
    ):
        # Warm: the search index and both code paths, then the search latency alone.
        for _ in range(20):
            await probe.get(
                "/api/v1/search",
                params={"source": "Delhi", "destination": "Mumbai", "date": SEARCH_DAY.isoformat()},
            )
        rss_before = tree_rss(pid)
        quiet: list[float] = []
        stop = asyncio.Event()
        task = asyncio.create_task(time_searches(probe, stop, quiet))
        await asyncio.sleep(3)
        stop.set()
        await task

        during: list[float] = []
        peak = [rss_before]
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(pid, stop, peak))
        searcher = asyncio.create_task(time_searches(probe, stop, during))
        gate = asyncio.Semaphore(concurrency)
        statuses: Counter[str] = Counter()

        async def login(i: int) -> None:
            async with gate:
                response = await attacker.post(
                    "/api/v1/auth/token",
                    data={"username": f"spray_{uuid.uuid4().hex[:8]}_{i}", "password": "not-the-password-1"},
                )
                # A 429 says which bound answered: the per-client limit or the busy hashing slots.
                detail = response.json().get("detail") if response.status_code == 429 else None
                reason = f" ({detail.split(';')[0]})" if isinstance(detail, str) else ""
                statuses[f"{response.status_code}{reason}"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(login(i) for i in range(logins)))
        elapsed = time.perf_counter() - started
        stop.set()
        await asyncio.gather(sampler, searcher)
    return {
        "rss_before": rss_before,
        "rss_peak": peak[0],
        "statuses": dict(sorted(statuses.items())),
        "elapsed": elapsed,
        "quiet_p50": percentile(quiet, 0.5),
        "quiet_p95": percentile(quiet, 0.95),
        "during_p50": percentile(during, 0.5),
        "during_p95": percentile(during, 0.95),
        "during_n": len(during),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=120)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--port", type=int, default=8131)
    args = parser.parse_args()
    with test_servers() as servers:
        migrate(servers.database_url)
        seed(servers.database_url)
        base_env = {
            **os.environ,
            "APP_ENV": "test",
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "REDIS_KEY_PREFIX": servers.redis_prefix,
            "SEAT_UPDATES_CHANNEL": f"{servers.redis_prefix}:seat_updates",
            "JWT_SECRET": JWT,
            "DEMO_DATA": "0",
            "REGISTER_RATE_LIMIT": "0",
            "WEB_CONCURRENCY": "1",
            "LOG_LEVEL": "WARNING",
            "FRONTEND_DIST": "/nonexistent",
        }
        base_env.pop("LOGIN_CLIENT_RATE_LIMIT", None)
        base_env.pop("TRUSTED_PROXIES", None)
        base = f"http://127.0.0.1:{args.port}"
        runs: list[tuple[str, dict[str, str]]] = [
            ("default limits", {}),
            ("LOGIN_CLIENT_RATE_LIMIT=0", {"LOGIN_CLIENT_RATE_LIMIT": "0"}),
        ]
        for label, extra in runs:
            server = start_api({**base_env, **extra}, args.port, LOG_PATH)
            try:
                result = asyncio.run(spray(base, server.pid, args.logins, args.concurrency))
            finally:
                stop_api(server)
            mib = 1024 * 1024
            print(
                f"[{label}] {args.logins} logins, {args.concurrency} at a time, one client, "
                f"{result['elapsed']:.1f} s: {result['statuses']}\n"
                f"  API RSS: {result['rss_before'] / mib:.0f} MiB before, "
                f"peak {result['rss_peak'] / mib:.0f} MiB during\n"
                f"  search p50 {result['quiet_p50']:.1f} ms / p95 {result['quiet_p95']:.1f} ms before; "
                f"p50 {result['during_p50']:.1f} ms / p95 {result['during_p95']:.1f} ms during "
                f"({result['during_n']} searches)"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
