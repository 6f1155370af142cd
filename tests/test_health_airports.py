"""Health probes and the public airports list."""

from __future__ import annotations

import httpx

from tests.conftest import create_flight


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "postgres": "ok", "redis": "ok"}


async def test_airports_lists_every_flight_endpoint_sorted(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/airports")).json() == []
    await create_flight(client, admin_headers, source="Mumbai", destination="Delhi")
    await create_flight(client, admin_headers, flight_number="6E-1", source="Chennai", destination="Mumbai")
    response = await client.get("/api/v1/airports")
    assert response.status_code == 200
    assert response.json() == ["Chennai", "Delhi", "Mumbai"]


async def test_airports_follow_a_deleted_flight(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    flight = await create_flight(client, admin_headers, source="Pune", destination="Goa")
    assert (await client.get("/api/v1/airports")).json() == ["Goa", "Pune"]
    assert (await client.delete(f"/admin/flights/{flight['id']}", headers=admin_headers)).status_code == 204
    assert (await client.get("/api/v1/airports")).json() == []


async def test_airport_timezone_read_and_set(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    delhi_object = {
        "name": "Delhi",
        "code": "DEL",
        "city": "New Delhi",
        "country": "IN",
        "timezone": "Asia/Kolkata",
        "is_default": False,
    }
    for spelling in ("Delhi", "DEL", "del", " new  delhi "):
        delhi = await client.get(f"/admin/airports/{spelling}", headers=admin_headers)
        assert delhi.json() == delhi_object
    # A name no data set knows as an airport: the timezone of the city it names.
    await create_flight(client, admin_headers, source="Dubai", destination="Delhi")
    dubai = await client.get("/admin/airports/Dubai", headers=admin_headers)
    assert dubai.json() == {
        "name": "Dubai",
        "code": None,
        "city": "Dubai",
        "country": "AE",
        "timezone": "Asia/Dubai",
        "is_default": True,
    }
    updated = await client.put(
        "/admin/airports/dubai", json={"timezone": "Asia/Muscat"}, headers=admin_headers
    )
    assert updated.status_code == 200
    assert updated.json() == {**dubai.json(), "timezone": "Asia/Muscat", "is_default": False}
    listed = await client.get("/admin/airports", headers=admin_headers)
    assert updated.json() in listed.json()


async def test_airport_errors(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    assert (await client.get("/admin/airports/Atlantis", headers=admin_headers)).status_code == 404
    bad_zone = await client.put(
        "/admin/airports/Delhi", json={"timezone": "Mars/Olympus"}, headers=admin_headers
    )
    assert bad_zone.status_code == 422
    assert (await client.put("/admin/airports/Delhi", json={}, headers=admin_headers)).status_code == 422
    assert (
        await client.put("/admin/airports/Delhi", json={"timezone": "UTC"}, headers=user_headers)
    ).status_code == 403
