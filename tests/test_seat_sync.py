"""Write-back of the Redis seat counts into flights.available_seats (the seed's seat_updates worker)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.context import AppContext
from app.flights.seat_sync import SeatSync
from app.flights.tasks import seat_sync_loop
from app.platform.context import ensure_epoch
from app.platform.metrics import SEAT_SYNC_DIRTY, SEAT_SYNC_LAG
from app.platform.redis.client import publish
from tests import infra
from tests.conftest import create_flight, make_settings
from tests.test_booking_support import wipe_redis


@pytest.fixture
async def worker_context(servers: infra.TestServers, context: AppContext) -> AsyncIterator[AppContext]:
    ctx = AppContext.create(make_settings(servers, seat_sync_interval_seconds=0.2), pool_size=3)
    yield ctx
    await ctx.close()


async def _stored(context: AppContext, flight_id: Any) -> int:
    async with context.engine.connect() as connection:
        value = await connection.scalar(
            text("SELECT available_seats FROM flights WHERE id = :id"), {"id": uuid.UUID(str(flight_id))}
        )
    return int(value)


async def _eventually(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def _book(client: httpx.AsyncClient, headers: dict[str, str], flight_id: str, seats: int) -> None:
    response = await client.post(
        "/api/v1/booking", json={"flight_id": flight_id, "seats": seats}, headers=headers
    )
    assert response.status_code == 201, response.text


async def test_counts_are_written_back_every_interval(
    worker_context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=40)
    stop = asyncio.Event()
    worker = asyncio.create_task(seat_sync_loop(worker_context, stop))
    try:
        await _book(client, user_headers, flight["id"], 3)
        await _eventually(lambda: _stored_is(worker_context, flight["id"], 37))
        # A flight published on seat_updates by anyone is picked up by the subscribed worker.
        await worker_context.redis.decrby(worker_context.keys.seats(flight["id"]), 1)
        await asyncio.sleep(0.1)  # the listener subscribes when the loop starts
        pipe = worker_context.redis.pipeline(transaction=False)
        publish(pipe, worker_context.settings.seat_updates_channel, flight["id"])
        await pipe.execute()
        await _eventually(lambda: _stored_is(worker_context, flight["id"], 36))
        last_run = float(await worker_context.redis.get(worker_context.keys.seat_sync_last_run))
        assert time.time() - last_run < 5
        assert SEAT_SYNC_DIRTY._value.get() == 0
        assert SEAT_SYNC_LAG._value.get() < 5
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=10)


async def _stored_is(context: AppContext, flight_id: str, expected: int) -> bool:
    return await _stored(context, flight_id) == expected


async def test_graceful_shutdown_flushes_the_dirty_flights(
    servers: infra.TestServers,
    context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=40)
    ctx = AppContext.create(make_settings(servers), pool_size=3)  # the seed's 12-hour interval
    try:
        stop = asyncio.Event()
        worker = asyncio.create_task(seat_sync_loop(ctx, stop))
        await _book(client, user_headers, flight["id"], 5)
        assert await ctx.redis.sismember(ctx.keys.seat_sync_dirty, flight["id"])
        assert await _stored(ctx, flight["id"]) == 40
        stop.set()
        await asyncio.wait_for(worker, timeout=10)
        assert await _stored(ctx, flight["id"]) == 35
    finally:
        await ctx.close()


async def test_after_redis_lost_its_data_every_flight_is_synced_from_rebuilt_counts(
    client: httpx.AsyncClient,
    context: AppContext,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    first = await create_flight(client, admin_headers, flight_number="AI-1", total_seats=30)
    second = await create_flight(client, admin_headers, flight_number="AI-2", total_seats=30)
    sync = SeatSync(context)
    await sync.run_once()
    await _book(client, user_headers, first["id"], 4)
    await _book(client, user_headers, second["id"], 2)
    # Redis loses everything, the dirty set and the epoch with it; an API restart starts a new epoch.
    await wipe_redis(context)
    await ensure_epoch(context)
    assert await sync.run_once() == 2
    assert await _stored(context, first["id"]) == 26
    assert await _stored(context, second["id"]) == 28
    # Never a stale figure: the counts came from PostgreSQL's bookings, and Redis has them again.
    assert int(await context.redis.get(context.keys.seats(first["id"]))) == 26


async def test_a_fresh_worker_on_an_empty_redis_syncs_everything(
    client: httpx.AsyncClient,
    context: AppContext,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=30)
    await _book(client, user_headers, flight["id"], 7)
    await wipe_redis(context)
    assert await SeatSync(context).run_once() == 1
    assert await _stored(context, flight["id"]) == 23
