"""Bulk CSV upload: the happy path, upserts, what is refused at once, and who may upload."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select, text

from app.context import AppContext
from app.models import Flight
from tests.bulk_helpers import BASE, HEADER, csv_text, import_csv, job_status, row, run_queued_jobs, upload


async def flight_count(context: AppContext) -> int:
    async with context.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Flight)) or 0)


async def test_upload_returns_a_pending_job_that_a_worker_completes(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    content = csv_text(
        row("AI-101"), row("6E-202", "Mumbai", "Bangalore"), row("UK-303", "Delhi", "Kolkata", seats=1)
    )
    response = await upload(client, admin_headers, content)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "PENDING"
    assert (await job_status(client, admin_headers, body["job_id"]))["status"] == "PENDING"

    await run_queued_jobs(context)

    result = await job_status(client, admin_headers, body["job_id"])
    assert result["status"] == "COMPLETED"
    assert result["summary"] == {
        "total_rows": 3,
        "processed_rows": 3,
        "inserted": 3,
        "updated": 0,
        "failed": 0,
        "errors": [],
    }
    listed = (await client.get("/admin/flights", headers=admin_headers)).json()
    assert listed["total"] == 3
    by_number = {f["flight_number"]: f for f in listed["items"]}
    assert by_number["UK-303"]["available_seats"] == 1
    assert by_number["AI-101"]["price"] == 5400.0
    assert by_number["AI-101"]["departure_ts"].startswith("2027-03-01T06:00:00")
    assert by_number["AI-101"]["available_seats"] == 180


async def test_an_imported_flight_is_bookable_at_once_and_shows_all_its_seats(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    result = await import_csv(client, admin_headers, context, csv_text(row("AI-101", seats=180)))
    assert result["summary"]["inserted"] == 1
    # The import writes no seat counter: the first use rebuilds it from PostgreSQL.
    listed = (await client.get("/admin/flights", headers=admin_headers)).json()["items"]
    flight_id = listed[0]["id"]
    await context.redis.delete(context.keys.seats(flight_id), context.keys.seat_generation(flight_id))
    found = await client.get(
        "/api/v1/search",
        params={"source": "Delhi", "destination": "Mumbai", "date": str(BASE.date()), "seats": 9},
    )
    assert found.status_code == 200, found.text
    assert [[(f["id"], f["available_seats"]) for f in it["flights"]] for it in found.json()] == [
        [(flight_id, 180)]
    ]

    booked = await client.post(
        "/api/v1/booking", json={"flight_id": flight_id, "seats": 3}, headers=user_headers
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["status"] == "CONFIRMED"
    assert booked.json()["flight"]["available_seats"] == 177
    assert (await context.inventory.live_counts([uuid.UUID(flight_id)]))[uuid.UUID(flight_id)] == 177


async def test_upload_again_updates_in_place_without_duplicates(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    first = await import_csv(client, admin_headers, context, csv_text(row("AI-101"), row("AI-102")))
    assert first["summary"]["inserted"] == 2
    second = await import_csv(
        client,
        admin_headers,
        context,
        csv_text(row("AI-101", price="6100.50"), row("AI-102"), row("AI-103")),
    )
    assert second["status"] == "COMPLETED"
    assert second["summary"]["inserted"] == 1
    assert second["summary"]["updated"] == 2
    assert await flight_count(context) == 3
    async with context.session_factory() as session:
        flight = await session.scalar(select(Flight).where(Flight.flight_number == "AI-101"))
        same = await session.scalar(select(Flight).where(Flight.flight_number == "AI-102"))
    assert flight is not None and str(flight.price) == "6100.50" and flight.version == 2
    # A row equal to the stored flight counts as updated but writes nothing.
    assert same is not None and same.version == 1


async def test_same_departure_written_with_another_offset_is_the_same_flight(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    await import_csv(client, admin_headers, context, csv_text(row("AI-101")))
    ist = BASE.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kolkata"))
    result = await import_csv(client, admin_headers, context, csv_text(row("AI-101", departure=ist)))
    assert result["summary"]["updated"] == 1
    assert await flight_count(context) == 1


async def test_rows_repeating_a_flight_in_one_file_last_one_wins(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    result = await import_csv(
        client,
        admin_headers,
        context,
        csv_text(row("AI-101", price="100.00"), row("AI-101", price="200.00"), row("AI-101", price="300.00")),
    )
    assert result["summary"]["inserted"] == 1
    assert result["summary"]["updated"] == 2
    async with context.session_factory() as session:
        prices = (await session.scalars(select(Flight.price))).all()
    assert [str(p) for p in prices] == ["300.00"]


async def test_columns_in_any_order_and_a_byte_order_mark_are_accepted(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    header = "price,total_seats,arrival_ts,departure_ts,destination,source,flight_number"
    dep = BASE + timedelta(days=1)
    line = f"4999.99,120,{(dep + timedelta(hours=2)).isoformat()},{dep.isoformat()},Pune,Jaipur,SG-8"
    content = b"\xef\xbb\xbf" + f"{header}\r\n{line}\r\n".encode()
    result = await import_csv(client, admin_headers, context, content)
    assert result["status"] == "COMPLETED", result
    assert result["summary"]["inserted"] == 1
    listed = (await client.get("/admin/flights", headers=admin_headers)).json()["items"]
    assert listed[0]["source"] == "Jaipur" and listed[0]["total_seats"] == 120


async def test_sold_seats_are_kept_and_a_total_below_them_is_a_row_error(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    await import_csv(client, admin_headers, context, csv_text(row("AI-101", seats=150), row("AI-102")))
    async with context.session_factory() as session:
        flight = await session.scalar(select(Flight).where(Flight.flight_number == "AI-101"))
        assert flight is not None
        user_id = (await session.execute(text("SELECT id FROM users LIMIT 1"))).scalar_one()
        await session.execute(
            text(
                "INSERT INTO bookings (id, user_id, flight_id, seats, status) "
                "VALUES (:id, :user, :flight, 5, 'CONFIRMED')"
            ),
            {"id": uuid.uuid4(), "user": user_id, "flight": flight.id},
        )
        await session.commit()
    # The imported flight has no counter yet: the first read rebuilds it from the bookings.
    assert (await context.inventory.live_counts([flight.id]))[flight.id] == 145

    grown = await import_csv(client, admin_headers, context, csv_text(row("AI-101", seats=200)))
    assert grown["summary"]["updated"] == 1
    counts = await context.inventory.live_counts([flight.id])
    assert counts[flight.id] == 195

    shrunk = await import_csv(client, admin_headers, context, csv_text(row("AI-101", seats=4), row("AI-102")))
    assert shrunk["status"] == "COMPLETED"
    assert shrunk["summary"]["failed"] == 1
    assert shrunk["summary"]["errors"] == [{"row": 2, "error": "total_seats is below the seats already sold"}]
    assert (await context.inventory.live_counts([flight.id]))[flight.id] == 195


async def test_header_problems_are_refused_at_once(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    cases = {
        "missing": "flight_number,source,destination,departure_ts,arrival_ts,total_seats",
        "extra": HEADER + ",airline",
        "repeated": HEADER + ",price",
        "renamed": HEADER.replace("price", "fare"),
        "data instead of header": row(),
    }
    for name, header in cases.items():
        response = await upload(client, admin_headers, csv_text(row(), header=header))
        assert response.status_code == 422, (name, response.text)
        assert "header" in response.json()["detail"], name
    assert (await client.get("/admin/flights", headers=admin_headers)).json()["total"] == 0
    async with context.session_factory() as session:
        jobs = await session.scalar(text("SELECT count(*) FROM bulk_jobs"))
    assert jobs == 0


async def test_empty_header_only_and_binary_files_are_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for content, needle in (
        (b"", "empty"),
        (b"\xef\xbb\xbf\n\n", "empty"),
        ((HEADER + "\n").encode(), "no rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "UTF-8"),
        (HEADER.encode() + b"\nAI-1,Delhi\x00,Mumbai\n", "binary"),
        (HEADER.encode() + b"\nAI-1,D\xe9lhi,Mumbai\n", "UTF-8"),
    ):
        response = await upload(client, admin_headers, content)
        assert response.status_code == 422, (content, response.text)
        assert needle in response.json()["detail"], response.text


async def test_requests_without_a_file_field_are_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/admin/flights/bulk-upload",
        files={"other": ("f.csv", csv_text(row()), "text/csv")},
        headers=admin_headers,
    )
    assert response.status_code == 422
    response = await client.post("/admin/flights/bulk-upload", content=csv_text(row()), headers=admin_headers)
    assert response.status_code == 422


async def test_only_admins_may_upload_or_read_jobs(
    client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    assert (await upload(client, user_headers, csv_text(row()))).status_code == 403
    assert (await upload(client, {}, csv_text(row()))).status_code == 401
    status_url = f"/admin/flights/bulk-upload/status/{uuid.uuid4()}"
    assert (await client.get(status_url, headers=user_headers)).status_code == 403


async def test_unknown_job_is_404_and_a_malformed_id_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.get(f"/admin/flights/bulk-upload/status/{uuid.uuid4()}", headers=admin_headers)
    assert response.status_code == 404
    response = await client.get("/admin/flights/bulk-upload/status/not-a-uuid", headers=admin_headers)
    assert response.status_code == 422
