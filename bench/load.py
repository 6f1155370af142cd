"""Mixed-traffic load test: 90% search, 9% booking, 1% admin, from concurrent clients.

    .venv/bin/python bench/load.py [--seconds 60] [--clients 64] [--port 8108]

Starts its own API (`python -m app.cli api`) and worker on 127.0.0.1, with a fresh database and
Redis key prefix on the test servers (removed afterwards), loads a realistic schedule
(bench/datagen.py), then runs the clients for a bounded time. Prints the error check, throughput
and p50/p99 latency per endpoint. Exits 1 if any request failed: a 5xx, a transport error, or a
status the contract does not allow for that endpoint (402 and 409 are normal booking outcomes).

The load generator shares the machine's cores with the server, so absolute figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import redis.asyncio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cli import migrate  # noqa: E402
from app.platform.config import to_driver_url  # noqa: E402
from bench import datagen  # noqa: E402
from tests.infra import test_servers  # noqa: E402

MAX_REQUESTS = 2_000_000  # a hard stop besides the clock
EXPECTED = {
    "search": {200},
    "booking": {201, 402, 409},
    "admin list": {200},
    "admin get": {200},
    "admin update": {200},
}


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int | str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    errors: list[str] = field(default_factory=list)
    count: int = 0


@dataclass
class Workload:
    routes: list[tuple[str, str, str]]  # source, destination, local date with flights
    airports: list[str]
    dates: list[str]
    flights: list[dict[str, Any]]
    users: list[dict[str, str]]
    admin: dict[str, str]


def start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", command],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def seed(database_url: str) -> list[dict[str, Any]]:
    start_day = (datetime.now(UTC) + timedelta(days=1)).date()
    rows = datagen.generate(airport_count=20, flights_per_day=120, days=10, start=start_day, hubs=4, seed=5)
    url = to_driver_url(database_url, "postgresql")
    datagen.copy_rows(url, rows)
    with psycopg.connect(url, autocommit=True) as conn:
        for name, tz in datagen.timezones(rows).items():
            conn.execute(
                "INSERT INTO airports (name, timezone) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                (name, tz),
            )
    return rows


async def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"API exited:\n{log.read_text()[-2000:]}")
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("API not ready")


async def wait_for_index(redis_url: str, prefix: str) -> None:
    """Measure the precomputed index, not the exact fallback used while it is being built."""
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        for _ in range(1200):
            if await client.exists(f"{prefix}:search:format"):
                return
            await asyncio.sleep(0.25)
        raise RuntimeError("search index not built within 5 minutes")
    finally:
        await client.aclose()


async def baseline(http: httpx.AsyncClient, clients: int, seconds: float) -> float:
    """/healthz req/s at the same concurrency: the machine's ceiling for this client and server."""
    deadline = time.monotonic() + seconds
    done = 0

    async def loop() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            (await http.get("/healthz")).raise_for_status()
            done += 1

    await asyncio.gather(*(loop() for _ in range(clients)))
    return done / seconds


