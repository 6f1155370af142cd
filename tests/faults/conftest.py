"""Fault tests run real processes and take minutes: `make test-faults` (CI runs it after `make test`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.faults.harness import PrivatePostgres, Stack, private_postgres

if os.environ.get("FLIGHTDESK_FAULT_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PrivatePostgres]:
    with private_postgres() as running:
        yield running


@pytest.fixture(autouse=True)
def clean_state() -> None:
    """Overrides the in-process suite's table cleaner: each fault test has its own database."""


def register(http: httpx.Client, username: str | None = None, password: str = "kite-river9") -> str:
    username = username or f"u_{uuid.uuid4().hex[:10]}"
    response = http.post("/api/v1/auth/register", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    return username


def login(http: httpx.Client, username: str, password: str = "kite-river9") -> dict[str, str]:
    response = http.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def user_headers(http: httpx.Client) -> dict[str, str]:
    return login(http, register(http))


def admin_headers(http: httpx.Client, running: Stack) -> dict[str, str]:
    username = register(http, f"admin_{uuid.uuid4().hex[:8]}")
    running.sql("UPDATE users SET is_admin = true WHERE username = %(u)s", {"u": username})
    return login(http, username)


def flight_payload(
    index: int, *, total_seats: int = 50, source: str = "Delhi", dest: str = "Mumbai"
) -> dict[str, Any]:
    departure = (datetime.now(UTC) + timedelta(days=3, hours=index)).replace(microsecond=0)
    return {
        "flight_number": f"FT-{index:04d}",
        "source": source,
        "destination": dest,
        "departure_ts": departure.isoformat(),
        "arrival_ts": (departure + timedelta(hours=2)).isoformat(),
        "total_seats": total_seats,
        "price": 1000 + index,
    }
