"""Helpers shared by the booking tests (no tests here).

``booking_api`` runs the real app with its own settings (strategy, payment outcome) against the
run's PostgreSQL and Redis, with a small connection pool: the machine's PostgreSQL is shared.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text

from app.accounts.rate_limit import RateLimits
from app.context import AppContext
from app.main import create_app
from app.platform.redis import client as redis_client
from tests import infra
from tests.conftest import make_settings, register_and_login

STRATEGIES = ["lua", "lock-watch"]


@dataclass
class BookingApi:
    http: httpx.AsyncClient
    context: AppContext

    async def book(
        self, headers: dict[str, str], flight_id: Any, seats: int = 1, **extra: Any
    ) -> httpx.Response:
        body: dict[str, Any] = {"flight_id": str(flight_id), "seats": seats}
        return await self.http.post("/api/v1/booking", json=body, headers=headers, **extra)

    async def book_legs(
        self, headers: dict[str, str], flight_ids: list[Any], seats: int = 1
    ) -> httpx.Response:
        body = {"flight_ids": [str(f) for f in flight_ids], "seats": seats}
        return await self.http.post("/api/v1/booking", json=body, headers=headers)


@asynccontextmanager
async def booking_api(servers: infra.TestServers, **overrides: Any) -> AsyncIterator[BookingApi]:
    settings = make_settings(servers, **overrides)
    application = create_app(settings)
    context = AppContext.create(settings, pool_size=6)
    application.state.context = context
    application.state.rate_limits = RateLimits(settings)
    transport = httpx.ASGITransport(app=application)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://booking", timeout=60) as http:
            yield BookingApi(http, context)
    finally:
        await context.close()


async def users(client: httpx.AsyncClient, count: int) -> list[dict[str, str]]:
    return list(await asyncio.gather(*(register_and_login(client) for _ in range(count))))


async def counter(context: AppContext, flight_id: Any) -> int | None:
    value = await context.redis.get(context.keys.seats(str(flight_id)))
    return None if value is None else int(value)


async def held(context: AppContext, flight_id: Any) -> int:
    """Seats of PENDING and CONFIRMED bookings: never more than total_seats."""
    async with context.engine.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT COALESCE(SUM(seats), 0) FROM bookings "
                "WHERE flight_id = :id AND status IN ('PENDING', 'CONFIRMED')"
            ),
            {"id": uuid.UUID(str(flight_id))},
        )
        return int(result.scalar_one())


async def statuses(context: AppContext, flight_id: Any) -> dict[str, int]:
    async with context.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT status, COUNT(*) FROM bookings WHERE flight_id = :id GROUP BY status"),
            {"id": uuid.UUID(str(flight_id))},
        )
        return {status: int(n) for status, n in rows}


async def wipe_redis(context: AppContext) -> None:
    """Redis lost everything: every key of this run (never FLUSHALL: the server is shared)."""
    keys = [key async for key in context.redis.scan_iter(match=context.keys.pattern(), count=1000)]
    if keys:
        await context.redis.delete(*keys)


async def next_message(pubsub: Any, timeout: float = 5.0) -> str | None:
    """The next published message's data (subscribe confirmations skipped), or None after timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (left := deadline - loop.time()) > 0:
        message = await redis_client.next_message(pubsub, wait_seconds=left)
        if message is not None and message.get("type") in ("message", "smessage"):
            data = message["data"]
            return data.decode() if isinstance(data, bytes) else str(data)
    return None
