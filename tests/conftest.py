"""Shared fixtures: one database and Redis key space per run, clean tables for every test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.cli import migrate
from app.context import AppContext
from app.main import create_app
from app.platform.config import Settings
from tests.infra import TestServers, test_servers

TABLES_TO_EMPTY = (
    "notifications",
    "order_passengers",
    "idempotency_keys",
    "bookings",
    "orders",
    "bulk_job_chunks",
    "bulk_jobs",
    "flights",
    "users",
)


@pytest.fixture(scope="session")
def servers() -> Iterator[TestServers]:
    with test_servers() as running:
        migrate(running.database_url)
        yield running


def make_settings(servers: TestServers, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": servers.database_url,
        "redis_url": servers.redis_url,
        "redis_cluster": servers.redis_cluster,
        "redis_key_prefix": servers.redis_prefix,
        "seat_updates_channel": f"{servers.redis_prefix}:seat_updates",
        "jwt_secret": "test-secret-" + "x" * 40,
        "payment_latency_ms": 0,
        "payment_success_rate": 1.0,
        "demo_data": False,
        "login_rate_limit": "0",
        "login_client_rate_limit": "0",
        "register_rate_limit": "0",
        # Tests register many users at once on a shared, loaded machine: wait for a hashing slot
        # rather than answer 429 (tests/test_login_abuse.py sets its own bound).
        "password_hash_wait_seconds": 120.0,
        "frontend_dist": "/nonexistent",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(servers: TestServers) -> Settings:
    return make_settings(servers)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def context(app: FastAPI) -> AppContext:
    ctx: AppContext = app.state.context
    return ctx


@pytest.fixture(autouse=True)
async def clean_state(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test starts with empty tables (airports keep their seed rows) and an empty key space."""
    yield
    if "context" not in request.fixturenames and "app" not in request.fixturenames:
        return
    ctx: AppContext = request.getfixturevalue("context")
    async with ctx.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {', '.join(TABLES_TO_EMPTY)} CASCADE"))
        await connection.execute(text("DELETE FROM airports WHERE timezone <> 'Asia/Kolkata'"))
    keys = [key async for key in ctx.redis.scan_iter(match=ctx.keys.pattern(), count=1000)]
    if keys:
        await ctx.redis.delete(*keys)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def register_and_login(
    client: httpx.AsyncClient, username: str | None = None, password: str = "kite-river9"
) -> dict[str, str]:
    username = username or f"user_{uuid.uuid4().hex[:10]}"
    response = await client.post("/api/v1/auth/register", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    response = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def user_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return await register_and_login(client)


@pytest.fixture
async def admin_headers(client: httpx.AsyncClient, context: AppContext) -> dict[str, str]:
    username = f"admin_{uuid.uuid4().hex[:8]}"
    await register_and_login(client, username)
    async with context.engine.begin() as connection:
        # The seed's way of making an admin: plain SQL on the users table.
        await connection.execute(
            text("UPDATE users SET is_admin = true WHERE username = :u"), {"u": username}
        )
    response = await client.post("/api/v1/auth/token", data={"username": username, "password": "kite-river9"})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def flight_body(
    *,
    flight_number: str = "AI-202",
    source: str = "Delhi",
    destination: str = "Mumbai",
    departure: datetime | None = None,
    duration_minutes: int = 120,
    total_seats: int = 150,
    price: float = 7500.00,
) -> dict[str, Any]:
    departure = departure or (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    return {
        "flight_number": flight_number,
        "source": source,
        "destination": destination,
        "departure_ts": departure.isoformat(),
        "arrival_ts": (departure + timedelta(minutes=duration_minutes)).isoformat(),
        "total_seats": total_seats,
        "price": price,
    }


async def create_flight(
    client: httpx.AsyncClient, admin_headers: dict[str, str], **kwargs: Any
) -> dict[str, Any]:
    response = await client.post("/admin/flights", json=flight_body(**kwargs), headers=admin_headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
