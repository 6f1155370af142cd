"""Connecting itineraries: all legs or none, one payment, one group, cancelled together."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.context import AppContext
from tests import infra
from tests.conftest import create_flight
from tests.test_booking_support import STRATEGIES, BookingApi, booking_api, counter, held, statuses, users

DAY = (datetime.now(UTC) + timedelta(days=10)).replace(hour=6, minute=0, second=0, microsecond=0)


@pytest.fixture(params=STRATEGIES)
async def api(
    request: pytest.FixtureRequest, servers: infra.TestServers, context: AppContext
) -> AsyncIterator[BookingApi]:
    async with booking_api(servers, seat_reservation=request.param) as running:
        yield running


async def _trip(
    client: httpx.AsyncClient, admin_headers: dict[str, str], *, seats: tuple[int, int] = (10, 10)
) -> list[dict[str, Any]]:
    """Delhi -> Mumbai (2 h) then Mumbai -> Goa an hour after landing."""
    first = await create_flight(
        client,
        admin_headers,
        flight_number="AI-1",
        source="Delhi",
        destination="Mumbai",
        departure=DAY,
        total_seats=seats[0],
        price=5000,
    )
    second = await create_flight(
        client,
        admin_headers,
        flight_number="AI-2",
        source="Mumbai",
        destination="Goa",
        departure=DAY + timedelta(hours=3),
        total_seats=seats[1],
        price=2500.25,
    )
    return [first, second]


async def test_itinerary_books_every_leg_under_one_group(
    api: BookingApi, client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    legs = await _trip(client, admin_headers)
    response = await api.book_legs(user_headers, [leg["id"] for leg in legs], seats=2)
    assert response.status_code == 201, response.text
    group = response.json()
    assert set(group) == {"group_id", "status", "total_price", "bookings"}
    assert group["status"] == "CONFIRMED"
    assert group["total_price"] == 2 * (5000 + 2500.25)
    assert [b["flight_id"] for b in group["bookings"]] == [leg["id"] for leg in legs]
    assert all(b["status"] == "CONFIRMED" for b in group["bookings"])
    # One payment for the whole itinerary.
    assert len({b["payment_ref"] for b in group["bookings"]}) == 1
    assert [b["flight"]["available_seats"] for b in group["bookings"]] == [8, 8]
    for leg in legs:
        assert await counter(api.context, leg["id"]) == 8


async def test_itinerary_with_a_sold_out_leg_books_nothing(
    api: BookingApi, client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    legs = await _trip(client, admin_headers, seats=(10, 1))
    # Legs are reserved in id order: whichever leg comes first, the one taken is given back.
    response = await api.book_legs(user_headers, [leg["id"] for leg in legs], seats=2)
    assert response.status_code == 409
    for leg, total in zip(legs, (10, 1), strict=True):
        assert await counter(api.context, leg["id"]) == total
        assert await statuses(api.context, leg["id"]) == {}


async def test_itinerary_payment_failure_fails_every_leg(
    servers: infra.TestServers,
    context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    legs = await _trip(client, admin_headers)
    async with booking_api(servers, payment_success_rate=0.0) as declining:
        response = await declining.book_legs(user_headers, [leg["id"] for leg in legs], seats=3)
    assert response.status_code == 402
    assert response.json()["status"] == "FAILED"
    assert [b["status"] for b in response.json()["bookings"]] == ["FAILED", "FAILED"]
    for leg in legs:
        assert await counter(context, leg["id"]) == 10
        assert await held(context, leg["id"]) == 0


async def test_cancelling_one_leg_cancels_the_itinerary(
    api: BookingApi, client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    legs = await _trip(client, admin_headers)
    group = (await api.book_legs(user_headers, [leg["id"] for leg in legs], seats=4)).json()
    second_leg = group["bookings"][1]
    response = await api.http.delete(f"/api/v1/bookings/{second_leg['id']}", headers=user_headers)
    assert response.status_code == 200
    assert response.json()["id"] == second_leg["id"]
    assert response.json()["status"] == "CANCELLED"
    mine = (await api.http.get("/api/v1/bookings", headers=user_headers)).json()
    assert {b["status"] for b in mine} == {"CANCELLED"}
    for leg in legs:
        assert await counter(api.context, leg["id"]) == 10
    first_leg = group["bookings"][0]
    assert (
        await api.http.delete(f"/api/v1/bookings/{first_leg['id']}", headers=user_headers)
    ).status_code == 409


async def test_legs_that_do_not_connect_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    first, second = await _trip(client, admin_headers)
    tight = await create_flight(
        client,
        admin_headers,
        flight_number="AI-3",
        source="Mumbai",
        destination="Pune",
        departure=DAY + timedelta(hours=2, minutes=10),
    )
    back_home = await create_flight(
        client,
        admin_headers,
        flight_number="AI-4",
        source="Goa",
        destination="Delhi",
        departure=DAY + timedelta(hours=8),
    )
    cases = {
        "reverse order": [second["id"], first["id"]],
        "connection shorter than MIN_CONNECTION_MINUTES": [first["id"], tight["id"]],
        "airport visited twice": [first["id"], second["id"], back_home["id"]],
        "gap between airports": [first["id"], back_home["id"]],
    }
    for case, ids in cases.items():
        response = await client.post(
            "/api/v1/booking", json={"flight_ids": ids, "seats": 1}, headers=user_headers
        )
        assert response.status_code == 422, case
    unknown = await client.post(
        "/api/v1/booking",
        json={"flight_ids": [first["id"], str(uuid.uuid4())], "seats": 1},
        headers=user_headers,
    )
    assert unknown.status_code == 404


async def test_an_itinerary_refused_as_invalid_never_holds_seats_a_genuine_booking_needs(
    api: BookingApi, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    seats = 4
    first, second = await _trip(client, admin_headers, seats=(seats, seats))
    travellers = await users(client, seats + 1)
    spammer, genuine = travellers[0], travellers[1:]
    invalid = [
        [second["id"], first["id"]],  # reverse order: 422
        [first["id"], str(uuid.uuid4())],  # an unknown leg: 404
    ]
    refused: list[int] = []
    started = 0  # genuine bookings sent so far
    shortfalls: list[int] = []  # seats missing from the counter that no genuine booking took

    async def invalid_stream() -> None:
        for n in range(30):
            refused.append((await api.book_legs(spammer, invalid[n % 2], seats=seats)).status_code)

    async def watch_counter() -> None:
        while len(refused) < 6 * 30:
            left = await counter(api.context, first["id"])
            if left is not None and left < seats - started:  # `started` read after the counter
                shortfalls.append(seats - started - left)
            await asyncio.sleep(0)

    async def genuine_booking(position: int, headers: dict[str, str]) -> int:
        nonlocal started
        while len(refused) < 30 * position:  # sent in the middle of the stream, not before or after it
            await asyncio.sleep(0.001)
        started += 1
        return (await api.book(headers, first["id"], seats=1)).status_code

    _, _, booked = await asyncio.gather(
        asyncio.gather(*(invalid_stream() for _ in range(6))),
        watch_counter(),
        asyncio.gather(*(genuine_booking(n, headers) for n, headers in enumerate(genuine, 1))),
    )
    assert set(refused) == {422, 404}
    # Every seat was free for the genuine travellers: none of them saw a 409.
    assert booked == [201] * seats
    assert shortfalls == []
    assert await counter(api.context, first["id"]) == 0
    assert await held(api.context, first["id"]) == seats
    assert await counter(api.context, second["id"]) == seats
    assert await held(api.context, second["id"]) == 0
