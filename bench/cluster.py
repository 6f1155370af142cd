"""A three-master Redis Cluster against a single Redis, same run: search and hot-flight booking.

    .venv/bin/python -m bench.cluster [--seconds 8] [--rounds 2] [--connections 32] [--port 8121]

One database (seed-like flights from bench.datagen, ~1,000, loaded with COPY, plus one hot flight
with 10M seats and 1,000 others, bench.booking.seed) and two private Redis backends on loopback:
one redis-server, and a three-master Redis Cluster (tests/redis_cluster.py, REDIS_CLUSTER=true).
Each round, for each backend in turn: the index is rebuilt (`app.cli rebuild-index`), the API is
started as `make run` does (granian, one process, SEAT_RESERVATION=lua, payments instant), then
wrk drives /healthz, /api/v1/search (500 varied queries) and POST /api/v1/booking on the hot flight.
The figures that matter are the cluster / single ratios of one round: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
import redis

from app.cli import migrate
from app.platform.embedded import free_port
from app.platform.redis.client import Keys
from bench import datagen
from bench.booking import BENCH_SEATS, JWT, LOG_PATH, confirmed, seed, tokens, write_script
from bench.booking import wrk as wrk_rate
from bench.procstat import server_cpu
from bench.search import ADMIN_URL, LUA, load, rebuild
from bench.tools import ensure_wrk, start_api, stop_api
from tests.redis_cluster import redis_cluster


@contextmanager
def single_redis() -> Iterator[str]:
    """A private redis-server, configured as the cluster's nodes are (no persistence)."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="fd-bench-redis-"))
    server = shutil.which("redis-server") or "redis-server"
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            with suppress(redis.RedisError):
                if redis.Redis(port=port).ping():
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def search_script(rows: list[dict[str, object]], directory: Path) -> Path:
    rng = random.Random(3)
    names = sorted({str(r["source"]) for r in rows})
    days = sorted({r["departure_ts"].date() for r in rows})[1:-1]  # type: ignore[attr-defined]
    queries = []
    for _ in range(500):
        a, b = rng.sample(names, 2)
        queries.append(
            f'"/api/v1/search?source={a}&destination={b}&date={rng.choice(days)}"'.replace(" ", "%20")
        )
    path = directory / "search.lua"
    path.write_text(LUA % ",".join(queries))
    return path


def measure(
    label: str,
    env: dict[str, str],
    database_url: str,
    hot: str,
    args: argparse.Namespace,
    scripts: dict[str, Path],
    user_tokens: list[str],
) -> dict[str, float]:
    seconds, _ = rebuild(env)
    server = start_api(env, args.port, LOG_PATH)
    base = f"http://127.0.0.1:{args.port}"
    try:
        if not user_tokens:
            user_tokens += tokens(base, args.connections)
            scripts["hot"] = write_script(scripts["search"].parent, "hot", user_tokens, [hot])
        wrk_rate(f"{base}/healthz", 2, args.connections)  # warm-up
        wrk_rate(base, 2, args.connections, scripts["search"])
        health, _ = wrk_rate(f"{base}/healthz", args.seconds, args.connections)
        cpu = server_cpu(server.pid)
        search, search_bad = wrk_rate(base, args.seconds, args.connections, scripts["search"])
        search_cpu = (server_cpu(server.pid) - cpu) / (search * args.seconds) * 1e6
        before, started = confirmed(database_url), time.perf_counter()
        cpu = server_cpu(server.pid)
        _, hot_bad = wrk_rate(base, args.seconds, args.connections, scripts["hot"])
        booked = confirmed(database_url) - before
        hot_rate = booked / (time.perf_counter() - started)
        hot_cpu = (server_cpu(server.pid) - cpu) / max(booked, 1) * 1e6
    finally:
        stop_api(server)
    print(
        f"{label:7} rebuild {seconds:5.1f}s  healthz {health:7.0f}/s  search {search:7.0f}/s "
        f"({search_cpu:5.0f} us CPU/req, non-2xx {search_bad})  hot booking {hot_rate:6.0f}/s "
        f"({hot_cpu:5.0f} us CPU/booking, non-2xx {hot_bad}); load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return {
        "healthz": health,
        "search": search,
        "hot": hot_rate,
        "search_cpu": search_cpu,
        "hot_cpu": hot_cpu,
    }


def main() -> None:
    ensure_wrk()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8121)
    args = parser.parse_args()
    name = f"fd_bench_{secrets.token_hex(4)}"
    admin_base, _, _ = ADMIN_URL.rpartition("/")
    database_url = f"{admin_base}/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    results: list[tuple[dict[str, float], dict[str, float]]] = []
    try:
        migrate(database_url)
        rows = datagen.seed_like()
        load(database_url, rows)
        hot, spread = seed(database_url)
        with single_redis() as single_url, redis_cluster() as cluster, tempfile.TemporaryDirectory() as tmp:
            backends = {"single": (single_url, False), "cluster": (cluster.url, True)}
            for url, is_cluster in backends.values():
                client = redis.RedisCluster.from_url(url) if is_cluster else redis.Redis.from_url(url)
                keys = Keys("fdbench")
                pipe = client.pipeline(transaction=False)
                for fid in [hot, *spread]:  # as flights.create does: counters before the first booking
                    pipe.set(keys.seats(fid), BENCH_SEATS)
                pipe.execute()
                client.close()
            scripts = {"search": search_script(rows, Path(tmp))}
            user_tokens: list[str] = []
            for _ in range(args.rounds):
                round_results = {}
                for label, (url, is_cluster) in backends.items():
                    env = {
                        **os.environ,
                        "APP_ENV": "test",
                        "DATABASE_URL": database_url,
                        "REDIS_URL": url,
                        "REDIS_CLUSTER": str(is_cluster).lower(),
                        "REDIS_KEY_PREFIX": "fdbench",
                        "JWT_SECRET": JWT,
                        "SEAT_RESERVATION": "lua",
                        "PAYMENT_LATENCY_MS": "0",
                        "PAYMENT_SUCCESS_RATE": "1.0",
                        "DEMO_DATA": "0",
                        "LOGIN_RATE_LIMIT": "0",
                        "LOGIN_CLIENT_RATE_LIMIT": "0",
                        "REGISTER_RATE_LIMIT": "0",
                        "LOG_LEVEL": "WARNING",
                        "FRONTEND_DIST": "/nonexistent",
                    }
                    round_results[label] = measure(label, env, database_url, hot, args, scripts, user_tokens)
                results.append((round_results["single"], round_results["cluster"]))
                single, clustered = results[-1]
                ratio = clustered["search"] / single["search"]
                print(
                    f"round {len(results)}: cluster / single  search {ratio:.2f}"
                    f"  hot booking {clustered['hot'] / single['hot']:.2f}"
                    f"  (server CPU per request: search {clustered['search_cpu'] / single['search_cpu']:.2f},"
                    f" booking {clustered['hot_cpu'] / single['hot_cpu']:.2f})",
                    flush=True,
                )
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
