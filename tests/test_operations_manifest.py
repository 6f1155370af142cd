"""Operations views (contract: Operations): a flight's manifest, route figures, upcoming
departures, and the bulk import jobs with their errors as CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from app.context import AppContext
from tests.bulk_helpers import csv_text, import_csv, row
from tests.conftest import create_flight
from tests.operations_support import Passenger, insert_order, user_id

SOON = (datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0)


async def test_the_manifest_lists_every_booking_with_its_reference_passengers_and_status(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    flight = await create_flight(client, admin_headers, total_seats=40)
    owner = await user_id(client, user_headers)
    family = [
        Passenger(given_name="Asha"),
        Passenger(given_name="Kiran", type="child", born_on=datetime(2019, 1, 1).date()),
        Passenger(given_name="Tara", type="infant", born_on=(datetime.now(UTC) - timedelta(days=200)).date()),
    ]
    order = await insert_order(
        context, owner, [(flight["id"], 0, 0)], passengers=family, email="rao@example.com"
    )
    held = await insert_order(context, owner, [(flight["id"], 0, 0)], status="HELD")
    plain = await client.post(
        "/api/v1/booking", json={"flight_id": flight["id"], "seats": 3}, headers=user_headers
    )
    cancelled = await client.post(
        "/api/v1/booking", json={"flight_id": flight["id"], "seats": 1}, headers=user_headers
    )
    await client.delete(f"/api/v1/bookings/{cancelled.json()['id']}", headers=user_headers)

    response = await client.get(f"/admin/flights/{flight['id']}/manifest", headers=admin_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["flight"]["id"] == flight["id"] and body["flight"]["status"] == "SCHEDULED"
    entries = {e["reference"] or e["booking_id"]: e for e in body["entries"]}
    mine = entries[order["reference"]]
    assert set(mine) >= {
        "booking_id",
        "order_id",
        "reference",
        "status",
        "seats",
        "passengers",
        "contact_email",
        "username",
        "created_at",
    }
    assert (mine["status"], mine["seats"], mine["contact_email"]) == ("CONFIRMED", 2, "rao@example.com")
    assert [(p["given_name"], p["type"]) for p in mine["passengers"]] == [
        ("Asha", "adult"),
        ("Kiran", "child"),
        ("Tara", "infant"),
    ]
    assert entries[held["reference"]]["status"] == "HELD"
    walk_in = entries[plain.json()["id"]]
    assert (walk_in["reference"], walk_in["passengers"], walk_in["status"]) == (None, [], "CONFIRMED")
    assert entries[cancelled.json()["id"]]["status"] == "CANCELLED"
    totals = body["totals"]
    assert totals["seats_taken"] == 2 + 1 + 3
    assert totals["seats_confirmed"] == 5 and totals["seats_held"] == 1
    assert totals["passengers"] == 3 + 1 + 3 and totals["infants"] == 1
    assert totals["by_status"] == {
        "PENDING": 0,
        "CONFIRMED": 2,
        "CANCELLED": 1,
        "FAILED": 0,
        "HELD": 1,
        "EXPIRED": 0,
    }
    assert body["flight"]["available_seats"] == 40 - 6

    assert (
        await client.get(f"/admin/flights/{uuid.uuid4()}/manifest", headers=admin_headers)
    ).status_code == 404
    assert (
        await client.get(f"/admin/flights/{flight['id']}/manifest", headers=user_headers)
    ).status_code == 403
    assert (await client.get(f"/admin/flights/{flight['id']}/manifest")).status_code == 401


async def test_route_figures_count_seats_sold_load_factor_and_revenue_per_route_and_day(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    day = (datetime.now(UTC) + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)
    one = await create_flight(
        client, admin_headers, flight_number="AI-1", departure=day, total_seats=10, price=100
    )
    await create_flight(
        client,
        admin_headers,
        flight_number="AI-2",
        departure=day + timedelta(hours=4),
        total_seats=30,
        price=50,
    )
    dropped = await create_flight(
        client, admin_headers, flight_number="AI-3", departure=day + timedelta(hours=6)
    )
    await client.post("/api/v1/booking", json={"flight_id": one["id"], "seats": 4}, headers=user_headers)
    await client.post(f"/admin/flights/{dropped['id']}/cancel", headers=admin_headers)
    params = {"date_from": day.date().isoformat(), "date_to": day.date().isoformat()}
    response = await client.get("/admin/operations/routes", params=params, headers=admin_headers)
    assert response.status_code == 200, response.text
    [figures] = response.json()["items"]
    assert figures == {
        "source": "Delhi",
        "destination": "Mumbai",
        "day": day.date().isoformat(),
        "flights": 2,
        "cancelled_flights": 1,
        "seats": 40,
        "seats_sold": 4,
        "load_factor": 0.1,
        "revenue": 400.0,
    }
    too_long = {"date_from": "2030-01-01", "date_to": "2030-03-15"}
    assert (
        await client.get("/admin/operations/routes", params=too_long, headers=admin_headers)
    ).status_code == 422
    backwards = {"date_from": "2030-01-02", "date_to": "2030-01-01"}
    assert (
        await client.get("/admin/operations/routes", params=backwards, headers=admin_headers)
    ).status_code == 422
    bad = {"date_from": "99999-01-01"}
    assert (
        await client.get("/admin/operations/routes", params=bad, headers=admin_headers)
    ).status_code == 422


async def test_upcoming_departures_show_seats_sold_load_and_status(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    near = await create_flight(client, admin_headers, flight_number="AI-1", departure=SOON, total_seats=20)
    await create_flight(client, admin_headers, flight_number="AI-2", departure=SOON + timedelta(days=3))
    await client.post("/api/v1/booking", json={"flight_id": near["id"], "seats": 5}, headers=user_headers)
    response = await client.get("/admin/operations/departures", params={"hours": 24}, headers=admin_headers)
    assert response.status_code == 200
    [departure] = response.json()["items"]
    assert departure["flight"]["id"] == near["id"]
    assert (departure["seats_sold"], departure["load_factor"], departure["flight"]["status"]) == (
        5,
        0.25,
        "SCHEDULED",
    )
    for hours in ("0", "169", "x"):
        bad = await client.get("/admin/operations/departures", params={"hours": hours}, headers=admin_headers)
        assert bad.status_code == 422


async def test_recent_import_jobs_are_listed_and_their_errors_download_as_csv(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    content = csv_text(row("AI-1"), row("AI-2", seats="many"), row("AI-3", destination="Delhi"))
    status = await import_csv(client, admin_headers, context, content)
    jobs = await client.get("/admin/flights/bulk-upload/jobs", params={"limit": 5}, headers=admin_headers)
    assert jobs.status_code == 200
    [job] = jobs.json()
    assert job["job_id"] == status["job_id"] and job["status"] == "COMPLETED"
    assert (job["summary"]["inserted"], job["summary"]["failed"]) == (1, 2)
    errors = await client.get(
        f"/admin/flights/bulk-upload/status/{job['job_id']}/errors.csv", headers=admin_headers
    )
    assert errors.status_code == 200
    assert errors.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(errors.text)))
    assert lines[0] == ["row", "error"]
    assert [line[0] for line in lines[1:]] == ["3", "4"]
    missing = f"/admin/flights/bulk-upload/status/{uuid.uuid4()}/errors.csv"
    assert (await client.get(missing, headers=admin_headers)).status_code == 404
    assert (
        await client.get("/admin/flights/bulk-upload/jobs", params={"limit": 101}, headers=admin_headers)
    ).status_code == 422
