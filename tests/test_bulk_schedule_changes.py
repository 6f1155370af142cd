"""Schedule changes by bulk import (contract: Operations): a CSV re-upload that moves a booked
flight's times does what the admin PUT does, in the batch's transaction: one ``schedule_changed``
notice per affected order, ``needs_attention`` on an order whose connection broke; nothing for
flights nobody holds seats on, and nothing at all for a batch that does not commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.bulk_import import upsert
from app.context import AppContext
from app.flights.events import ScheduleMove
from tests.bulk_helpers import BASE, csv_text, import_csv, row, write_after_the_read
from tests.conftest import register_and_login
from tests.operations_support import insert_order, notifications_of, order_row, user_id

# Delhi 06:00 -> Mumbai 08:00, Mumbai 09:30 -> Goa 10:30 (a 90-minute connection); Delhi -> Pune.
ONWARD = BASE + timedelta(hours=3, minutes=30)


def schedule(first_minutes: int = 120, onward_minutes: int = 60, other_minutes: int = 110) -> str:
    return csv_text(
        row("AI-1", "Delhi", "Mumbai", BASE, first_minutes),
        row("AI-2", "Mumbai", "Goa", ONWARD, onward_minutes),
        row("AI-3", "Delhi", "Pune", BASE, other_minutes),
    )


async def flight_ids(context: AppContext) -> dict[str, uuid.UUID]:
    async with context.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT flight_number, id FROM flights"))).all()
    return {number: fid for number, fid in rows}


async def arrival(context: AppContext, fid: uuid.UUID) -> Any:
    async with context.engine.connect() as connection:
        return await connection.scalar(text("SELECT arrival_ts FROM flights WHERE id = :id"), {"id": fid})


async def all_notifications(context: AppContext) -> list[Any]:
    async with context.engine.connect() as connection:
        return list((await connection.execute(text("SELECT * FROM notifications"))).all())


def spy_on_hook(monkeypatch: pytest.MonkeyPatch, context: AppContext) -> list[list[ScheduleMove]]:
    """Record each call of the schedule hook (the real one still runs)."""
    calls: list[list[ScheduleMove]] = []
    real = context.schedule_hook
    assert real is not None

    async def spy(conn: Any, moves: Sequence[ScheduleMove]) -> None:
        calls.append(list(moves))
        await real(conn, moves)

    monkeypatch.setattr(context, "schedule_hook", spy)
    return calls


async def test_a_reupload_that_moves_a_booked_flight_notifies_each_order_and_flags_a_broken_one(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    assert (await import_csv(client, admin_headers, context, schedule()))["status"] == "COMPLETED"
    ids = await flight_ids(context)
    owner = await user_id(client, user_headers)
    other = await user_id(client, await register_and_login(client))
    connecting = await insert_order(context, owner, [(ids["AI-1"], 0, 0), (ids["AI-2"], 0, 1)])
    direct = await insert_order(context, other, [(ids["AI-1"], 0, 0)])

    # AI-1 lands an hour later (09:00, 30 minutes before AI-2: 45 required); AI-3, unbooked, moves too.
    result = await import_csv(client, admin_headers, context, schedule(first_minutes=180, other_minutes=120))

    assert result["status"] == "COMPLETED" and result["summary"]["updated"] == 3, result
    assert await arrival(context, ids["AI-1"]) == BASE + timedelta(minutes=180)
    assert (await order_row(context, connecting["id"])).needs_attention is True
    assert (await order_row(context, direct["id"])).needs_attention is False
    [note] = await notifications_of(context, owner)
    assert (note.kind, note.order_id) == ("schedule_changed", connecting["id"])
    assert note.subject == f"Booking {connecting['reference']}: flight AI-1 has new times"
    assert "arrival   2027-03-01 08:00 UTC -> 2027-03-01 09:00 UTC" in note.body
    assert "full refund" in note.body
    assert note.email_to == connecting["email"]
    [told] = await notifications_of(context, other)
    assert (told.kind, told.order_id) == ("schedule_changed", direct["id"])
    assert "no action" in told.body
    # Nobody holds a seat on AI-3: its move tells nobody.
    assert len(await all_notifications(context)) == 2
    listed = (await client.get("/api/v1/notifications", headers=user_headers)).json()
    assert [n["kind"] for n in listed] == ["schedule_changed"]


async def test_an_order_with_two_flights_moved_in_one_batch_gets_one_notice_naming_both(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    await import_csv(client, admin_headers, context, schedule())
    ids = await flight_ids(context)
    owner = await user_id(client, user_headers)
    order = await insert_order(context, owner, [(ids["AI-1"], 0, 0), (ids["AI-2"], 0, 1)])

    # Both land 10 minutes later: the connection (80 minutes) still holds.
    await import_csv(client, admin_headers, context, schedule(first_minutes=130, onward_minutes=70))

    [note] = await notifications_of(context, owner)
    assert note.subject == f"Booking {order['reference']}: flights AI-1, AI-2 have new times"
    assert note.body.index("Flight AI-1 Delhi-Mumbai") < note.body.index("Flight AI-2 Mumbai-Goa")
    assert "no action" in note.body
    assert (await order_row(context, order["id"])).needs_attention is False


async def test_batches_that_move_no_booked_flight_write_nothing_and_skip_the_hook_without_a_move(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await import_csv(client, admin_headers, context, schedule())
    ids = await flight_ids(context)
    owner = await user_id(client, user_headers)
    order = await insert_order(context, owner, [(ids["AI-1"], 0, 0), (ids["AI-2"], 0, 1)])
    calls = spy_on_hook(monkeypatch, context)

    # New prices and seats for every flight, no time moved: the hook is not even called.
    repriced = csv_text(
        row("AI-1", "Delhi", "Mumbai", BASE, 120, seats=200, price="6100.00"),
        row("AI-2", "Mumbai", "Goa", ONWARD, 60, price="3100.00"),
        row("AI-3", "Delhi", "Pune", BASE, 110, price="4100.00"),
    )
    assert (await import_csv(client, admin_headers, context, repriced))["summary"]["updated"] == 3
    assert calls == []
    # Only the unbooked AI-3 moves: one call, and it writes nothing.
    await import_csv(client, admin_headers, context, schedule(other_minutes=150))
    assert [[after.flight_number for _, after in moves] for moves in calls] == [["AI-3"]]
    assert await all_notifications(context) == []
    assert (await order_row(context, order["id"])).needs_attention is False


async def test_a_batch_that_fails_after_the_hook_leaves_neither_notice_nor_flag_nor_new_times(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await import_csv(client, admin_headers, context, schedule())
    ids = await flight_ids(context)
    owner = await user_id(client, user_headers)
    order = await insert_order(context, owner, [(ids["AI-1"], 0, 0), (ids["AI-2"], 0, 1)])
    real = context.schedule_hook
    assert real is not None

    async def then_fail(conn: Any, moves: Sequence[ScheduleMove]) -> None:
        await real(conn, moves)  # the notice and the flag are written in the batch's transaction...
        raise RuntimeError("the batch fails before its commit")  # ...which then rolls back

    monkeypatch.setattr(context, "schedule_hook", then_fail)
    result = await import_csv(client, admin_headers, context, schedule(first_minutes=180))

    assert result["status"] == "FAILED", result
    assert await all_notifications(context) == []
    assert (await order_row(context, order["id"])).needs_attention is False
    assert await arrival(context, ids["AI-1"]) == BASE + timedelta(minutes=120)


async def test_a_row_refused_because_the_flight_changed_meanwhile_tells_nobody(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await import_csv(client, admin_headers, context, schedule())
    ids = await flight_ids(context)
    owner = await user_id(client, user_headers)
    order = await insert_order(context, owner, [(ids["AI-1"], 0, 0), (ids["AI-2"], 0, 1)])
    # Another writer bumps AI-1's version between the batch's read and its write.
    write_after_the_read(
        monkeypatch, context, f"UPDATE flights SET version = version + 1 WHERE id = '{ids['AI-1']}'"
    )

    result = await import_csv(client, admin_headers, context, schedule(first_minutes=180))

    assert result["summary"]["errors"] == [{"row": 2, "error": upsert.CHANGED_MEANWHILE}]
    assert await arrival(context, ids["AI-1"]) == BASE + timedelta(minutes=120)
    assert await all_notifications(context) == []
    assert (await order_row(context, order["id"])).needs_attention is False


async def test_a_plain_booking_is_told_of_a_bulk_move(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    await import_csv(client, admin_headers, context, schedule())
    ids = await flight_ids(context)
    booked = await client.post(
        "/api/v1/booking", json={"flight_id": str(ids["AI-3"]), "seats": 1}, headers=user_headers
    )
    assert booked.status_code == 201, booked.text

    await import_csv(client, admin_headers, context, schedule(other_minutes=150))

    listed = (await client.get("/api/v1/notifications", headers=user_headers)).json()
    assert [(n["kind"], n["order_id"], n["subject"]) for n in listed] == [
        ("schedule_changed", None, "Flight AI-3 has new times")
    ]