async def prepare(
    base: str, database_url: str, redis_url: str, prefix: str, rows: list[dict[str, Any]], clients: int
) -> Workload:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:

        async def user(name: str) -> dict[str, str]:
            body = {"username": name, "password": "kite-river9"}
            assert (await http.post("/api/v1/auth/register", json=body)).status_code == 201
            token = (await http.post("/api/v1/auth/token", data=body)).json()["access_token"]
            return {"Authorization": f"Bearer {token}"}

        users = [await user(f"load_{i}") for i in range(clients)]
        admin = await user("load_admin")
        with psycopg.connect(to_driver_url(database_url, "postgresql"), autocommit=True) as conn:
            conn.execute("UPDATE users SET is_admin = true WHERE username = 'load_admin'")
        await wait_for_index(redis_url, prefix)
        page = await http.get("/admin/flights", params={"limit": 500}, headers=admin)
        flights = page.json()["items"]
        # The index is built in the background at start-up: wait until search answers from it.
        sample = rows[len(rows) // 2]
        for _ in range(600):
            if (await http.get("/readyz")).status_code == 200:
                found = await http.get(
                    "/api/v1/search",
                    params={
                        "source": sample["source"],
                        "destination": sample["destination"],
                        "date": sample["departure_ts"].date().isoformat(),
                    },
                )
                if found.status_code == 200:
                    break
            await asyncio.sleep(0.2)
    zones = datagen.timezones(rows)
    routes = sorted(
        {
            (
                r["source"],
                r["destination"],
                r["departure_ts"].astimezone(ZoneInfo(zones.get(r["source"], "UTC"))).date().isoformat(),
            )
            for r in rows
        }
    )
    airports = sorted({r["source"] for r in rows} | {r["destination"] for r in rows})
    dates = sorted({d for _, _, d in routes})
    return Workload(routes, airports, dates, flights, users, admin)


def pick(rng: random.Random, work: Workload, headers: dict[str, str]) -> tuple[str, str, str, dict[str, Any]]:
    """(endpoint name, method, path, request kwargs) with the 90 / 9 / 1 mix."""
    roll = rng.random()
    if roll < 0.90:
        if rng.random() < 0.7:
            source, destination, day = rng.choice(work.routes)  # a pair that flies (often via stops)
        else:
            source, destination = rng.sample(work.airports, 2)
            day = rng.choice(work.dates)
        params = {"source": source, "destination": destination, "date": day}
        return "search", "GET", "/api/v1/search", {"params": params}
    if roll < 0.99:
        flight = rng.choice(work.flights)
        body = {"flight_id": flight["id"], "seats": rng.randint(1, 2)}
        return "booking", "POST", "/api/v1/booking", {"json": body, "headers": headers}
    admin_roll = rng.random()
    if admin_roll < 0.5:
        params = {"limit": 50, "offset": rng.randint(0, 400)}
        return "admin list", "GET", "/admin/flights", {"params": params, "headers": work.admin}
    flight = rng.choice(work.flights)
    if admin_roll < 0.8:
        return "admin get", "GET", f"/admin/flights/{flight['id']}", {"headers": work.admin}
    body = {k: flight[k] for k in ("flight_number", "source", "destination", "departure_ts", "arrival_ts")}
    body |= {
        "total_seats": flight["total_seats"],
        "price": round(float(flight["price"]) * rng.uniform(0.9, 1.1), 2),
    }
    return "admin update", "PUT", f"/admin/flights/{flight['id']}", {"json": body, "headers": work.admin}


async def client_loop(
    http: httpx.AsyncClient, work: Workload, index: int, deadline: float, results: Results
) -> None:
    rng = random.Random(index)
    headers = work.users[index % len(work.users)]
    while time.monotonic() < deadline and results.count < MAX_REQUESTS:
        name, method, path, kwargs = pick(rng, work, headers)
        results.count += 1
        started = time.perf_counter()
        try:
            response = await http.request(method, path, **kwargs)
            status: int | str = response.status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        results.latencies[name].append(time.perf_counter() - started)
        results.statuses[name][status] += 1
        if status not in EXPECTED[name]:
            results.errors.append(f"{name} {method} {path}: {status}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(results: Results, seconds: float, clients: int) -> bool:
    total = sum(len(v) for v in results.latencies.values())
    print(f"\n{clients} clients, {seconds:.0f} s, {total} requests, {total / seconds:.0f} req/s overall")
    print(f"{'endpoint':14} {'requests':>9} {'share':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for name in EXPECTED:
        values = results.latencies.get(name, [])
        if not values:
            continue
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(results.statuses[name].items(), key=str))
        print(
            f"{name:14} {len(values):9d} {len(values) / total:6.1%} {len(values) / seconds:8.1f} "
            f"{statistics.median(values) * 1000:8.1f} {percentile(values, 0.99) * 1000:8.1f}  {statuses}"
        )
    ok = not results.errors
    print(f"\nerrors: {len(results.errors)} -> {'PASS (zero errors)' if ok else 'FAIL'}")
    for line in results.errors[:20]:
        print("  ", line)
    return ok


async def run(args: argparse.Namespace) -> bool:
    with test_servers() as servers:
        migrate(servers.database_url)
        rows = seed(servers.database_url)
        print(f"schedule: {len(rows)} flights", flush=True)
        work_dir = Path(tempfile.mkdtemp(prefix="flightdesk-load-"))
        env = {
            **os.environ,
            "APP_ENV": "test",
            "HOST": "127.0.0.1",
            "PORT": str(args.port),
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "REDIS_KEY_PREFIX": servers.redis_prefix,
            "SEAT_UPDATES_CHANNEL": f"{servers.redis_prefix}:seat_updates",
            "JWT_SECRET": "load-secret-" + "x" * 40,
            "DEMO_DATA": "0",
            "LOG_LEVEL": "WARNING",
            "LOGIN_RATE_LIMIT": "0",
            "LOGIN_CLIENT_RATE_LIMIT": "0",
            "REGISTER_RATE_LIMIT": "0",
            "FRONTEND_DIST": "/nonexistent",
            "DATA_DIR": str(work_dir),
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        processes = [start("worker", env, work_dir / "worker.log"), start("api", env, work_dir / "api.log")]
        base = f"http://127.0.0.1:{args.port}"
        try:
            await wait_ready(base, processes[1], work_dir / "api.log")
            work = await prepare(
                base, servers.database_url, servers.redis_url, servers.redis_prefix, rows, args.clients
            )
            results = Results()
            limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
            async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
                ceiling = await baseline(http, args.clients, 5)
                started = time.monotonic()
                deadline = started + args.seconds
                await asyncio.gather(
                    *(client_loop(http, work, i, deadline, results) for i in range(args.clients))
                )
                elapsed = time.monotonic() - started
            ok = report(results, elapsed, args.clients)
            mixed = sum(len(v) for v in results.latencies.values()) / elapsed
            print(
                f"baseline /healthz {ceiling:.0f} req/s; mixed traffic runs at {mixed / ceiling:.2f}x of it"
            )
            unhandled = [
                ln for ln in (work_dir / "api.log").read_text().splitlines() if "unhandled_error" in ln
            ]
            if unhandled:
                print(f"server logged {len(unhandled)} unhandled errors, e.g. {unhandled[0]}")
                ok = False
            return ok
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--port", type=int, default=8108)
    args = parser.parse_args()
    args.seconds = min(args.seconds, 600)  # bounded, whatever is asked
    return 0 if asyncio.run(run(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
