"""Booking throughput, end to end over HTTP, against a real server process (plus raw ceilings).

    .venv/bin/python bench/booking.py [--seconds 5] [--connections 64] [--port 8102]
    .venv/bin/python bench/booking.py --orders [--seconds 5] [--connections 64]

``--orders``: POST /api/v1/orders instead, a round trip (two slices: a hot outbound and a hot return
flight) for two adults, end to end (reservation of both flights, the order, its passengers and two
bookings rows, payment, confirmation with its notification), against /healthz in the same run.

Installs wrk when missing (Debian's package); needs the PostgreSQL / Redis the tests use: a fresh database
and key prefix, removed afterwards. For each strategy (lua, lock-watch) and PAYMENT_LATENCY_MS
(0, 200) it starts the API as `make run` does (app.cli.api_command), and in the same run measures
/healthz req/s, bookings/s on one hot flight, bookings/s spread over 1,000 flights, and checks that
no seat was oversold. Then the raw ceilings: the Lua decrement in a bare Python loop against the
same Redis, and PostgreSQL's conditional UPDATE alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import psycopg
import redis
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.booking.reservation import LuaStrategy  # noqa: E402
from app.cli import migrate  # noqa: E402
from app.platform.config import to_driver_url  # noqa: E402
from app.platform.redis.client import Keys  # noqa: E402
from app.platform.security import create_access_token  # noqa: E402
from bench.procstat import server_cpu  # noqa: E402
from bench.tools import ensure_wrk, start_api, stop_api  # noqa: E402
from tests.infra import test_servers  # noqa: E402

SPREAD_FLIGHTS = 1000
# Far more seats than a run can sell, so the hot flight never sells out mid-measurement.
BENCH_SEATS = 10_000_000
JWT = "bench-secret-" + "x" * 40
LOG_PATH = Path(tempfile.gettempdir()) / "flightdesk-bench-booking.log"
CONDITIONAL_UPDATE = (
    "UPDATE flights SET available_seats = available_seats - $2 WHERE id = $1 AND available_seats >= $2"
)

WRK_SCRIPT = """
local tokens = {%(tokens)s}
local flights = {%(flights)s}
local n = 0
request = function()
  n = n + 1
  local flight = flights[math.random(#flights)]
  local headers = {["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]}
  return wrk.format("POST", "/api/v1/booking", headers,
                    '{"flight_id": "' .. flight .. '", "seats": 1}')
end
"""


ORDER_SCRIPT = """
local tokens = {%(tokens)s}
local body = '%(body)s'
local n = 0
request = function()
  n = n + 1
  local headers = {["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]}
  return wrk.format("POST", "/api/v1/orders", headers, body)
end
"""


def seed_round_trip(database_url: str) -> tuple[str, str]:
    """A hot outbound (Delhi -> Mumbai in 30 days) and its hot return three days later."""
    out, back = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(to_driver_url(database_url, "postgresql"), autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts,
                                 total_seats, available_seats, price)
            VALUES (%(out)s, 'OR-1', 'Delhi', 'Mumbai', now() + interval '30 days',
                    now() + interval '30 days 2 hours', %(seats)s, %(seats)s, 4999),
                   (%(back)s, 'OR-2', 'Mumbai', 'Delhi', now() + interval '33 days',
                    now() + interval '33 days 2 hours', %(seats)s, %(seats)s, 5200.50)
            """,
            {"out": out, "back": back, "seats": BENCH_SEATS},
        )
    return out, back


def minted_tokens(database_url: str, count: int) -> list[str]:
    """Users written straight into the table with tokens signed by the bench's secret: registering
    64 users over HTTP costs minutes of Argon2 on a loaded machine, and is not what is measured."""
    ids = [uuid.uuid4() for _ in range(count)]
    with psycopg.connect(to_driver_url(database_url, "postgresql"), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, username, hashed_password) "
            "SELECT id, 'bench_' || replace(id::text, '-', ''), 'x' FROM unnest(%(ids)s::uuid[]) AS t(id)",
            {"ids": ids},
        )
    return [create_access_token(i, secret=JWT, algorithm="HS256", expire_minutes=120) for i in ids]


def confirmed_orders(database_url: str) -> int:
    with psycopg.connect(to_driver_url(database_url, "postgresql")) as conn:
        row = conn.execute("SELECT count(*) FROM orders WHERE status = 'CONFIRMED'").fetchone()
        return int(row[0]) if row else 0


def run_orders(args: argparse.Namespace) -> None:
    """Hot-flight two-slice, two-passenger orders/s against /healthz, same server, same run."""
    with test_servers() as servers, tempfile.TemporaryDirectory() as tmp:
        migrate(servers.database_url)
        out, back = seed_round_trip(servers.database_url)
        keys = Keys(servers.redis_prefix)
        warm = redis.Redis.from_url(servers.redis_url)
        warm.mset({keys.seats(fid): BENCH_SEATS for fid in (out, back)})
        warm.close()
        adults = [
            {"given_name": "Asha", "family_name": "Rao", "born_on": "1985-04-02", "type": "adult"},
            {"given_name": "Ravi", "family_name": "Rao", "born_on": "1983-11-20", "type": "adult"},
        ]
        order = {
            "slices": [{"flight_ids": [out]}, {"flight_ids": [back]}],
            "passengers": adults,
            "contact": {"email": "asha@example.com"},
        }
        body = json.dumps(order)
        base = f"http://127.0.0.1:{args.port}"
        results = []
        user_tokens: list[str] = []
        for latency in (0, 200):
            env = {
                **os.environ,
                "APP_ENV": "test",
                "DATABASE_URL": servers.database_url,
                "REDIS_URL": servers.redis_url,
                "REDIS_KEY_PREFIX": servers.redis_prefix,
                "SEAT_UPDATES_CHANNEL": f"{servers.redis_prefix}:seat_updates",
                "JWT_SECRET": JWT,
                "PAYMENT_SUCCESS_RATE": "1.0",
                "PAYMENT_LATENCY_MS": str(latency),
                "DEMO_DATA": "0",
                "LOGIN_RATE_LIMIT": "0",
                "LOGIN_CLIENT_RATE_LIMIT": "0",
                "REGISTER_RATE_LIMIT": "0",
                "LOG_LEVEL": "WARNING",
                "FRONTEND_DIST": "/nonexistent",
            }
            server = start_api(env, args.port, LOG_PATH)
            try:
                user_tokens = user_tokens or minted_tokens(servers.database_url, args.connections)
                script = Path(tmp) / "orders.lua"
                script.write_text(
                    ORDER_SCRIPT % {"tokens": ", ".join(f'"{t}"' for t in user_tokens), "body": body}
                )
                cpu = server_cpu(server.pid)
                health, _ = wrk(f"{base}/healthz", args.seconds, args.connections)
                health_cpu = (server_cpu(server.pid) - cpu) / (health * args.seconds) * 1e6
                cpu = server_cpu(server.pid)
                before = confirmed_orders(servers.database_url)
                started = time.perf_counter()
                _, bad = wrk(base, args.seconds, args.connections, script)
                rate = (confirmed_orders(servers.database_url) - before) / (time.perf_counter() - started)
                order_cpu = (server_cpu(server.pid) - cpu) / max(1.0, rate * args.seconds) * 1e6
            finally:
                stop_api(server)
            over, excess, leaked = oversold(servers.database_url, servers.redis_url, keys)
            results.append((latency, health, rate, bad, over, excess, leaked, health_cpu, order_cpu))
            print(
                f"orders latency={latency:3}ms healthz={health:8.0f}/s orders={rate:7.0f}/s "
                f"({rate / health:.1%}) non-2xx={bad} oversold={over} counter excess={excess} "
                f"leaked={leaked} server CPU/request: healthz {health_cpu:.0f} us, order {order_cpu:.0f} us",
                flush=True,
            )
    print()
    print("| payment latency | /healthz req/s | hot two-slice orders/s (2 passengers) | orders / healthz | "
          "non-2xx | oversold seats | counter excess | CPU µs healthz / order |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for latency, health, rate, bad, over, excess, _, health_cpu, order_cpu in results:
        print(
            f"| {latency} ms | {health:,.0f} | {rate:,.0f} | {rate / health:.1%} | {bad} | {over} | {excess} "
            f"| {health_cpu:,.0f} / {order_cpu:,.0f} |"
        )


def seed(database_url: str) -> tuple[str, list[str]]:
    hot = str(uuid.uuid4())
    spread = [str(uuid.uuid4()) for _ in range(SPREAD_FLIGHTS)]
    with psycopg.connect(to_driver_url(database_url, "postgresql"), autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts,
                                 total_seats, available_seats, price)
            SELECT id, 'BK-' || n, 'Delhi', 'Mumbai', now() + interval '30 days' + n * interval '1 minute',
                   now() + interval '30 days 2 hours' + n * interval '1 minute', %(seats)s, %(seats)s, 4999
            FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS t(id, n)
            """,
            {"ids": [hot, *spread], "seats": BENCH_SEATS},
        )
    return hot, spread


def wrk(url: str, seconds: float, connections: int, script: Path | None = None) -> tuple[float, int]:
    """Requests/s and the count of non-2xx answers."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*timeout (\d+)", output)
    return rate, (int(bad.group(1)) if bad else 0) + (int(errors.group(1)) if errors else 0)


def profile_start(server: subprocess.Popen[bytes], seconds: float, path: Path) -> subprocess.Popen[bytes]:
    """py-spy on the server's worker process (granian forks it) while the hot-flight run goes."""
    children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    pid = children[0] if children else str(server.pid)
    py_spy = Path(sys.executable).parent / "py-spy"
    command = [str(py_spy), "record", "--pid", pid, "--duration", str(int(seconds)), "--format", "raw"]
    return subprocess.Popen(
        [*command, "--nonblocking", "--rate", "200", "-o", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


AREAS = ("asyncpg", "sqlalchemy", "redis", "pydantic", "starlette", "fastapi", "granian", "uvloop",
         "structlog", "prometheus_client", "jwt", "orjson", "json", "asyncio")  # fmt: skip


def profile_summary(path: Path) -> str:
    """Where the worker's samples went: by library, and the busiest functions of FlightDesk itself."""
    by_area: dict[str, int] = {}
    by_app: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        total += count
        leaf = frames[-1]
        area = "other"
        for name in AREAS:
            if f"/{name}/" in leaf or f"{name}/" in leaf.split(" (")[-1]:
                area = name
                break
        else:
            if "/app/" in leaf:
                area = "app"
            elif "idle" in leaf or "select" in leaf or "poll" in leaf:
                area = "idle/poll"
        by_area[area] = by_area.get(area, 0) + count
        app_frames = [f for f in frames if "/work/main/app/" in f or "(app/" in f]
        if app_frames:
            key = app_frames[-1].split(" (")[0]
            by_app[key] = by_app.get(key, 0) + count
    lines = [f"py-spy samples: {total}"]
    lines += [f"  {area:18} {n / total:6.1%}" for area, n in sorted(by_area.items(), key=lambda kv: -kv[1])]
    lines.append("  innermost FlightDesk function on the stack:")
    lines += [f"    {fn:40} {n / total:6.1%}" for fn, n in sorted(by_app.items(), key=lambda kv: -kv[1])[:12]]
    return "\n".join(lines)


def tokens(base: str, count: int) -> list[str]:
    result = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for i in range(count):
            name = f"bench_{uuid.uuid4().hex[:8]}_{i}"
            http.post("/api/v1/auth/register", json={"username": name, "password": "kite-river9"})
            token = http.post("/api/v1/auth/token", data={"username": name, "password": "kite-river9"})
            result.append(token.json()["access_token"])
    return result


def write_script(directory: Path, name: str, user_tokens: list[str], flights: list[str]) -> Path:
    path = directory / f"{name}.lua"
    path.write_text(
        WRK_SCRIPT
        % {
            "tokens": ", ".join(f'"{t}"' for t in user_tokens),
            "flights": ", ".join(f'"{f}"' for f in flights),
        }
    )
    return path


def confirmed(database_url: str) -> int:
    with psycopg.connect(to_driver_url(database_url, "postgresql")) as conn:
        row = conn.execute("SELECT count(*) FROM bookings WHERE status = 'CONFIRMED'").fetchone()
        return int(row[0]) if row else 0


def oversold(database_url: str, redis_url: str, keys: Keys) -> tuple[int, int, int]:
    """(seats held beyond total_seats, seats the counters offer beyond the truth, seats they leaked).

    Measured after the server stopped: bookings cut off by its shutdown leave leaks (the reaper's
    audit heals them); an excess would be a bug that can oversell.
    """
    with psycopg.connect(to_driver_url(database_url, "postgresql")) as conn:
        rows = conn.execute(
            """
            SELECT f.id, f.total_seats, COALESCE(SUM(b.seats) FILTER
                   (WHERE b.status IN ('PENDING', 'CONFIRMED', 'HELD')), 0)
            FROM flights f LEFT JOIN bookings b ON b.flight_id = f.id GROUP BY f.id
            """
        ).fetchall()
    client = redis.Redis.from_url(redis_url)
    values = client.mget([keys.seats(fid) for fid, _, _ in rows])
    client.close()
    over = sum(max(int(held) - total, 0) for _, total, held in rows)
    diffs = [
        int(v) - (total - held) for (_, total, held), v in zip(rows, values, strict=True) if v is not None
    ]
    return over, sum(d for d in diffs if d > 0), -sum(d for d in diffs if d < 0)


async def lua_ceiling(redis_url: str, keys: Keys, seconds: float, concurrency: int) -> float:
    client = aioredis.Redis.from_url(redis_url, max_connections=concurrency + 4)
    strategy = LuaStrategy(client, keys)
    flight = uuid.uuid4()
    await client.set(keys.seats(flight), 10**12)
    count = 0
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await strategy.reserve(flight, 1)
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await client.delete(keys.seats(flight), keys.seat_generation(flight))
    await client.aclose()
    return count / elapsed


async def postgres_ceiling(database_url: str, flight_id: str, seconds: float, concurrency: int) -> float:
    pool = await asyncpg.create_pool(
        to_driver_url(database_url, "postgresql"), min_size=concurrency, max_size=concurrency
    )
    count = 0
    deadline = time.perf_counter() + seconds
    fid = uuid.UUID(flight_id)

    async def loop() -> None:
        nonlocal count
        async with pool.acquire() as conn:
            while time.perf_counter() < deadline:
                await conn.execute(CONDITIONAL_UPDATE, fid, 1)
                count += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return count / elapsed


def main() -> None:
    ensure_wrk()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--only", help="one configuration, e.g. lua:0")
    parser.add_argument("--profile", type=Path, help="py-spy the server during the lua:0 hot run")
    parser.add_argument("--orders", action="store_true", help="two-slice, two-passenger orders instead")
    args = parser.parse_args()
    if args.orders:
        run_orders(args)
        return
    profile_text = ""
    rows: list[tuple[str, int, float, float, float, int, int, int]] = []
    cpu_rows: list[tuple[str, int, float, float]] = []
    with test_servers() as servers, tempfile.TemporaryDirectory() as tmp:
        migrate(servers.database_url)
        hot, spread = seed(servers.database_url)
        keys = Keys(servers.redis_prefix)
        warm = redis.Redis.from_url(servers.redis_url)
        # As flights.create does: the counters exist before the first booking.
        warm.mset({keys.seats(fid): BENCH_SEATS for fid in [hot, *spread]})
        warm.close()
        base_env = {
            **os.environ,
            "APP_ENV": "test",
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "REDIS_KEY_PREFIX": servers.redis_prefix,
            "SEAT_UPDATES_CHANNEL": f"{servers.redis_prefix}:seat_updates",
            "JWT_SECRET": JWT,
            "PAYMENT_SUCCESS_RATE": "1.0",
            "DEMO_DATA": "0",
            "LOGIN_RATE_LIMIT": "0",
            "LOGIN_CLIENT_RATE_LIMIT": "0",
            "REGISTER_RATE_LIMIT": "0",
            "LOG_LEVEL": "WARNING",
            "FRONTEND_DIST": "/nonexistent",
        }
        base = f"http://127.0.0.1:{args.port}"
        user_tokens: list[str] = []
        for strategy in ("lua", "lock-watch"):
            for latency in (0, 200):
                if args.only and args.only != f"{strategy}:{latency}":
                    continue
                env = {**base_env, "SEAT_RESERVATION": strategy, "PAYMENT_LATENCY_MS": str(latency)}
                server = start_api(env, args.port, LOG_PATH)
                try:
                    if not user_tokens:
                        user_tokens = tokens(base, args.connections)
                    hot_script = write_script(Path(tmp), "hot", user_tokens, [hot])
                    spread_script = write_script(Path(tmp), "spread", user_tokens, spread)
                    cpu = server_cpu(server.pid)
                    health, _ = wrk(f"{base}/healthz", args.seconds, args.connections)
                    health_cpu = (server_cpu(server.pid) - cpu) / (health * args.seconds) * 1e6
                    cpu = server_cpu(server.pid)
                    before = confirmed(servers.database_url)
                    started = time.perf_counter()
                    spy = None
                    if args.profile and (strategy, latency) == ("lua", 0):
                        spy = profile_start(server, args.seconds, args.profile)
                    _, hot_bad = wrk(base, args.seconds, args.connections, hot_script)
                    hot_rate = (confirmed(servers.database_url) - before) / (time.perf_counter() - started)
                    hot_cpu = (server_cpu(server.pid) - cpu) / max(1.0, hot_rate * args.seconds) * 1e6
                    before = confirmed(servers.database_url)
                    started = time.perf_counter()
                    _, spread_bad = wrk(base, args.seconds, args.connections, spread_script)
                    spread_rate = (confirmed(servers.database_url) - before) / (time.perf_counter() - started)
                    if spy is not None:
                        spy.wait(timeout=60)
                        profile_text = profile_summary(args.profile)
                finally:
                    stop_api(server)
                over, excess, leaked = oversold(servers.database_url, servers.redis_url, keys)
                rows.append(
                    (strategy, latency, health, hot_rate, spread_rate, hot_bad + spread_bad, over, excess)
                )
                cpu_rows.append((strategy, latency, health_cpu, hot_cpu))
                print(
                    f"{strategy:10} latency={latency:3}ms healthz={health:8.0f}/s hot={hot_rate:7.0f}/s "
                    f"spread={spread_rate:7.0f}/s non-2xx={hot_bad + spread_bad} oversold={over} "
                    f"counter excess={excess} leaked={leaked} "
                    f"server CPU/request: healthz {health_cpu:.0f} us, hot booking {hot_cpu:.0f} us",
                    flush=True,
                )
        lua_single = asyncio.run(lua_ceiling(servers.redis_url, keys, args.seconds / 2, 1))
        lua_many = asyncio.run(lua_ceiling(servers.redis_url, keys, args.seconds / 2, args.connections))
        pg_rate = asyncio.run(postgres_ceiling(servers.database_url, hot, args.seconds / 2, 16))
    print()
    print("| strategy | payment latency | /healthz req/s | hot flight bookings/s | hot / healthz | "
          "1,000 flights bookings/s | non-2xx | oversold seats | counter excess |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for strategy, latency, health, hot_rate, spread_rate, bad, over, excess in rows:
        print(
            f"| {strategy} | {latency} ms | {health:,.0f} | {hot_rate:,.0f} | {hot_rate / health:.1%} | "
            f"{spread_rate:,.0f} | {bad} | {over} | {excess} |"
        )
    print()
    print("Server CPU per request (API process tree, user + system; robust to the machine's other load):")
    print()
    print("| strategy | payment latency | /healthz µs | hot booking µs | healthz / booking |")
    print("|---|---|---|---|---|")
    for strategy, latency, health_cpu, hot_cpu in cpu_rows:
        ratio = health_cpu / hot_cpu
        print(f"| {strategy} | {latency} ms | {health_cpu:,.0f} | {hot_cpu:,.0f} | {ratio:.1%} |")
    print()
    print(f"Raw ceilings: Lua decrement, bare Python loop: {lua_single:,.0f}/s (1 client), "
          f"{lua_many:,.0f}/s ({args.connections} tasks); "
          f"PostgreSQL conditional UPDATE on one row (16 connections): {pg_rate:,.0f}/s")  # fmt: skip
    if profile_text:
        print()
        print(profile_text)


if __name__ == "__main__":
    main()
