"""Contract (Orders, holds): at its deadline an unpaid hold becomes EXPIRED and its seats return,
whatever process was killed (kill -9) meanwhile: the API that created it, the worker that was to
expire it. No seat is leaked, none is returned twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis

from app.platform.redis.client import Keys
from tests.faults.conftest import admin_headers, user_headers
from tests.faults.harness import PrivatePostgres, Stack, stack

TOTAL_SEATS = 20


@pytest.fixture
def running(postgres: PrivatePostgres) -> Iterator[Stack]:
    # HOLD_MINUTES=1: a real deadline the test can wait for; the reaper ticks every 0.5 s.
    with stack(postgres, HOLD_MINUTES="1", PENDING_TIMEOUT_SECONDS="2") as started:
        started.start_api()
        started.start_worker()
        yield started


def _flight(index: int, source: str, destination: str, days: int) -> dict[str, Any]:
    departure = (datetime.now(UTC) + timedelta(days=days, hours=index)).replace(microsecond=0)
    return {
        "flight_number": f"HC-{index}",
        "source": source,
        "destination": destination,
        "departure_ts": departure.isoformat(),
        "arrival_ts": (departure + timedelta(hours=2)).isoformat(),
        "total_seats": TOTAL_SEATS,
        "price": 3000,
    }


def _hold(http: httpx.Client, headers: dict[str, str], flights: list[str]) -> dict[str, Any]:
    body = {
        "slices": [{"flight_ids": [f]} for f in flights],
        "passengers": [
            {"given_name": "Asha", "family_name": "Rao", "born_on": "1985-04-02", "type": "adult"},
            {"given_name": "Ravi", "family_name": "Rao", "born_on": "1983-11-20", "type": "adult"},
        ],
        "contact": {"email": "asha@example.com"},
        "hold": True,
    }
    response = http.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == 201, response.text
    held: dict[str, Any] = response.json()
    return held


def _statuses(running: Stack, order_ids: list[str]) -> dict[str, str]:
    rows = running.sql(
        "SELECT id::text, status FROM orders WHERE id = ANY(%(ids)s::uuid[])", {"ids": order_ids}
    )
    return {row[0]: row[1] for row in rows}


def test_holds_expire_at_their_deadline_across_a_kill_9_of_the_worker_and_the_api(running: Stack) -> None:
    with httpx.Client(base_url=running.base_url, timeout=60) as http:
        admin = admin_headers(http, running)
        flights = []
        for index, (source, destination, days) in enumerate((("Delhi", "Mumbai", 3), ("Mumbai", "Delhi", 6))):
            response = http.post(
                "/admin/flights", json=_flight(index, source, destination, days), headers=admin
            )
            assert response.status_code == 201, response.text
            flights.append(response.json()["id"])
        traveller = user_headers(http)
        # Expired by its queued job (or the sweep) at its real deadline, a minute from now.
        on_time = [_hold(http, traveller, flights) for _ in range(2)]
        # Its deadline passes while no worker runs: the sweep of the restarted worker expires it.
        overdue = _hold(http, traveller, flights)
        # Paid before anything dies: never expired.
        paid = _hold(http, traveller, flights)
        assert http.post(f"/api/v1/orders/{paid['id']}/pay", headers=traveller).status_code == 200

    assert running.worker is not None and running.api is not None
    running.worker.kill()
    running.api.kill()
    running.sql(
        "UPDATE orders SET payment_required_by = now() - interval '1 second' WHERE id = %(id)s",
        {"id": overdue["id"]},
    )
    time.sleep(2)
    running.start_worker()
    running.start_api()

    ids = [o["id"] for o in (*on_time, overdue, paid)]
    deadline = max(datetime.fromisoformat(o["payment_required_by"]) for o in on_time)
    give_up = time.monotonic() + (deadline - datetime.now(UTC)).total_seconds() + 45
    while time.monotonic() < give_up:
        statuses = _statuses(running, ids)
        if statuses[overdue["id"]] == "EXPIRED" and all(statuses[o["id"]] == "EXPIRED" for o in on_time):
            break
        # Not before its deadline.
        for order in on_time:
            if statuses[order["id"]] == "EXPIRED":
                assert datetime.now(UTC) >= datetime.fromisoformat(order["payment_required_by"])
        time.sleep(0.5)
    statuses = _statuses(running, ids)
    assert statuses == {**{o["id"]: "EXPIRED" for o in (*on_time, overdue)}, paid["id"]: "CONFIRMED"}

    # The books: only the paid order's two seats are held, on each flight, in PostgreSQL and Redis.
    client = redis.Redis.from_url(running.redis.url)
    try:
        for flight_id in flights:
            held = running.sql(
                "SELECT COALESCE(SUM(seats), 0) FROM bookings WHERE flight_id = %(f)s "
                "AND status IN ('PENDING', 'CONFIRMED', 'HELD')",
                {"f": flight_id},
            )[0][0]
            assert held == 2
            counter = client.get(Keys("fdf").seats(flight_id))
            assert counter is None or int(counter) == TOTAL_SEATS - 2
    finally:
        client.close()
    expired_notices = running.sql(
        "SELECT order_id::text, count(*) FROM notifications WHERE kind = 'hold_expired' GROUP BY order_id"
    )
    assert sorted(expired_notices) == sorted((o["id"], 1) for o in (*on_time, overdue))
    assert running.unhandled_errors() == []
