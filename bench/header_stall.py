"""How long /healthz stalls while the API checks an upload with a 100 KB CSV header line.

    .venv/bin/python bench/header_stall.py [--header-kb 100] [--seconds 3] [--port 8107]

A real API server process (`python -m app.cli api`) with its own fresh database and Redis key
prefix (removed afterwards), no worker. A thread asks for /healthz every 10 ms and records when
each answer arrives. First for ``--seconds`` with nothing else going on (the machine's own noise),
then while an admin uploads a CSV whose header line is ``--header-kb`` KB long (distinct
unexpected column names) followed by one valid row. Prints the longest gap between two /healthz
answers in each phase, the upload's status and how long it took. Issue #12 (defect 6): a 100 KB
header took 13.5 s and /healthz stalled 13.4 s.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cli import migrate  # noqa: E402
from app.platform.config import to_driver_url  # noqa: E402
from bench.tools import start_api, stop_api  # noqa: E402
from tests.infra import test_servers  # noqa: E402

HEADER = "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price"
ROW = "HS-1,Delhi,Mumbai,2031-01-01T10:00:00Z,2031-01-01T12:00:00Z,100,99.50"
PROBE_EVERY = 0.01


class Prober(threading.Thread):
    """GET /healthz every 10 ms; ``answers`` holds the monotonic time of each answer."""

    def __init__(self, base_url: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.answers: list[float] = []
        self.failures = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=60) as http:
            while not self.stopping.is_set():
                try:
                    ok = http.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    self.answers.append(time.monotonic())
                else:
                    self.failures += 1
                time.sleep(PROBE_EVERY)

    def longest_gap(self, start: float, end: float) -> float:
        """The longest time without an answer between ``start`` and ``end``."""
        times = [start, *(t for t in self.answers if start <= t <= end), end]
        return max(b - a for a, b in itertools.pairwise(times))


def admin_token(http: httpx.Client, database_url: str) -> str:
    http.post("/api/v1/auth/register", json={"username": "stall_admin", "password": "kite-river9"})
    with psycopg.connect(to_driver_url(database_url, "postgresql"), autocommit=True) as conn:
        conn.execute("UPDATE users SET is_admin = true WHERE username = 'stall_admin'")
    response = http.post("/api/v1/auth/token", data={"username": "stall_admin", "password": "kite-river9"})
    token: str = response.json()["access_token"]
    return token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--header-kb", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--port", type=int, default=8107)
    args = parser.parse_args()
    # The real header, then distinct unexpected column names (c0,c1,...) to the size asked.
    names, size = [HEADER], len(HEADER)
    while size < args.header_kb * 1024:
        names.append(f"c{len(names)}")
        size += len(names[-1]) + 1
    content = (",".join(names) + f"\n{ROW}\n").encode()
    with test_servers() as servers:
        migrate(servers.database_url)
        env = {
            **os.environ,
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "REDIS_KEY_PREFIX": servers.redis_prefix,
            "JWT_SECRET": "bench-secret-" + "x" * 40,
            "DEMO_DATA": "0",
            "PORT": str(args.port),
            "LOGIN_RATE_LIMIT": "0",
            "LOGIN_CLIENT_RATE_LIMIT": "0",
            "REGISTER_RATE_LIMIT": "0",
            "FRONTEND_DIST": "/nonexistent",
        }
        api = start_api(env, args.port, Path(tempfile.gettempdir()) / "flightdesk-bench-header-stall.log")
        try:
            base_url = f"http://127.0.0.1:{args.port}"
            with httpx.Client(base_url=base_url, timeout=600) as http:
                token = admin_token(http, servers.database_url)
                prober = Prober(base_url)
                prober.start()
                idle_start = time.monotonic()
                time.sleep(args.seconds)
                upload_start = time.monotonic()
                response = http.post(
                    "/admin/flights/bulk-upload",
                    files={"file": ("wide.csv", content, "text/csv")},
                    headers={"Authorization": f"Bearer {token}"},
                )
                upload_end = time.monotonic()
                time.sleep(0.2)  # the probe in flight when the upload ended
                prober.stopping.set()
                prober.join()
        finally:
            stop_api(api)
    idle = prober.longest_gap(idle_start, upload_start)
    during = prober.longest_gap(upload_start, upload_end + 0.2)
    print(f"load average: {os.getloadavg()}")
    print(
        f"upload of a {len(content) / 1024:.0f} KB header: {response.status_code} in "
        f"{upload_end - upload_start:.3f} s ({response.text[:120]!r})"
    )
    print(f"longest /healthz gap, idle for {args.seconds:g} s: {idle * 1000:.1f} ms")
    print(f"longest /healthz gap during the upload: {during * 1000:.1f} ms (x{during / idle:.1f} of idle)")
    print(f"/healthz probes failed: {prober.failures}")


if __name__ == "__main__":
    main()
