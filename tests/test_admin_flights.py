"""Admin single-flight management (contract: Flights (admin))."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.context import AppContext
from tests.conftest import create_flight, flight_body


async def test_create_returns_the_flight_with_all_seats_available(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    body = flight_body(total_seats=150, price=7500.0)
    response = await client.post("/admin/flights", json=body, headers=admin_headers)
    assert response.status_code == 201
    flight = response.json()
    assert set(flight) == {
        "id",
        "flight_number",
        "source",
        "destination",
        "departure_ts",
        "arrival_ts",
        "total_seats",
        "available_seats",
        "price",
        "status",
    }
    assert flight["available_seats"] == 150
    assert flight["price"] == 7500.0
    assert flight["departure_ts"].endswith("Z") or flight["departure_ts"].endswith("+00:00")


async def test_timestamps_with_offsets_are_stored_in_utc(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    body = flight_body()
    body["departure_ts"] = "2030-12-25T10:00:00+05:30"
    body["arrival_ts"] = "2030-12-25T12:00:00+05:30"
    flight = (await client.post("/admin/flights", json=body, headers=admin_headers)).json()
    assert datetime.fromisoformat(flight["departure_ts"]) == datetime(2030, 12, 25, 4, 30, tzinfo=UTC)


def _bad_bodies() -> list[tuple[str, dict[str, Any]]]:
    base = flight_body()
    cases: list[tuple[str, dict[str, Any]]] = [
        ("same endpoints", {**base, "destination": base["source"]}),
        ("arrival before departure", {**base, "arrival_ts": base["departure_ts"]}),
        ("no seats", {**base, "total_seats": 0}),
        ("negative price", {**base, "price": -1}),
        ("three decimals", {**base, "price": 10.123}),
        ("naive timestamp", {**base, "departure_ts": "2030-01-01T10:00:00"}),
        ("garbage timestamp", {**base, "departure_ts": "tomorrow"}),
        ("string seats", {**base, "total_seats": "many"}),
        ("empty flight number", {**base, "flight_number": ""}),
        ("unknown field", {**base, "gate": "A1"}),
        ("NaN price", {**base, "price": "NaN"}),
        ("huge price", {**base, "price": 1e12}),
    ]
    for field in base:
        cases.append((f"missing {field}", {k: v for k, v in base.items() if k != field}))
    return cases


@pytest.mark.parametrize(("case", "body"), _bad_bodies(), ids=[c for c, _ in _bad_bodies()])
async def test_invalid_flights_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], case: str, body: dict[str, Any]
) -> None:
    response = await client.post("/admin/flights", json=body, headers=admin_headers)
    assert response.status_code == 422, case


async def test_a_body_that_is_not_utf8_json_is_422_not_400(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    """The contract's 422 for invalid input, also when the bytes cannot even be decoded."""
    garbage = b'{"flight_number": "\xff\xfe"}'
    for path, headers in (("/admin/flights", admin_headers), ("/api/v1/booking", user_headers)):
        response = await client.post(
            path, content=garbage, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 422, path
        assert response.json()["detail"][0]["type"] == "json_invalid"
    # Other HTTP errors keep FastAPI's own handling.
    wrong_method = await client.put("/api/v1/booking", headers=user_headers)
    assert (wrong_method.status_code, wrong_method.json()) == (405, {"detail": "Method Not Allowed"})
    assert (await client.get("/admin/flights", headers=user_headers)).json() == {
        "detail": "Admin rights required"
    }


async def test_duplicate_number_and_departure_is_409(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    body = flight_body()
    assert (await client.post("/admin/flights", json=body, headers=admin_headers)).status_code == 201
    assert (await client.post("/admin/flights", json=body, headers=admin_headers)).status_code == 409


async def test_get_one_and_404(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    flight = await create_flight(client, admin_headers)
    response = await client.get(f"/admin/flights/{flight['id']}", headers=admin_headers)
    assert response.status_code == 200
    assert response.json() == flight
    assert (await client.get(f"/admin/flights/{uuid.uuid4()}", headers=admin_headers)).status_code == 404
    assert (await client.get("/admin/flights/not-a-uuid", headers=admin_headers)).status_code == 422


async def test_list_filters_and_paginates(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    day = datetime(2031, 3, 10, 6, 0, tzinfo=UTC)
    for i in range(5):
        await create_flight(
            client, admin_headers, flight_number=f"AI-{i}", departure=day + timedelta(hours=i)
        )
    await create_flight(
        client, admin_headers, flight_number="6E-9", source="Pune", destination="Goa", departure=day
    )
    await create_flight(client, admin_headers, flight_number="AI-X", departure=day + timedelta(days=1))
    everything = (await client.get("/admin/flights", headers=admin_headers)).json()
    assert everything["total"] == 7
    page = (await client.get("/admin/flights?source=Delhi&limit=2&offset=1", headers=admin_headers)).json()
    assert page["total"] == 6
    assert [f["flight_number"] for f in page["items"]] == ["AI-1", "AI-2"]
    on_day = (
        await client.get(
            "/admin/flights?source=Delhi&destination=Mumbai&date=2031-03-10", headers=admin_headers
        )
    ).json()
    assert on_day["total"] == 5
    for bad in ("limit=0", "limit=100000", "offset=-1", "date=2031-13-01", "date=yesterday"):
        assert (await client.get(f"/admin/flights?{bad}", headers=admin_headers)).status_code == 422, bad


async def test_update_changes_fields_and_keeps_sold_seats(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=10)
    # Five seats sold: a CONFIRMED booking and the counter that reflects it.
    await _sell(context, flight["id"], 5)
    body = flight_body(total_seats=20, price=999.5)
    response = await client.put(f"/admin/flights/{flight['id']}", json=body, headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["available_seats"] == 15
    assert response.json()["price"] == 999.5
    shrink = await client.put(
        f"/admin/flights/{flight['id']}", json=flight_body(total_seats=5), headers=admin_headers
    )
    assert shrink.status_code == 200
    assert shrink.json()["available_seats"] == 0
    too_small = await client.put(
        f"/admin/flights/{flight['id']}", json=flight_body(total_seats=4), headers=admin_headers
    )
    assert too_small.status_code == 409
    still = (await client.get(f"/admin/flights/{flight['id']}", headers=admin_headers)).json()
    assert still["total_seats"] == 5
    assert still["available_seats"] == 0


async def test_update_errors(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    first = await create_flight(client, admin_headers, flight_number="AI-1")
    second = await create_flight(client, admin_headers, flight_number="AI-2")
    clash = flight_body(flight_number="AI-1", departure=datetime.fromisoformat(first["departure_ts"]))
    assert (
        await client.put(f"/admin/flights/{second['id']}", json=clash, headers=admin_headers)
    ).status_code == 409
    # The failed update left the seat counter where it was.
    again = (await client.get(f"/admin/flights/{second['id']}", headers=admin_headers)).json()
    assert again["available_seats"] == second["available_seats"]
    missing = await client.put(f"/admin/flights/{uuid.uuid4()}", json=flight_body(), headers=admin_headers)
    assert missing.status_code == 404
    bad = await client.put(f"/admin/flights/{first['id']}", json={"price": 1}, headers=admin_headers)
    assert bad.status_code == 422


async def test_delete_then_404_and_409_with_active_bookings(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    free = await create_flight(client, admin_headers, flight_number="AI-1")
    assert (await client.delete(f"/admin/flights/{free['id']}", headers=admin_headers)).status_code == 204
    assert (await client.get(f"/admin/flights/{free['id']}", headers=admin_headers)).status_code == 404
    assert (await client.delete(f"/admin/flights/{free['id']}", headers=admin_headers)).status_code == 404
    sold = await create_flight(client, admin_headers, flight_number="AI-2")
    await _sell(context, sold["id"], 2)
    assert (await client.delete(f"/admin/flights/{sold['id']}", headers=admin_headers)).status_code == 409


async def test_live_seats_survive_redis_losing_the_counter(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=30)
    await _sell(context, flight["id"], 4)
    await context.redis.delete(context.keys.seats(flight["id"]))
    rebuilt = (await client.get(f"/admin/flights/{flight['id']}", headers=admin_headers)).json()
    assert rebuilt["available_seats"] == 26


async def _sell(context: AppContext, flight_id: str, seats: int) -> None:
    """Record a CONFIRMED booking directly, as the booking service would, and take the seats in Redis."""
    async with context.engine.begin() as connection:
        user_id = uuid.uuid4()
        await connection.execute(
            text("INSERT INTO users (id, username, hashed_password) VALUES (:id, :name, 'x')"),
            {"id": user_id, "name": f"buyer_{user_id.hex[:8]}"},
        )
        await connection.execute(
            text(
                "INSERT INTO bookings (id, user_id, flight_id, seats, status) "
                "VALUES (:id, :user, :flight, :seats, 'CONFIRMED')"
            ),
            {"id": uuid.uuid4(), "user": user_id, "flight": flight_id, "seats": seats},
        )
    await context.redis.decrby(context.keys.seats(flight_id), seats)
