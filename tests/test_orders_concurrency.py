"""Orders racing for the last seats across slices: never oversold, each order all or nothing."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.context import AppContext
from tests import infra
from tests.conftest import create_flight, register_and_login
from tests.order_helpers import DAY, adult, counter, order_body, order_rows, seat_rows
from tests.test_booking_support import STRATEGIES, BookingApi, booking_api

SEATS = 5
ORDERS = 50


@pytest.fixture(params=STRATEGIES)
async def api(
    request: pytest.FixtureRequest, servers: infra.TestServers, context: AppContext
) -> AsyncIterator[BookingApi]:
    async with booking_api(servers, seat_reservation=request.param) as running:
        yield running


async def test_orders_racing_for_the_last_seats_across_slices_never_oversell_and_hold_all_or_nothing(
    api: BookingApi, client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    # Three flights three days apart; every order takes two of them (two slices), 1-2 seats each.
    flights = [
        await create_flight(
            client,
            admin_headers,
            flight_number=f"RC-{i}",
            source=("Delhi", "Mumbai", "Goa")[i],
            destination=("Mumbai", "Goa", "Delhi")[i],
            departure=DAY + timedelta(days=3 * i),
            total_seats=SEATS,
        )
        for i in range(3)
    ]
    pairs = [(0, 1), (1, 2), (0, 2)]
    # One at a time: the process bounds the password hashes it computes at once.
    travellers = [await register_and_login(api.http) for _ in range(5)]
    rng = random.Random(15)
    plans = []
    for _ in range(ORDERS):
        first, second = rng.choice(pairs)
        people = [adult(given="Ravi" if k else "Asha") for k in range(rng.randint(1, 2))]
        plans.append(([[flights[first]["id"]], [flights[second]["id"]]], people, rng.random() < 0.3))

    async def place(plan: Any, headers: dict[str, str]) -> httpx.Response:
        slices, people, hold = plan
        return await api.http.post(
            "/api/v1/orders", json=order_body(slices, people, hold=hold), headers=headers
        )

    responses = await asyncio.gather(*(place(plan, travellers[i % 5]) for i, plan in enumerate(plans)))
    codes = Counter(r.status_code for r in responses)
    assert set(codes) <= {201, 409}, codes
    assert codes[201] >= 2
    sold: Counter[str] = Counter()
    for response, (slices, people, _) in zip(responses, plans, strict=True):
        if response.status_code != 201:
            continue
        order = response.json()
        rows = await order_rows(context, order["id"])
        # All or nothing: a row on every flight of every slice, each holding every seated passenger.
        assert [(r[1], r[2]) for r in rows] == [(len(people), 0), (len(people), 1)]
        assert {r[0] for r in rows} == {"HELD" if order["status"] == "HELD" else "CONFIRMED"}
        for part in slices:
            sold[part[0]] += len(people)
    async with context.engine.connect() as connection:
        stray = await connection.exec_driver_sql(
            "SELECT count(*) FROM bookings b JOIN orders o ON o.id = b.order_id WHERE o.status IN ('FAILED')"
        )
        assert stray.scalar_one() == 0
    for flight in flights:
        taken = await seat_rows(context, flight["id"])
        assert taken == sold[flight["id"]] <= SEATS
        assert await counter(context, flight["id"]) == SEATS - taken
    # The books also read right through the seed's table: no row without its order.
    async with context.engine.connect() as connection:
        orphans = await connection.exec_driver_sql(
            "SELECT count(*) FROM bookings WHERE order_id IS NOT NULL "
            "AND order_id NOT IN (SELECT id FROM orders)"
        )
        assert orphans.scalar_one() == 0
