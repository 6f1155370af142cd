"""E-mail notifications: e-mails per second by one worker, and the delay from a change to its e-mail.

    .venv/bin/python bench/notifications.py [--count 3000] [--changes 40] [--port 8103]

Needs the PostgreSQL / Redis the tests use (a fresh database and key prefix, removed afterwards).
A real SMTP server (aiosmtpd) runs in this process on a free loopback port and timestamps each
message as it is accepted. In the same run:
- baseline: raw aiosmtplib sends/s to that server over one connection, from a bare loop;
- throughput: ``count`` pending notifications written at once, then one worker process
  (`python -m app.cli worker`, SMTP_URL set) started: e-mails/s from its first to its last e-mail;
- delay: the API process (as `make run` starts it) and that worker; ``changes`` airline cancels,
  one at a time, each of a flight with one order: from the POST to the order's e-mail arriving
  (median, p95), with /healthz's req/s of the same API for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import psycopg
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cli import migrate  # noqa: E402
from app.platform.config import to_driver_url  # noqa: E402
from bench.tools import start_api, stop_api  # noqa: E402
from tests.infra import test_servers  # noqa: E402
from tests.operations_support import free_port, new_reference  # noqa: E402

JWT = "bench-secret-" + "y" * 40
LOG_PATH = Path(tempfile.gettempdir()) / "flightdesk-bench-notifications.log"


class Arrivals:
    """The SMTP server's handler: when each message (by subject) was accepted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: dict[str, float] = {}
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.perf_counter()
        subject = str(message_from_bytes(envelope.content)["Subject"])
        with self.lock:
            self.at.setdefault(subject, now)
            self.count += 1
        return "250 OK"

    def wait_count(self, count: int, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while self.count < count and time.perf_counter() < deadline:
            time.sleep(0.005)


async def raw_baseline(port: int, count: int) -> float:
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
    await smtp.connect()
    started = time.perf_counter()
    for i in range(count):
        await smtp.sendmail(
            "bench@flightdesk.invalid", ["to@example.com"], f"Subject: raw {i}\r\n\r\nbody\r\n"
        )
    rate = count / (time.perf_counter() - started)
    await smtp.quit()
    return rate


def sql(database_url: str, query: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(to_driver_url(database_url, "postgresql"), autocommit=True) as conn:
        cursor = conn.execute(query, params or {})  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = open(LOG_PATH, "ab")  # noqa: SIM115 - the worker holds it for its lifetime
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"], env=env, cwd=ROOT, stdout=log, stderr=log
    )


def admin_token(base: str, database_url: str) -> tuple[str, str]:
    name = f"admin_{uuid.uuid4().hex[:8]}"
    httpx.post(
        f"{base}/api/v1/auth/register", json={"username": name, "password": "kite-river9"}
    ).raise_for_status()
    sql(database_url, "UPDATE users SET is_admin = true WHERE username = %(u)s", {"u": name})
    token = httpx.post(f"{base}/api/v1/auth/token", data={"username": name, "password": "kite-river9"})
    return name, token.json()["access_token"]


def flight_with_order(database_url: str, user: str, index: int) -> tuple[str, str]:
    departure = (datetime.now(UTC) + timedelta(days=3, minutes=index)).replace(microsecond=0)
    flight, reference = str(uuid.uuid4()), new_reference()
    params = {
        "f": flight,
        "n": f"BN-{index}",
        "d": departure,
        "a": departure + timedelta(hours=2),
        "r": reference,
        "u": user,
    }
    sql(
        database_url,
        "INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts, total_seats,"
        " available_seats, price) VALUES (%(f)s, %(n)s, 'Delhi', 'Mumbai', %(d)s, %(a)s, 100, 100, 100)",
        params,
    )
    sql(
        database_url,
        "WITH o AS (INSERT INTO orders (id, reference, user_id, status, total_price, contact_email,"
        " first_departure_ts) SELECT gen_random_uuid(), %(r)s, id, 'CONFIRMED', 100, 'bench@example.com',"
        " %(d)s"
        " FROM users WHERE username = %(u)s RETURNING id, user_id)"
        " INSERT INTO bookings (id, user_id, flight_id, seats, status, unit_price, order_id, slice_index,"
        " leg_index) SELECT gen_random_uuid(), user_id, %(f)s, 1, 'CONFIRMED', 100, id, 0, 0 FROM o",
        params,
    )
    return flight, reference


def healthz_rate(base: str, seconds: float) -> float:
    with httpx.Client(base_url=base) as http:
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            http.get("/healthz")
            done += 1
    return done / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--port", type=int, default=8103)
    args = parser.parse_args()

    arrivals = Arrivals()
    smtp_port = free_port()
    controller = Controller(arrivals, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        raw = asyncio.run(raw_baseline(smtp_port, min(args.count, 2000)))
        with test_servers() as servers:
            migrate(servers.database_url)
            env = {
                **os.environ,
                "APP_ENV": "test",
                "DATABASE_URL": servers.database_url,
                "REDIS_URL": servers.redis_url,
                "REDIS_KEY_PREFIX": servers.redis_prefix,
                "SEAT_UPDATES_CHANNEL": f"{servers.redis_prefix}:seat_updates",
                "JWT_SECRET": JWT,
                "DEMO_DATA": "0",
                "LOGIN_RATE_LIMIT": "0",
                "LOGIN_CLIENT_RATE_LIMIT": "0",
                "REGISTER_RATE_LIMIT": "0",
                "LOG_LEVEL": "WARNING",
                "FRONTEND_DIST": "/nonexistent",
                "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            }
            base = f"http://127.0.0.1:{args.port}"
            api = start_api(env, args.port, LOG_PATH)
            worker = None
            try:
                user, token = admin_token(base, servers.database_url)
                # Throughput: a backlog written at once, then one worker drains it.
                sql(
                    servers.database_url,
                    "INSERT INTO notifications (id, user_id, kind, subject, body, email_to, email_state,"
                    " email_next_attempt_at) SELECT gen_random_uuid(), u.id, 'order_confirmed',"
                    " 'Booking BENCH' || g, 'Your booking is confirmed.', 'bench@example.com', 'pending',"
                    " now()"
                    " FROM users u, generate_series(1, %(n)s) g WHERE u.username = %(u)s",
                    {"n": args.count, "u": user},
                )
                before = arrivals.count
                worker = start_worker(env)
                arrivals.wait_count(before + 1, 60)
                first = time.perf_counter()
                arrivals.wait_count(before + args.count, 300)
                drained = time.perf_counter() - first
                sent = arrivals.count - before
                rate = (sent - 1) / drained if drained > 0 else float("nan")

                # Delay: airline cancels one at a time, each to its order's e-mail.
                headers = {"Authorization": f"Bearer {token}"}
                delays = []
                with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
                    for i in range(args.changes):
                        flight, reference = flight_with_order(servers.database_url, user, i)
                        started = time.perf_counter()
                        http.post(f"/admin/flights/{flight}/cancel").raise_for_status()
                        deadline = started + 30
                        while time.perf_counter() < deadline:
                            at = next((t for s, t in list(arrivals.at.items()) if reference in s), None)
                            if at is not None:
                                delays.append((at - started) * 1000)
                                break
                            time.sleep(0.001)
                        time.sleep(0.05)
                health = healthz_rate(base, 3)
            finally:
                if worker is not None:
                    worker.terminate()
                    worker.wait(timeout=20)
                stop_api(api)
    finally:
        controller.stop()

    delays.sort()
    p95 = delays[max(int(len(delays) * 0.95) - 1, 0)] if delays else float("nan")
    print(f"raw aiosmtplib sends/s (one connection, bare loop): {raw:8.0f}")
    print(
        f"one worker, e-mails/s ({sent} of {args.count} in {drained:.2f}s): {rate:8.0f}"
        f"  ({rate / raw:.2f}x raw)"
    )
    print(
        f"change -> e-mail delay over {len(delays)} airline cancels:"
        f" median {statistics.median(delays):.1f} ms,"
        f" p95 {p95:.1f} ms, max {delays[-1]:.1f} ms"
    )
    print(
        f"/healthz req/s (one client, same API): {health:8.0f}"
        f"  (median delay = {statistics.median(delays) * health / 1000:.1f} /healthz round trips)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
