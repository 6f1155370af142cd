"""uvicorn (uvloop + httptools) against granian (asgi, uvloop) serving FlightDesk, in one run.

    .venv/bin/python bench/server.py [--seconds 8] [--rounds 2] [--connections 32] [--workers 1]

Installs wrk when missing (Debian's package); needs the PostgreSQL / Redis the tests use (a fresh database
and key prefix, removed afterwards). The servers take turns, several rounds each, so both see
the same background load on a shared machine (the order flips every round). Prints req/s per
round, and per endpoint the median over rounds of granian / uvicorn measured side by side in the
same round: the figure behind `api_command`'s choice.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cli import migrate  # noqa: E402
from app.platform.config import to_driver_url  # noqa: E402
from app.platform.embedded import free_port  # noqa: E402
from bench.tools import ensure_wrk  # noqa: E402
from tests.infra import test_servers  # noqa: E402

PATHS = ("/healthz", "/api/v1/airports")
CITIES = ("Delhi", "Mumbai", "Bangalore", "Chennai", "Kolkata", "Hyderabad", "Pune", "Goa", "Jaipur", "Kochi")


def server_commands(port: int, workers: int) -> dict[str, list[str]]:
    common = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return {
        "uvicorn": [
            sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", *common,
            "--loop", "uvloop", "--http", "httptools", "--no-access-log",
        ],
        "granian": [
            sys.executable, "-m", "granian", "app.main:create_app", "--factory", *common,
            "--interface", "asgi", "--loop", "uvloop", "--no-access-log", "--log-level", "warning",
        ],
    }  # fmt: skip


def seed_flights(database_url: str) -> None:
    """A few hundred flights between ten cities, so /api/v1/airports has real work to do."""
    with psycopg.connect(to_driver_url(database_url, "postgresql"), autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts,
                                 total_seats, available_seats, price)
            SELECT gen_random_uuid(), 'BX-' || n, (%(cities)s::text[])[1 + n %% 10],
                   (%(cities)s::text[])[1 + (n + 1 + n / 10) %% 10],
                   now() + n * interval '1 hour', now() + n * interval '1 hour' + interval '2 hours',
                   180, 180, 4000 + n
            FROM generate_series(1, 300) AS n
            WHERE (n %% 10) <> ((n + 1 + n / 10) %% 10)
            """,
            {"cities": list(CITIES)},
        )


def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready")


def wrk(url: str, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None or errors is not None:
        raise RuntimeError(f"wrk failed or saw errors:\n{out}")
    return float(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    ensure_wrk()

    rates: dict[tuple[str, str], list[float]] = {}
    with test_servers() as servers:
        migrate(servers.database_url)
        seed_flights(servers.database_url)
        env = {
            **os.environ,
            "APP_ENV": "test",
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "REDIS_KEY_PREFIX": servers.redis_prefix,
            "JWT_SECRET": "bench-secret-" + "x" * 40,
            "DEMO_DATA": "0",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        for round_number in range(1, args.rounds + 1):
            port = free_port()
            commands = list(server_commands(port, args.workers).items())
            for name, command in commands if round_number % 2 else reversed(commands):
                base = f"http://127.0.0.1:{port}"
                process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
                try:
                    wait_ready(base, process)
                    for path in PATHS:
                        wrk(base + path, 2, args.connections)  # warm-up: caches, connection pools
                        rate = wrk(base + path, args.seconds, args.connections)
                        rates.setdefault((name, path), []).append(rate)
                        print(f"round {round_number} {name:8} {path:18} {rate:10.0f} req/s", flush=True)
                finally:
                    process.terminate()
                    process.wait(timeout=30)

    print(f"\nmedians of {args.rounds} rounds, {args.workers} worker(s), {args.connections} connections")
    print(f"{'endpoint':18} {'uvicorn':>10} {'granian':>10} {'granian/uvicorn, paired':>25}")
    for path in PATHS:
        uvicorn, granian = rates["uvicorn", path], rates["granian", path]
        ratio = statistics.median(g / u for g, u in zip(granian, uvicorn, strict=True))
        print(
            f"{path:18} {statistics.median(uvicorn):10.0f} {statistics.median(granian):10.0f} {ratio:25.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
