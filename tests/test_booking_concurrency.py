"""Seats are never oversold: many users racing for the last seats, with either strategy."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import text

from app.booking import reservation
from app.context import AppContext
from app.flights.seat_sync import SeatSync
from tests import infra
from tests.conftest import create_flight
from tests.test_booking_support import STRATEGIES, booking_api, counter, held, statuses, users

ATTEMPTS = 200
SEATS = 25


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_200_attempts_on_25_seats_sell_exactly_25(
    strategy: str,
    servers: infra.TestServers,
    context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=SEATS)
    buyers = await users(client, 8)
    async with booking_api(servers, seat_reservation=strategy) as api:
        responses = await asyncio.gather(
            *(api.book(buyers[i % len(buyers)], flight["id"], seats=1) for i in range(ATTEMPTS))
        )
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: SEATS, 409: ATTEMPTS - SEATS}, codes
    # The books add up: Redis, the bookings table, and available_seats once written back.
    assert await counter(context, flight["id"]) == 0
    assert await held(context, flight["id"]) == SEATS
    assert await statuses(context, flight["id"]) == {"CONFIRMED": SEATS}
    await SeatSync(context).run_once()
    async with context.engine.connect() as connection:
        stored = await connection.scalar(
            text("SELECT available_seats FROM flights WHERE id = :id"), {"id": flight["id"]}
        )
    assert stored == 0


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_mixed_party_sizes_cancellations_and_failed_payments_keep_the_books(
    strategy: str,
    servers: infra.TestServers,
    context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=SEATS)
    buyers = await users(client, 6)
    rng = random.Random(7)
    async with booking_api(servers, seat_reservation=strategy, payment_success_rate=0.7) as api:

        async def attempt(i: int) -> int:
            headers = buyers[i % len(buyers)]
            response = await api.book(headers, flight["id"], seats=rng.randint(1, 4))
            if response.status_code == 201 and i % 3 == 0:
                cancel = await api.http.delete(f"/api/v1/bookings/{response.json()['id']}", headers=headers)
                assert cancel.status_code == 200
            return response.status_code

        codes = Counter(await asyncio.gather(*(attempt(i) for i in range(120))))
    assert set(codes) <= {201, 402, 409}, codes
    seats_held = await held(context, flight["id"])
    assert seats_held <= SEATS
    assert await counter(context, flight["id"]) == SEATS - seats_held


async def test_lock_watch_waiters_leave_with_409_once_the_flight_sells_out_and_503_after_the_wait(
    context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=5)
    flight_id = uuid.UUID(flight["id"])
    await context.inventory.rebuild([flight_id])
    strategy = reservation.LockWatchStrategy(context.redis, context.keys)
    holder = context.redis.lock(context.keys.flight_lock(flight_id), timeout=30)
    assert await holder.acquire()
    try:
        monkeypatch.setattr(reservation, "LOCK_WAIT_SECONDS", 0.3)
        with pytest.raises(reservation.ServiceUnavailable):  # the lock never came free
            await strategy.reserve(flight_id, 1)
        monkeypatch.setattr(reservation, "LOCK_WAIT_SECONDS", 30.0)
        waiting = asyncio.ensure_future(strategy.reserve(flight_id, 1))
        await asyncio.sleep(0.05)
        await context.redis.set(context.keys.seats(flight_id), 0)  # sold out by someone else
        with pytest.raises(reservation.SoldOut):
            await asyncio.wait_for(waiting, timeout=2)  # not after the holder's 30 s
    finally:
        await holder.release()
