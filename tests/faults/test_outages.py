"""Contract (Health, General): a backing service down means 503 with Retry-After, never 500, and the
API recovers by itself once the service is back — no restart of the API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.faults.conftest import admin_headers, flight_payload, user_headers
from tests.faults.harness import PrivatePostgres, Stack, stack


@pytest.fixture
def running(postgres: PrivatePostgres) -> Iterator[Stack]:
    with stack(postgres) as started:
        started.start_api()
        yield started
        assert started.unhandled_errors() == []


def wait_ready(http: httpx.Client, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http.get("/readyz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the API did not become ready again")


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.request.url, response.status_code, response.text)
    if response.request.url.path != "/readyz":
        assert response.headers.get("retry-after") == "1"
        assert "detail" in response.json()


def test_redis_killed_gives_503_then_recovers_from_postgres(running: Stack) -> None:
    with httpx.Client(base_url=running.base_url, timeout=30) as http:
        admin = admin_headers(http, running)
        user = user_headers(http)
        created = [
            http.post("/admin/flights", json=flight_payload(i, total_seats=40), headers=admin).json()
            for i in range(3)
        ]
        # Seats sold straight in PostgreSQL: the rebuilt counters must come from bookings, not from
        # the stale flights.available_seats column.
        user_id = http.get("/api/v1/auth/me", headers=user).json()["id"]
        running.sql(
            "INSERT INTO bookings (id, user_id, flight_id, seats, status, created_at, updated_at) "
            "VALUES (gen_random_uuid(), %(u)s, %(f)s, 7, 'CONFIRMED', now(), now())",
            {"u": user_id, "f": created[0]["id"]},
        )

        running.redis.kill()
        assert_unavailable(http.get("/readyz"))
        assert http.get("/readyz").json()["redis"] == "down"
        for response in (
            http.get("/admin/flights", headers=admin),
            http.get(f"/admin/flights/{created[0]['id']}", headers=admin),
            http.get("/api/v1/airports"),
            http.put(
                f"/admin/flights/{created[1]['id']}", json=flight_payload(1, total_seats=45), headers=admin
            ),
        ):
            assert_unavailable(response)
        # Endpoints that need only PostgreSQL keep working.
        assert http.get("/api/v1/auth/me", headers=user).status_code == 200

        running.redis.start()
        wait_ready(http)
        seats = {
            f["id"]: f["available_seats"] for f in http.get("/admin/flights", headers=admin).json()["items"]
        }
        assert seats == {created[0]["id"]: 33, created[1]["id"]: 40, created[2]["id"]: 40}
        assert http.get("/api/v1/airports").json() == ["Delhi", "Mumbai"]


def test_postgres_stopped_gives_503_then_recovers_without_restarting_the_api(
    running: Stack, postgres: PrivatePostgres
) -> None:
    with httpx.Client(base_url=running.base_url, timeout=30) as http:
        admin = admin_headers(http, running)
        flight = http.post("/admin/flights", json=flight_payload(0), headers=admin).json()
        assert http.get(f"/admin/flights/{flight['id']}", headers=admin).status_code == 200

        postgres.stop()
        try:
            assert_unavailable(http.get("/readyz"))
            assert http.get("/readyz").json()["postgres"] == "down"
            for response in (
                http.get(f"/admin/flights/{flight['id']}", headers=admin),
                http.get("/admin/flights", headers=admin),
                http.get("/api/v1/auth/me", headers=admin),
                http.post("/api/v1/auth/register", json={"username": "late_one", "password": "kite-river9"}),
                http.post("/api/v1/auth/token", data={"username": "late_one", "password": "kite-river9"}),
                http.post("/admin/flights", json=flight_payload(9), headers=admin),
            ):
                assert_unavailable(response)
        finally:
            postgres.start()

        wait_ready(http)
        assert http.get(f"/admin/flights/{flight['id']}", headers=admin).json()["available_seats"] == 50
        assert http.post("/admin/flights", json=flight_payload(9), headers=admin).status_code == 201
        assert http.get("/admin/flights", headers=admin).json()["total"] == 2


def test_postgres_frozen_makes_readyz_503_quickly_and_the_api_recovers(
    running: Stack, postgres: PrivatePostgres
) -> None:
    """A hung database (SIGSTOP: accepts nothing, answers nothing) must not hang readiness probes."""
    with httpx.Client(base_url=running.base_url, timeout=30) as http:
        admin = admin_headers(http, running)
        flight = http.post("/admin/flights", json=flight_payload(0), headers=admin).json()
        postgres.freeze()
        try:
            started = time.monotonic()
            assert_unavailable(http.get("/readyz"))
            # The probe's own 2 s budget, with slack for a loaded CI machine.
            assert time.monotonic() - started < 10
            # Data endpoints give up after DB_COMMAND_TIMEOUT_SECONDS instead of hanging forever.
            assert_unavailable(http.get(f"/admin/flights/{flight['id']}", headers=admin))
            assert_unavailable(http.get("/api/v1/auth/me", headers=admin))
        finally:
            postgres.thaw()
        wait_ready(http)
        assert http.get(f"/admin/flights/{flight['id']}", headers=admin).status_code == 200
