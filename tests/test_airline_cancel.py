"""Airline cancellations (contract: Operations): the flight stays as a record, leaves search and
booking at once, every order on it is cancelled with a full refund and its seats return, safely
against bookings racing it."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import text

from app.context import AppContext
from tests import infra
from tests.conftest import create_flight, register_and_login
from tests.operations_support import (
    Passenger,
    insert_order,
    notifications_of,
    order_row,
    seat_holding,
    user_id,
)
from tests.test_booking_support import booking_api, counter

DAY = (datetime.now(UTC) + timedelta(days=5)).replace(hour=6, minute=0, second=0, microsecond=0)


async def test_an_airline_cancel_cancels_every_order_on_it_with_a_full_refund_and_returns_all_seats(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    first = await create_flight(client, admin_headers, flight_number="AI-1", total_seats=20, departure=DAY)
    onward = await create_flight(
        client,
        admin_headers,
        flight_number="AI-2",
        source="Mumbai",
        destination="Goa",
        total_seats=10,
        departure=DAY + timedelta(hours=3),
    )
    owner = await user_id(client, user_headers)
    family = [
        Passenger(),
        Passenger(given_name="Ravi"),
        Passenger(given_name="Mira", born_on=datetime.now(UTC).date() - timedelta(days=300), type="infant"),
    ]
    paid = await insert_order(
        context,
        owner,
        [(first["id"], 0, 0), (onward["id"], 0, 1)],
        passengers=family,
        email="rao@example.com",
    )
    held = await insert_order(context, owner, [(first["id"], 0, 0)], status="HELD", email="hold@example.com")
    plain = await client.post(
        "/api/v1/booking", json={"flight_id": first["id"], "seats": 3}, headers=user_headers
    )
    assert plain.status_code == 201, plain.text
    assert await counter(context, first["id"]) == 20 - 2 - 1 - 3
    assert await counter(context, onward["id"]) == 10 - 2

    impact = await client.get(f"/admin/flights/{first['id']}/cancellation-impact", headers=admin_headers)
    assert impact.status_code == 200
    assert impact.json() == {
        "orders": 2,
        "bookings": 4,
        "passengers": 3 + 1 + 3,
        "refund_total": 400.0 + 7500 * 3,
    }

    response = await client.post(f"/admin/flights/{first['id']}/cancel", headers=admin_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["flight"]["status"] == "CANCELLED"
    assert body["flight"]["available_seats"] == 20
    assert (body["orders_cancelled"], body["bookings_cancelled"], body["changed"]) == (2, 4, True)
    assert body["refund_total"] == 400.0 + 7500 * 3

    paid_row, held_row = await order_row(context, paid["id"]), await order_row(context, held["id"])
    assert (paid_row.status, paid_row.cancelled_by, paid_row.refund_amount) == (
        "CANCELLED",
        "airline",
        Decimal("400.00"),
    )
    # Nothing was paid for a hold: nothing to refund.
    assert (held_row.status, held_row.refund_amount) == ("CANCELLED", Decimal("0.00"))
    assert await seat_holding(context, first["id"]) == 0
    assert await seat_holding(context, onward["id"]) == 0
    assert await counter(context, first["id"]) == 20
    assert await counter(context, onward["id"]) == 10

    notes = await notifications_of(context, owner)
    assert Counter(n.kind for n in notes) == {"flight_cancelled": 3}
    by_order = {n.order_id: n for n in notes}
    assert paid["reference"] in by_order[paid["id"]].subject
    assert by_order[paid["id"]].email_to == "rao@example.com"
    assert by_order[None].email_to is None
    # No SMTP_URL in this suite: shown in the app only.
    assert {n.email_state for n in notes} == {"none"}

    # The flight stays a record, in the admin list with its status.
    listed = await client.get("/admin/flights", params={"status": "CANCELLED"}, headers=admin_headers)
    assert [f["id"] for f in listed.json()["items"]] == [first["id"]]
    # The traveller's booking history still shows it, cancelled.
    mine = (await client.get("/api/v1/bookings", headers=user_headers)).json()
    shown = {b["id"]: (b["status"], b["flight"]["status"]) for b in mine}
    assert shown[plain.json()["id"]] == ("CANCELLED", "CANCELLED")
    assert {status for status, _ in shown.values()} == {"CANCELLED"}


async def test_cancelling_twice_answers_200_with_nothing_done_and_an_unknown_flight_is_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    flight = await create_flight(client, admin_headers)
    assert (
        await client.post(f"/admin/flights/{flight['id']}/cancel", headers=admin_headers)
    ).status_code == 200
    again = await client.post(f"/admin/flights/{flight['id']}/cancel", headers=admin_headers)
    assert again.status_code == 200
    assert (again.json()["changed"], again.json()["orders_cancelled"], again.json()["flight"]["status"]) == (
        False,
        0,
        "CANCELLED",
    )
    assert (
        await client.post(f"/admin/flights/{uuid.uuid4()}/cancel", headers=admin_headers)
    ).status_code == 404
    assert (
        await client.post(f"/admin/flights/{flight['id']}/cancel", headers=user_headers)
    ).status_code == 403
    assert (await client.post(f"/admin/flights/{flight['id']}/cancel")).status_code == 401


async def test_a_cancelled_flight_leaves_search_at_once_and_cannot_be_booked(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    flight = await create_flight(client, admin_headers, departure=DAY)
    query = {"source": "Delhi", "destination": "Mumbai", "date": DAY.date().isoformat()}
    before = (await client.get("/api/v1/search", params=query)).json()
    assert [it["flights"][0]["id"] for it in before] == [flight["id"]]
    await client.post(f"/admin/flights/{flight['id']}/cancel", headers=admin_headers)
    assert (await client.get("/api/v1/search", params=query)).json() == []
    refused = await client.post(
        "/api/v1/booking", json={"flight_id": flight["id"], "seats": 1}, headers=user_headers
    )
    assert refused.status_code == 409
    assert "cancelled" in refused.json()["detail"]


async def test_an_airline_cancel_racing_many_bookings_leaves_no_seat_holding_row_and_consistent_counters(
    servers: infra.TestServers, client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=200, departure=DAY)
    # One at a time: concurrent registrations can meet the password-hashing bound (429) on a busy machine.
    buyers = [await register_and_login(client) for _ in range(6)]
    # Payments take a while: many bookings are PENDING when the cancel commits, and confirm after.
    async with booking_api(servers, payment_latency_ms=60) as api:

        async def cancel_soon() -> httpx.Response:
            # Once the first bookings are in (PENDING or CONFIRMED), while the others keep coming.
            while await _rows_on(context, flight["id"]) < 5:
                await asyncio.sleep(0.005)
            return await client.post(f"/admin/flights/{flight['id']}/cancel", headers=admin_headers)

        # Warm the app's pools and batchers, so the race starts with the bookings.
        warm = await create_flight(client, admin_headers, flight_number="AI-W", departure=DAY)
        assert (await api.book(buyers[0], warm["id"])).status_code == 201

        async def book_later(i: int) -> httpx.Response:
            await asyncio.sleep(i * 0.01)
            return await api.book(buyers[i % len(buyers)], flight["id"], seats=1 + i % 3)

        *answers, cancelled = await asyncio.gather(*(book_later(i) for i in range(100)), cancel_soon())
    assert cancelled.status_code == 200, cancelled.text
    codes = Counter((a.status_code, a.json().get("status")) for a in answers)
    assert set(codes) <= {(201, "CONFIRMED"), (201, "CANCELLED"), (409, None)}, codes
    # Some came after the cancel (refused), some were paying when it came (answered CANCELLED).
    details = Counter(a.json().get("detail") for a in answers if a.status_code == 409)
    assert codes[(409, None)] > 0, (codes, details)
    assert codes[(201, "CANCELLED")] > 0, (codes, details)
    async with context.engine.connect() as connection:
        statuses = dict(
            (
                await connection.execute(
                    text("SELECT status, count(*) FROM bookings WHERE flight_id = :id GROUP BY status"),
                    {"id": uuid.UUID(flight["id"])},
                )
            ).all()
        )
    # No booking is confirmed (or left holding seats) on a cancelled flight, whenever it paid.
    assert set(statuses) <= {"CANCELLED", "FAILED"}, statuses
    assert await seat_holding(context, flight["id"]) == 0
    assert await counter(context, flight["id"]) == 200
    await context.inventory.reconcile([uuid.UUID(flight["id"])])
    assert await counter(context, flight["id"]) == 200


async def test_deleting_a_flight_with_booking_history_is_refused_and_the_history_stays(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    flight = await create_flight(client, admin_headers)
    booked = (
        await client.post(
            "/api/v1/booking", json={"flight_id": flight["id"], "seats": 1}, headers=user_headers
        )
    ).json()
    assert (await client.delete(f"/admin/flights/{flight['id']}", headers=admin_headers)).status_code == 409
    assert (await client.delete(f"/api/v1/bookings/{booked['id']}", headers=user_headers)).status_code == 200
    refused = await client.delete(f"/admin/flights/{flight['id']}", headers=admin_headers)
    assert refused.status_code == 409
    assert "history" in refused.json()["detail"]
    mine = (await client.get("/api/v1/bookings", headers=user_headers)).json()
    assert [(b["id"], b["status"], b["flight"]["id"]) for b in mine] == [
        (booked["id"], "CANCELLED", flight["id"])
    ]
    # A flight nobody ever booked still deletes.
    empty = await create_flight(client, admin_headers, flight_number="AI-9")
    assert (await client.delete(f"/admin/flights/{empty['id']}", headers=admin_headers)).status_code == 204


async def test_other_users_bookings_are_not_notified_to_each_other(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flight = await create_flight(client, admin_headers)
    alice, bob = await register_and_login(client), await register_and_login(client)
    for headers in (alice, bob):
        r = await client.post(
            "/api/v1/booking", json={"flight_id": flight["id"], "seats": 1}, headers=headers
        )
        assert r.status_code == 201
    await client.post(f"/admin/flights/{flight['id']}/cancel", headers=admin_headers)
    for headers in (alice, bob):
        listed = (await client.get("/api/v1/notifications", headers=headers)).json()
        assert [n["kind"] for n in listed] == ["flight_cancelled"]
        assert listed[0]["order_id"] is None


async def _rows_on(context: AppContext, flight_id: str) -> int:
    async with context.engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM bookings WHERE flight_id = :id"), {"id": uuid.UUID(flight_id)}
        )
    return int(count or 0)


async def test_a_booking_paying_while_its_flight_is_cancelled_ends_cancelled_not_confirmed(
    servers: infra.TestServers, client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=50, departure=DAY)
    buyers = [await register_and_login(client) for _ in range(3)]
    async with booking_api(servers, payment_latency_ms=1500) as api:
        paying = [asyncio.create_task(api.book(b, flight["id"], seats=2)) for b in buyers]
        while await _rows_on(context, flight["id"]) < len(buyers):
            await asyncio.sleep(0.01)
        # Every booking is PENDING (its payment takes 1.5 s) when the airline cancels.
        cancelled = await client.post(f"/admin/flights/{flight['id']}/cancel", headers=admin_headers)
        answers = await asyncio.gather(*paying)
    assert cancelled.json()["bookings_cancelled"] == len(buyers)
    assert [(a.status_code, a.json()["status"]) for a in answers] == [(201, "CANCELLED")] * len(buyers)
    assert await seat_holding(context, flight["id"]) == 0
    assert await counter(context, flight["id"]) == 50


async def test_a_flight_as_returned_can_be_put_back_but_its_status_only_changes_by_a_cancel(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    flight = await create_flight(client, admin_headers)
    body = {k: v for k, v in flight.items() if k not in ("id", "available_seats")}
    assert (
        await client.put(f"/admin/flights/{flight['id']}", json=body, headers=admin_headers)
    ).status_code == 200
    cancelled = {**body, "status": "CANCELLED"}
    refused = await client.put(f"/admin/flights/{flight['id']}", json=cancelled, headers=admin_headers)
    assert refused.status_code == 409
    created = await client.post(
        "/admin/flights", json={**cancelled, "flight_number": "AI-7"}, headers=admin_headers
    )
    assert created.status_code == 409
    assert (await client.get(f"/admin/flights/{flight['id']}", headers=admin_headers)).json()[
        "status"
    ] == "SCHEDULED"
