"""POST /booking, GET /bookings, DELETE /bookings/{id} (contract: Booking)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.booking.payments import gateway_for
from app.context import AppContext
from app.platform.redis.client import subscribe
from tests import infra
from tests.conftest import create_flight, register_and_login
from tests.test_booking_support import (
    STRATEGIES,
    BookingApi,
    booking_api,
    counter,
    held,
    next_message,
    statuses,
)

BOOKING_FIELDS = {
    "id",
    "user_id",
    "flight_id",
    "seats",
    "status",
    "payment_ref",
    "created_at",
    "updated_at",
    "flight",
}


@pytest.fixture(params=STRATEGIES)
async def api(
    request: pytest.FixtureRequest, servers: infra.TestServers, context: AppContext
) -> AsyncIterator[BookingApi]:
    async with booking_api(servers, seat_reservation=request.param) as running:
        yield running


@pytest.fixture(params=STRATEGIES)
async def declining_api(
    request: pytest.FixtureRequest, servers: infra.TestServers, context: AppContext
) -> AsyncIterator[BookingApi]:
    async with booking_api(servers, seat_reservation=request.param, payment_success_rate=0.0) as running:
        yield running


async def test_booking_confirms_and_takes_the_seats(
    api: BookingApi, client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=10, price=4999.5)
    response = await api.book(user_headers, flight["id"], seats=3)
    assert response.status_code == 201, response.text
    booking = response.json()
    assert set(booking) == BOOKING_FIELDS
    assert booking["status"] == "CONFIRMED"
    assert booking["seats"] == 3
    assert booking["flight_id"] == flight["id"]
    assert booking["payment_ref"]
    assert booking["flight"]["available_seats"] == 7
    assert booking["flight"]["price"] == 4999.5
    me = (await client.get("/api/v1/auth/me", headers=user_headers)).json()
    assert booking["user_id"] == me["id"]
    assert await counter(api.context, flight["id"]) == 7
    assert await statuses(api.context, flight["id"]) == {"CONFIRMED": 1}
    # The payment was asked for with the booking id as its idempotency key.
    known = await gateway_for(api.context.settings).charge(Decimal("1"), idempotency_key=booking["id"])
    assert known.reference == booking["payment_ref"]


async def test_failed_payment_is_402_with_the_failed_booking_and_the_seats_back(
    declining_api: BookingApi,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=5)
    response = await declining_api.book(user_headers, flight["id"], seats=2)
    assert response.status_code == 402, response.text
    booking = response.json()
    assert set(booking) == BOOKING_FIELDS
    assert booking["status"] == "FAILED"
    assert booking["flight"]["available_seats"] == 5
    assert await counter(declining_api.context, flight["id"]) == 5
    assert await statuses(declining_api.context, flight["id"]) == {"FAILED": 1}
    # A FAILED booking is not cancellable.
    cancel = await declining_api.http.delete(f"/api/v1/bookings/{booking['id']}", headers=user_headers)
    assert cancel.status_code == 409


async def test_not_enough_seats_is_409_and_takes_nothing(
    api: BookingApi, client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=4)
    assert (await api.book(user_headers, flight["id"], seats=3)).status_code == 201
    too_many = await api.book(user_headers, flight["id"], seats=2)
    assert too_many.status_code == 409
    assert await counter(api.context, flight["id"]) == 1
    assert (await api.book(user_headers, flight["id"], seats=1)).status_code == 201
    assert (await api.book(user_headers, flight["id"], seats=1)).status_code == 409
    assert await held(api.context, flight["id"]) == 4


async def test_unknown_flight_is_404_and_departed_flight_is_409(
    api: BookingApi, client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    assert (await api.book(user_headers, uuid.uuid4())).status_code == 404
    gone = await create_flight(
        client, admin_headers, departure=(datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    )
    departed = await api.book(user_headers, gone["id"])
    assert departed.status_code == 409
    assert "departed" in departed.json()["detail"]
    assert await statuses(api.context, gone["id"]) == {}


def _bad_bodies() -> list[tuple[str, dict[str, Any]]]:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    return [
        ("zero seats", {"flight_id": a, "seats": 0}),
        ("ten seats", {"flight_id": a, "seats": 10}),
        ("text seats", {"flight_id": a, "seats": "two"}),
        ("fractional seats", {"flight_id": a, "seats": 1.5}),
        ("missing seats", {"flight_id": a}),
        ("neither flight_id nor flight_ids", {"seats": 1}),
        ("both flight_id and flight_ids", {"flight_id": a, "flight_ids": [b], "seats": 1}),
        ("empty itinerary", {"flight_ids": [], "seats": 1}),
        ("repeated leg", {"flight_ids": [a, a], "seats": 1}),
        ("four legs", {"flight_ids": [str(uuid.uuid4()) for _ in range(4)], "seats": 1}),
        ("malformed id", {"flight_id": "AI-202", "seats": 1}),
        ("null id", {"flight_id": None, "seats": 1}),
        ("unknown field", {"flight_id": a, "seats": 1, "class": "business"}),
    ]


@pytest.mark.parametrize(("case", "body"), _bad_bodies(), ids=[c for c, _ in _bad_bodies()])
async def test_invalid_requests_are_422(
    client: httpx.AsyncClient, user_headers: dict[str, str], case: str, body: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/booking", json=body, headers=user_headers)
    assert response.status_code == 422, case


async def test_booking_needs_a_valid_token(client: httpx.AsyncClient) -> None:
    body = {"flight_id": str(uuid.uuid4()), "seats": 1}
    assert (await client.post("/api/v1/booking", json=body)).status_code == 401
    assert (await client.get("/api/v1/bookings")).status_code == 401
    assert (await client.delete(f"/api/v1/bookings/{uuid.uuid4()}")).status_code == 401
    forged = {"Authorization": "Bearer not.a.token"}
    assert (await client.post("/api/v1/booking", json=body, headers=forged)).status_code == 401


async def test_list_shows_only_my_bookings_newest_first_with_their_flight(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    first = await create_flight(client, admin_headers, flight_number="AI-1", total_seats=9)
    second = await create_flight(client, admin_headers, flight_number="AI-2", total_seats=9)
    other_user = await register_and_login(client)
    ids = []
    for flight in (first, second, first):
        response = await client.post(
            "/api/v1/booking", json={"flight_id": flight["id"], "seats": 2}, headers=user_headers
        )
        ids.append(response.json()["id"])
    await client.post("/api/v1/booking", json={"flight_id": first["id"], "seats": 1}, headers=other_user)
    mine = (await client.get("/api/v1/bookings", headers=user_headers)).json()
    assert [b["id"] for b in mine] == list(reversed(ids))
    assert all(set(b) == BOOKING_FIELDS for b in mine)
    assert mine[0]["flight"]["flight_number"] == "AI-1"
    assert mine[0]["flight"]["available_seats"] == 9 - 2 - 2 - 1
    assert len((await client.get("/api/v1/bookings", headers=other_user)).json()) == 1
    page = (await client.get("/api/v1/bookings?limit=1&offset=1", headers=user_headers)).json()
    assert [b["id"] for b in page] == [ids[1]]
    assert (await client.get("/api/v1/bookings?limit=0", headers=user_headers)).status_code == 422


async def test_cancel_returns_the_seats_and_publishes_the_flight(
    api: BookingApi, client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=6)
    booking = (await api.book(user_headers, flight["id"], seats=4)).json()
    pubsub = await subscribe(api.context.redis, api.context.settings.seat_updates_channel)
    try:
        response = await api.http.delete(f"/api/v1/bookings/{booking['id']}", headers=user_headers)
        assert response.status_code == 200, response.text
        cancelled = response.json()
        assert set(cancelled) == BOOKING_FIELDS
        assert cancelled["status"] == "CANCELLED"
        assert cancelled["flight"]["available_seats"] == 6
        assert await next_message(pubsub) == flight["id"]
    finally:
        await pubsub.aclose()
    assert await counter(api.context, flight["id"]) == 6
    assert await api.context.redis.sismember(api.context.keys.seat_sync_dirty, flight["id"])
    again = await api.http.delete(f"/api/v1/bookings/{booking['id']}", headers=user_headers)
    assert again.status_code == 409
    assert await counter(api.context, flight["id"]) == 6


async def test_confirming_publishes_the_flight(
    client: httpx.AsyncClient,
    context: AppContext,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers)
    pubsub = await subscribe(context.redis, context.settings.seat_updates_channel)
    try:
        await client.post(
            "/api/v1/booking", json={"flight_id": flight["id"], "seats": 1}, headers=user_headers
        )
        assert await next_message(pubsub) == flight["id"]
    finally:
        await pubsub.aclose()


async def test_other_users_bookings_are_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    flight = await create_flight(client, admin_headers)
    booking = (
        await client.post(
            "/api/v1/booking", json={"flight_id": flight["id"], "seats": 1}, headers=user_headers
        )
    ).json()
    stranger = await register_and_login(client)
    assert (await client.delete(f"/api/v1/bookings/{booking['id']}", headers=stranger)).status_code == 404
    assert (await client.delete(f"/api/v1/bookings/{uuid.uuid4()}", headers=user_headers)).status_code == 404
    assert (await client.delete("/api/v1/bookings/not-a-uuid", headers=user_headers)).status_code == 422
    mine = (await client.get("/api/v1/bookings", headers=user_headers)).json()
    assert mine[0]["status"] == "CONFIRMED"


async def test_cancelling_after_departure_is_409(
    client: httpx.AsyncClient,
    context: AppContext,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers)
    booking = (
        await client.post(
            "/api/v1/booking", json={"flight_id": flight["id"], "seats": 1}, headers=user_headers
        )
    ).json()
    async with context.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE flights SET departure_ts = now() - interval '1 hour', "
                "arrival_ts = now() + interval '1 hour' WHERE id = :id"
            ),
            {"id": uuid.UUID(flight["id"])},
        )
    response = await client.delete(f"/api/v1/bookings/{booking['id']}", headers=user_headers)
    assert response.status_code == 409


async def test_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient,
    context: AppContext,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=9)
    body = {"flight_id": flight["id"], "seats": 2}
    headers = {**user_headers, "Idempotency-Key": "order-42"}
    first = await client.post("/api/v1/booking", json=body, headers=headers)
    again = await client.post("/api/v1/booking", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await held(context, flight["id"]) == 2
    other_body = await client.post("/api/v1/booking", json={**body, "seats": 3}, headers=headers)
    assert other_body.status_code == 422
    # Keys belong to a user: another user's same key is a new request.
    stranger = {**(await register_and_login(client)), "Idempotency-Key": "order-42"}
    assert (await client.post("/api/v1/booking", json=body, headers=stranger)).json()["id"] != first.json()[
        "id"
    ]
    # The first answer, even after the booking changed.
    await client.delete(f"/api/v1/bookings/{first.json()['id']}", headers=user_headers)
    assert (await client.post("/api/v1/booking", json=body, headers=headers)).json()["status"] == "CONFIRMED"
    too_long = {**user_headers, "Idempotency-Key": "k" * 300}
    assert (await client.post("/api/v1/booking", json=body, headers=too_long)).status_code == 422


async def test_concurrent_repeats_of_one_key_book_once(
    client: httpx.AsyncClient,
    context: AppContext,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=50)
    headers = {**user_headers, "Idempotency-Key": "double-click"}
    body = {"flight_id": flight["id"], "seats": 1}
    responses = await asyncio.gather(
        *(client.post("/api/v1/booking", json=body, headers=headers) for _ in range(8))
    )
    codes = sorted(r.status_code for r in responses)
    assert set(codes) <= {201, 409}, codes
    assert {r.json()["id"] for r in responses if r.status_code == 201} == {
        next(r.json()["id"] for r in responses if r.status_code == 201)
    }
    assert await held(context, flight["id"]) == 1
    assert await counter(context, flight["id"]) == 49


async def test_idempotent_replay_of_a_failed_payment_is_402(
    declining_api: BookingApi,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
) -> None:
    flight = await create_flight(client, admin_headers)
    headers = {**user_headers, "Idempotency-Key": "failing"}
    first = await declining_api.book(headers, flight["id"])
    again = await declining_api.book(headers, flight["id"])
    assert first.status_code == again.status_code == 402
    assert first.json() == again.json()
    assert await statuses(declining_api.context, flight["id"]) == {"FAILED": 1}
