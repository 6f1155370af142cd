"""Bulk import racing other writers: a flight written by another request between the batch's read
and its write is never overwritten; its row is reported and the rest of the batch is applied."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from app.bulk_import import upsert
from app.context import AppContext
from app.models import Flight
from tests.bulk_helpers import BASE, csv_text, import_csv, row, write_after_the_read


async def test_a_flight_created_meanwhile_is_kept_and_its_row_reported(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_after_the_read(
        monkeypatch,
        context,
        "INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts, "
        "total_seats, available_seats, price) VALUES (gen_random_uuid(), 'AI-102', 'Goa', 'Pune', "
        f"'{BASE.isoformat()}', '{BASE.isoformat()}'::timestamptz + interval '1 hour', 90, 90, 100)",
    )
    result = await import_csv(
        client, admin_headers, context, csv_text(row("AI-101"), row("AI-102"), row("AI-103"))
    )

    assert result["status"] == "COMPLETED"
    assert result["summary"]["inserted"] == 2
    assert result["summary"]["failed"] == 1
    assert result["summary"]["errors"] == [{"row": 3, "error": upsert.CHANGED_MEANWHILE}]
    async with context.session_factory() as session:
        flights = {f.flight_number: f for f in (await session.scalars(select(Flight))).all()}
    assert sorted(flights) == ["AI-101", "AI-102", "AI-103"]
    assert (flights["AI-102"].source, flights["AI-102"].total_seats) == ("Goa", 90)


async def test_a_flight_changed_meanwhile_is_kept_and_its_row_reported(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await import_csv(client, admin_headers, context, csv_text(row("AI-101"), row("AI-102")))
    write_after_the_read(
        monkeypatch,
        context,
        "UPDATE flights SET price = 1, version = version + 1 WHERE flight_number = 'AI-101'",
    )
    result = await import_csv(
        client,
        admin_headers,
        context,
        csv_text(row("AI-101", price="999.00"), row("AI-102", price="999.00"), row("AI-104")),
    )

    assert result["summary"]["errors"] == [{"row": 2, "error": upsert.CHANGED_MEANWHILE}]
    assert (result["summary"]["inserted"], result["summary"]["updated"]) == (1, 1)
    async with context.session_factory() as session:
        prices = {f.flight_number: float(f.price) for f in (await session.scalars(select(Flight))).all()}
    assert prices == {"AI-101": 1.0, "AI-102": 999.0, "AI-104": 5400.0}
