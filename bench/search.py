"""Search benchmark: rebuild time and Redis memory, one change re-indexed, bulk-batch invalidation,
HTTP throughput against /healthz on the same server.

    .venv/bin/python -m bench.search [--days 90] [--duration 15] [--port 8111] [--changes 24]
                                     [--server uvicorn|granian|both]
        [--skip-seed] [--skip-national] [--skip-reindex] [--rebuild-only] [--skip-http] [--cities]
        [--filters [--distinct N]] [--skip-changes]
        [--compare REF]

Creates its own database (on the machine's PostgreSQL, like tests/infra.py) and its own private
Redis (so ``used_memory`` is the index alone), loads flights with COPY, creates their seat counters
(as the API does on first read), rebuilds through the CLI, times admin-style changes (price, time,
insert, delete: the committed SQL change, then the search hook, timed alone) and one bulk-sized
batch, starts its own API server (``--server``: uvicorn as in the seed, granian as ``python -m app.cli
api`` runs in production, or both, one after the other), and drives /healthz and /api/v1/search
with wrk (32 connections, a Lua script of varied queries), warm, reporting req/s and the server's
CPU per request. ``--filters``: also filtered price-sorted searches, searches sorted by duration,
departure or arrival (some filtered too), and month calendars, each against /healthz in the
same run. The figures that matter are ratios within one run: the
machine is shared, absolute numbers are noisy.

``--compare REF`` (after the rebuild, instead of everything else): REF's ``app`` exported and its
index rebuilt under a second key prefix, then the same ``--changes`` committed one by one and each
re-indexed by REF's hook and by this checkout's in turn (bench/hook_worker.py, one process each),
so old and new are timed on the same changes under the same load, with per-stage times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import redis

from app.airports.catalog import canonical
from app.cli import migrate
from app.platform.config import Settings
from app.platform.embedded import EmbeddedServers
from bench import datagen
from bench.procstat import server_cpu
from bench.tools import ensure_wrk

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

LUA = """
local queries = {%s}
local threads = 0
-- Each thread starts at a random place in the list: with many distinct queries no two threads
-- send the same one at the same time (the second would find the first's memoised answer), and a
-- measured run does not replay the queries its warm-up run sent (memoised too: not cold).
function setup(thread)
  math.randomseed(os.time() * 1000 + threads)
  thread:set("n", math.random(0, #queries - 1))
  threads = threads + 1
end
n = n or 0
request = function()
  n = n + 1
  return wrk.format("GET", queries[(n %% #queries) + 1])
end
"""


def env_for(database_url: str, redis_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": "fdbench",
        "DEMO_DATA": "0",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "FRONTEND_DIST": "/nonexistent",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }


def load(database_url: str, rows: list[dict[str, Any]]) -> None:
    url = database_url.replace("postgresql://", "postgresql://", 1)
    datagen.copy_rows(url, rows)
    with psycopg.connect(url, autocommit=True) as conn:
        for name, tz in datagen.timezones(rows).items():
            conn.execute(
                "INSERT INTO airports (name, timezone) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                (name, tz),
            )
        conn.execute("ANALYZE flights")


def rebuild(env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the CLI process and its build processes (on a shared
    machine the wall time depends on everyone else's load; CPU / cores is what 2 idle cores take)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "app.cli", "rebuild-index"], env=env, cwd=ROOT, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.monotonic() - started, cpu


def redis_cpu(client: redis.Redis) -> float:
    """CPU seconds the Redis server has used (it shares the cores with the build)."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def _context(env: dict[str, str]) -> Any:
    from app.context import AppContext

    settings = Settings(
        database_url=env["DATABASE_URL"], redis_url=env["REDIS_URL"], redis_key_prefix="fdbench"
    )
    return AppContext.create(settings, pool_size=2)


def create_counters(env: dict[str, str]) -> float:
    """Seat counters for every flight (COPY bypasses the API, which creates them on first read)."""

    async def go() -> float:
        from app.search.data import fetch

        context = await _context(env)
        try:
            started = time.monotonic()
            ids = [r.id for r in await fetch(context, "true")]
            for offset in range(0, len(ids), 1000):
                await context.inventory.rebuild(ids[offset : offset + 1000])
            return time.monotonic() - started
        finally:
            await context.close()

    return asyncio.run(go())


KINDS = ("price", "time", "insert", "delete")


def change_times(env: dict[str, str], samples: int) -> dict[str, list[float]]:
    """Seconds to re-index one admin change (the search hook alone, after the SQL commit)."""

    async def go() -> dict[str, list[float]]:
        from app.flights.events import FlightChange, FlightSnapshot
        from app.search.data import fetch
        from app.search.hooks import on_flights_changed

        context = await _context(env)
        rng = random.Random(5)
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        try:
            rows = await fetch(context, _SAMPLE, samples)
            for k, r in enumerate(rows):
                kind = KINDS[k % len(KINDS)]
                before: FlightSnapshot | None = FlightSnapshot(
                    r.id, r.flight_number, r.source, r.destination, r.departure_ts, r.arrival_ts,
                    r.total_seats, r.price,
                )  # fmt: skip
                async with context.engine.begin() as conn:
                    raw: Any = (await conn.get_raw_connection()).driver_connection
                    if kind == "price":
                        await raw.execute("UPDATE flights SET price = price * 0.7 WHERE id = $1", r.id)
                    elif kind == "time":
                        shift = timedelta(minutes=rng.choice((-90, -30, 30, 90)))
                        await raw.execute(
                            "UPDATE flights SET departure_ts = departure_ts + $2,"
                            " arrival_ts = arrival_ts + $2 WHERE id = $1",
                            r.id,
                            shift,
                        )
                    elif kind == "delete":
                        await raw.execute("DELETE FROM flights WHERE id = $1", r.id)
                    else:
                        before = None
                        await raw.execute(
                            "INSERT INTO flights (id, flight_number, source, destination, departure_ts,"
                            " arrival_ts, total_seats, available_seats, price)"
                            " SELECT $2, flight_number || 'N', source, destination, departure_ts + interval"
                            " '7 minutes', arrival_ts + interval '7 minutes', total_seats, total_seats,"
                            " price * 0.9 FROM flights WHERE id = $1",
                            r.id,
                            new_id := uuid.uuid4(),
                        )
                after = await fetch(context, "id = $1", r.id if before is not None else new_id)
                snapshot = [FlightSnapshot(*vars_of(a)) for a in after]
                started = time.perf_counter()
                await on_flights_changed(
                    context, [FlightChange(before=before, after=(snapshot or [None])[0])]
                )
                times[kind].append(time.perf_counter() - started)
            return times
        finally:
            await context.close()

    return asyncio.run(go())


# data.fetch takes a condition (it wraps it in parentheses): the random sample is a sub-query.
_SAMPLE = """id IN (SELECT id FROM flights WHERE departure_ts > now() + interval '2 days'
  AND status <> 'CANCELLED' ORDER BY random() LIMIT $1)"""


def _as_json(s: Any) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "id": str(s.id),
        "flight_number": s.flight_number,
        "source": s.source,
        "destination": s.destination,
        "departure_ts": s.departure_ts.isoformat(),
        "arrival_ts": s.arrival_ts.isoformat(),
        "total_seats": s.total_seats,
        "price": str(s.price),
    }


class HookProcess:
    """bench/hook_worker.py in a checkout (``tree``), over its own key prefix."""

    def __init__(self, tree: Path, env: dict[str, str], prefix: str) -> None:
        self.env = {**env, "REDIS_KEY_PREFIX": prefix, "PYTHONPATH": str(tree)}
        self.tree = tree
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "hook_worker.py")],
            env=self.env,
            cwd=tree,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert json.loads(self._line())["ready"]

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"hook worker in {self.tree} exited ({self.process.wait()})")
        return line

    def send(self, change: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(change) + "\n")
        self.process.stdin.flush()

    def result(self) -> dict[str, Any]:
        return dict(json.loads(self._line()))

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def compare_changes(
    env: dict[str, str], samples: int, ref: str, label: str, base_built: bool = False
) -> None:
    """The same admin changes re-indexed by REF's hook and by this checkout's, interleaved.

    REF's ``app`` is exported (git archive) and its index rebuilt under its own key prefix by its
    own CLI; each committed change is then handed to both hook processes in turn (alternating which
    goes first), so both patch their own index after the same PostgreSQL state, under the same load."""
    tree = Path(tempfile.mkdtemp(prefix="fd-bench-ref-"))
    archive = subprocess.run(["git", "archive", ref, "app"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    if not base_built:
        base_env = {**env, "REDIS_KEY_PREFIX": "fdbase", "PYTHONPATH": str(tree)}
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "app.cli", "rebuild-index"], env=base_env, cwd=tree, check=True)
        print(f"[{label}] {ref}'s index rebuilt under its own prefix in {time.monotonic() - started:.1f}s")
    paths = {ref: HookProcess(tree, env, "fdbase"), "this checkout": HookProcess(ROOT, env, "fdbench")}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in paths}
    loads = [os.getloadavg()[0]]

    async def go() -> None:
        from app.search.data import fetch

        context = await _context(env)
        rng = random.Random(5)
        try:
            rows = await fetch(context, _SAMPLE, samples)
            for k, r in enumerate(rows):
                kind = KINDS[k % len(KINDS)]
                before, after = await _commit_change(context, r, kind, rng)
                change = {"before": _as_json(before), "after": _as_json(after), "kind": kind}
                order = list(paths.items()) if k % 2 == 0 else list(paths.items())[::-1]
                for name, process in order:
                    process.send(change)
                    results[name].append({**process.result(), "kind": kind})
                if k % 10 == 9:
                    loads.append(os.getloadavg()[0])
        finally:
            await context.close()

    try:
        asyncio.run(go())
    finally:
        for process in paths.values():
            process.close()
    loads.append(os.getloadavg()[0])
    print(
        f"[{label}] same {samples} changes, both hooks in turn, load average"
        f" {min(loads):.1f}-{max(loads):.1f}:"
    )
    for name, rows in results.items():
        wall = [r["wall"] * 1000 for r in rows]
        cpu = [r["cpu"] * 1000 for r in rows]
        print(
            f"[{label}]   {name:14} one change re-indexed: median {statistics.median(wall):.0f} ms,"
            f" p95 {_pct(wall, 0.95):.0f} ms, max {max(wall):.0f} ms; CPU median"
            f" {statistics.median(cpu):.0f} ms, p95 {_pct(cpu, 0.95):.0f} ms"
        )
        stages = sorted({s for r in rows for s in r["stages"]})
        for stage in stages:
            values = [r["stages"].get(stage, 0.0) * 1000 for r in rows]
            print(
                f"[{label}]     {stage:28} median {statistics.median(values):6.1f}"
                f"  p95 {_pct(values, 0.95):6.1f}  max {max(values):6.1f} ms"
            )
        slowest = sorted(range(len(rows)), key=lambda k: -rows[k]["wall"])[:5]
        for k in slowest:
            parts = ", ".join(f"{s} {v * 1000:.0f}" for s, v in rows[k]["stages"].items())
            print(f"[{label}]     slow #{k} {rows[k]['kind']}: {rows[k]['wall'] * 1000:.0f} ms ({parts})")


async def _commit_change(context: Any, r: Any, kind: str, rng: random.Random) -> tuple[Any, Any]:
    """One admin-style change committed in SQL: (before, after) snapshots as the service hands over."""
    from app.flights.events import FlightSnapshot
    from app.search.data import fetch

    before: FlightSnapshot | None = FlightSnapshot(*vars_of(r))
    new_id = r.id
    async with context.engine.begin() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        if kind == "price":
            await raw.execute("UPDATE flights SET price = price * 0.7 WHERE id = $1", r.id)
        elif kind == "time":
            shift = timedelta(minutes=rng.choice((-90, -30, 30, 90)))
            await raw.execute(
                "UPDATE flights SET departure_ts = departure_ts + $2, arrival_ts = arrival_ts + $2"
                " WHERE id = $1",
                r.id,
                shift,
            )
        elif kind == "delete":
            await raw.execute("DELETE FROM flights WHERE id = $1", r.id)
        else:
            before = None
            new_id = uuid.uuid4()
            await raw.execute(
                "INSERT INTO flights (id, flight_number, source, destination, departure_ts,"
                " arrival_ts, total_seats, available_seats, price)"
                " SELECT $2, flight_number || 'N', source, destination, departure_ts + interval"
                " '7 minutes', arrival_ts + interval '7 minutes', total_seats, total_seats,"
                " price * 0.9 FROM flights WHERE id = $1",
                r.id,
                new_id,
            )
    after = await fetch(context, "id = $1", new_id)
    return before, FlightSnapshot(*vars_of(after[0])) if after else None


def vars_of(r: Any) -> tuple[Any, ...]:
    return (
        r.id,
        r.flight_number,
        r.source,
        r.destination,
        r.departure_ts,
        r.arrival_ts,
        r.total_seats,
        r.price,
    )


def batch_time(env: dict[str, str], size: int) -> float:
    """Seconds for the search hook of one bulk-import batch of ``size`` flights (invalidation)."""

    async def go() -> float:
        from app.flights.events import FlightChange, FlightSnapshot
        from app.search.data import fetch
        from app.search.hooks import on_flights_changed

        context = await _context(env)
        try:
            sample = "id IN (SELECT id FROM flights WHERE departure_ts > now() ORDER BY random() LIMIT $1)"
            rows = await fetch(context, sample, size)
            changes = [FlightChange(FlightSnapshot(*vars_of(r)), FlightSnapshot(*vars_of(r))) for r in rows]
            started = time.perf_counter()
            await on_flights_changed(context, changes)
            return time.perf_counter() - started
        finally:
            await context.close()

    return asyncio.run(go())


def reindex_time(env: dict[str, str]) -> tuple[float, int]:
    """The worker's recomputation of everything the batch invalidated."""

    async def go() -> tuple[float, int]:
        from app.search import index

        context = await _context(env)
        try:
            started = time.monotonic()
            days = await index.reindex_dirty(context)
            return time.monotonic() - started, days
        finally:
            await context.close()

    return asyncio.run(go())


def wrk(url: str, script: Path | None, duration: int) -> tuple[float, float, float]:
    command = ["wrk", "-t2", "-c32", f"-d{duration}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, pct("50"), pct("99")


SERVERS = {
    # The seed's command line, and the production one (`python -m app.cli api`: granian, 1 worker).
    "uvicorn": [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--loop", "uvloop",
                "--http", "httptools", "--no-access-log"],
    "granian": [sys.executable, "-m", "app.cli", "api"],
}  # fmt: skip


# The national network's six hubs as airports of three cities (bench --cities): hub-to-hub traffic
# becomes city pairs of 2 x 2 airport pairs, and each spoke is linked to 2-4 hubs, so to 1-3 cities.
CITY_HUBS = {
    "Delhi": "JFK",
    "Mumbai": "EWR",
    "Bangalore": "LHR",
    "Hyderabad": "LGW",
    "Chennai": "HND",
    "Kolkata": "NRT",
}
CITIES = ("NYC", "LON", "TYO")


def as_cities(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **r,
            "source": CITY_HUBS.get(r["source"], r["source"]),
            "destination": CITY_HUBS.get(r["destination"], r["destination"]),
        }
        for r in rows
    ]


def stored_spellings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as the API would store them (one spelling per airport, app/airports/catalog.py):
    COPY bypasses the API."""
    return [
        {
            **r,
            "source": canonical(r["source"]) or r["source"],
            "destination": canonical(r["destination"]) or r["destination"],
        }
        for r in rows
    ]


def _script(paths: list[str]) -> Path:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(LUA % ",".join(f'"{p}"'.replace(" ", "%20") for p in paths))
    return script


def http_bench(
    env: dict[str, str],
    port: int,
    rows: list[dict[str, Any]],
    duration: int,
    label: str,
    server: str,
    cities: bool = False,
    filters: bool = False,
    distinct: int = 500,
) -> None:
    rng = random.Random(3)
    names = sorted({r["source"] for r in rows})
    days = sorted({r["departure_ts"].date() for r in rows})[1:-1]
    queries = []
    for _ in range(500):
        a, b = rng.sample(names, 2)
        queries.append(f"/api/v1/search?source={a}&destination={b}&date={rng.choice(days)}")
    targets = {"/healthz": None, "/api/v1/search": _script(queries)}
    if cities:
        # Half city to city (4 airport pairs each), half city to a spoke or a spoke to a city.
        spokes = [n for n in names if n not in CITY_HUBS.values()]
        city_queries = []
        for k in range(500):
            a, b = rng.sample(CITIES, 2) if k % 2 == 0 else (rng.choice(CITIES), rng.choice(spokes))
            a, b = (a, b) if k % 4 != 3 else (b, a)
            city_queries.append(f"/api/v1/search?source={a}&destination={b}&date={rng.choice(days)}")
        targets["city search"] = _script(city_queries)
    if filters:
        targets.update(filter_targets(rng, names, days, distinct))
    results: dict[str, float] = {}
    command = SERVERS[server] + (["--port", str(port)] if server == "uvicorn" else [])
    server_process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                subprocess.run(["curl", "-sf", f"{base}/healthz"], check=True, capture_output=True)
                break
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        if filters:
            _await_timetable(base, targets["filtered search"])
        wrk(f"{base}/healthz", None, 3)  # warm-up
        for script in targets.values():
            if script is not None:
                wrk(base, script, 3)
        cpu: dict[str, float] = {}
        for name, script in targets.items():
            before = server_cpu(server_process.pid)
            rps, p50, p99 = wrk(f"{base}/healthz" if script is None else base, script, duration)
            # CPU per request of the server alone: less sensitive than req/s to a busy machine.
            cpu[name] = (server_cpu(server_process.pid) - before) / (rps * duration) * 1e6
            results[name] = rps
            print(
                f"[{label}] {server:7} {name:15} {rps:8.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
                f"  {cpu[name]:5.0f} us server CPU/req"
            )
        for name in [n for n in targets if n != "/healthz"]:
            print(
                f"[{label}] {server:7} {name} / healthz = {results[name] / results['/healthz']:.0%}"
                f" (server CPU per request: {cpu['/healthz'] / cpu[name]:.0%}),"
                f" load average {os.getloadavg()[0]:.1f}"
            )
    finally:
        server_process.terminate()
        server_process.wait(timeout=20)
        for script in targets.values():
            if script is not None:
                script.unlink()


def filter_targets(
    rng: random.Random, names: list[str], days: list[Any], count: int = 500
) -> dict[str, Path]:
    """Filtered price-sorted searches, other sorts (half of them filtered too), month calendars:
    ``count`` distinct queries of each (wrk cycles through them)."""

    def some_filters() -> str:
        choices = [
            f"max_stops={rng.choice((0, 1))}",
            f"depart_after={rng.randrange(5, 12):02d}:00",
            f"depart_before={rng.randrange(13, 23):02d}:30",
            f"max_duration_minutes={rng.choice((240, 360, 600))}",
        ]
        return "&".join(rng.sample(choices, rng.randint(1, 2)))

    filtered, sorted_, months = [], [], []
    for k in range(count):
        a, b = rng.sample(names, 2)
        search = f"/api/v1/search?source={a}&destination={b}&date={rng.choice(days)}"
        filtered.append(f"{search}&{some_filters()}")
        sort = ("duration", "departure", "arrival")[k % 3]
        sorted_.append(f"{search}&sort={sort}" + (f"&{some_filters()}" if k % 2 else ""))
        month = rng.choice(days).strftime("%Y-%m")
        months.append(f"/api/v1/search/calendar?source={a}&destination={b}&month={month}")
    return {
        "filtered search": _script(filtered),
        "sorted search": _script(sorted_),
        "calendar": _script(months),
    }


def _await_timetable(base: str, script: Path | None, seconds: float = 180) -> None:
    """Wait until the server's timetable (app/search/timetable.py, loaded in the background after
    start) answers filtered searches, so that no run measures the PostgreSQL fall-back."""
    query = re.search(r'"(/api/v1/search\?[^"]+)"', script.read_text() if script else "")
    assert query is not None
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        subprocess.run(["curl", "-sf", "-o", "/dev/null", base + query.group(1)], check=False)
        metrics = subprocess.run(["curl", "-sf", f"{base}/metrics"], capture_output=True, text=True).stdout
        if re.search(r'flightdesk_search_cache_total\{result="timetable"\} [1-9]', metrics):
            print(f"timetable ready after {time.monotonic() - started:.1f}s")
            return
        time.sleep(0.5)
    print("timetable not ready: the filtered figures include the PostgreSQL fall-back")


def scenario(label: str, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    name = f"fd_bench_{secrets.token_hex(4)}"
    base, _, _ = ADMIN_URL.rpartition("/")
    database_url = f"{base}/{name}"
    embedded = EmbeddedServers(Path(tempfile.mkdtemp(prefix="fd-bench-")))
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        redis_url = embedded.start_redis()
        # The index is a cache rebuilt from PostgreSQL: measure the build, not AOF fsync stalls of
        # a disk shared with every other process on this machine.
        redis.Redis.from_url(redis_url).config_set("appendonly", "no")
        migrate(database_url)
        started = time.monotonic()
        load(database_url, rows)
        print(f"[{label}] {len(rows)} flights loaded with COPY in {time.monotonic() - started:.1f}s")
        env = env_for(database_url, redis_url, args.port)
        if not args.compare:  # the hook reads no counter; only searches and the HTTP part do
            print(f"[{label}] seat counters created in {create_counters(env):.1f}s")
        client = redis.Redis.from_url(redis_url)
        redis_before = redis_cpu(client)
        seconds, cpu = rebuild(env)
        redis_spent = redis_cpu(client) - redis_before
        memory = client.info("memory")["used_memory"]
        keys = client.dbsize()
        print(
            f"[{label}] full rebuild {seconds:.1f}s wall, {cpu:.0f}s CPU (CLI + build processes)"
            f" + {redis_spent:.0f}s CPU in Redis on {os.cpu_count()} CPUs, load average"
            f" {os.getloadavg()[0]:.1f}; Redis {memory / 2**20:.0f} MiB in {keys} keys"
        )
        if args.rebuild_only:
            return
        if args.compare:
            compare_changes(env, args.changes, args.compare, label)
            return
        if not args.skip_changes:
            times = change_times(env, args.changes)
            every = sorted(t for kind in times.values() for t in kind)
            p95 = every[min(len(every) - 1, int(0.95 * len(every)))]
            per_kind = ", ".join(
                f"{kind} {statistics.median(v) * 1000:.0f}" for kind, v in times.items() if v
            )
            print(
                f"[{label}] one change re-indexed: median {statistics.median(every) * 1000:.0f} ms,"
                f" p95 {p95 * 1000:.0f} ms, max {every[-1] * 1000:.0f} ms over {len(every)} changes"
                f" (median ms by kind: {per_kind})"
            )
        for server in (
            () if args.skip_http else ("uvicorn", "granian") if args.server == "both" else (args.server,)
        ):
            http_bench(
                env,
                args.port,
                rows,
                args.duration,
                label,
                server,
                cities=args.cities,
                filters=args.filters,
                distinct=args.distinct,
            )
        size = min(args.batch, len(rows))
        hook = batch_time(env, size)
        print(f"[{label}] bulk batch of {size} flights: search hook {hook * 1000:.0f} ms (invalidation)")
        if not args.skip_reindex:
            spent, days = reindex_time(env)
            print(f"[{label}] worker reindex of the invalidated origin-days: {days} days in {spent:.1f}s")
    finally:
        embedded.stop()
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    ensure_wrk()
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--changes", type=int, default=24)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--port", type=int, default=8111)
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--skip-reindex", action="store_true")
    parser.add_argument("--rebuild-only", action="store_true", help="stop after the rebuild and its figures")
    parser.add_argument("--skip-http", action="store_true", help="no HTTP throughput part")
    parser.add_argument(
        "--compare",
        metavar="REF",
        help="after the rebuild: the same --changes re-indexed by REF's search hook and by this"
        " checkout's, interleaved, with per-stage times; then stop",
    )
    parser.add_argument("--server", choices=("uvicorn", "granian", "both"), default="both")
    parser.add_argument(
        "--cities", action="store_true", help="national: hubs as airports of NYC, LON, TYO; city searches too"
    )
    parser.add_argument("--filters", action="store_true", help="filtered and sorted searches, calendars too")
    parser.add_argument(
        "--distinct",
        type=int,
        default=500,
        help="with --filters: distinct queries per script (many more than a run sends: every answer"
        " computed afresh, none from the per-snapshot memos)",
    )
    parser.add_argument("--skip-changes", action="store_true", help="no admin-change re-index timing")
    parser.add_argument(
        "--servers",
        nargs=2,
        metavar=("DATABASE_URL", "REDIS_URL"),
        help="with --compare: servers already loaded, with both indexes built (prefix fdbench by"
        " this checkout's CLI, fdbase by REF's, or this checkout's when the build code is the same):"
        " only the changes are run",
    )
    args = parser.parse_args()
    if args.compare and args.servers:
        compare_changes(env_for(*args.servers, args.port), args.changes, args.compare, "national", True)
        return
    if not args.skip_seed:
        scenario("seed-like", stored_spellings(datagen.seed_like()), args)
    if not args.skip_national:
        national = datagen.generate(days=args.days)
        scenario("national", stored_spellings(as_cities(national) if args.cities else national), args)


if __name__ == "__main__":
    main()
