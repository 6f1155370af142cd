"""Schedule changes (contract: Operations): a PUT that moves a booked flight's times notifies its
orders in the same transaction; an order whose connection no longer meets the rules is
needs_attention."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
from sqlalchemy import text

from app.context import AppContext
from app.operations.schedule import broken
from tests.conftest import create_flight, flight_body
from tests.operations_support import insert_order, notifications_of, order_row, user_id

DAY = (datetime.now(UTC) + timedelta(days=6)).replace(hour=6, minute=0, second=0, microsecond=0)


async def _trip(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> tuple[dict, dict]:  # type: ignore[type-arg]
    # Delhi 06:00 -> Mumbai 08:00, Mumbai 09:30 -> Goa 10:30: a 90-minute connection.
    first = await create_flight(client, admin_headers, flight_number="AI-1", departure=DAY)
    onward = await create_flight(
        client,
        admin_headers,
        flight_number="AI-2",
        source="Mumbai",
        destination="Goa",
        departure=DAY + timedelta(hours=3, minutes=30),
        duration_minutes=60,
    )
    return first, onward


def _moved(flight: dict, by: timedelta) -> dict:  # type: ignore[type-arg]
    body = flight_body(
        flight_number=flight["flight_number"],
        source=flight["source"],
        destination=flight["destination"],
        departure=datetime.fromisoformat(flight["departure_ts"]) + by,
        duration_minutes=int(
            (
                datetime.fromisoformat(flight["arrival_ts"]) - datetime.fromisoformat(flight["departure_ts"])
            ).total_seconds()
            // 60
        ),
        total_seats=flight["total_seats"],
        price=flight["price"],
    )
    return body


async def test_a_retime_that_breaks_a_connection_flags_the_order_and_notifies_it(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    first, onward = await _trip(client, admin_headers)
    owner = await user_id(client, user_headers)
    order = await insert_order(context, owner, [(first["id"], 0, 0), (onward["id"], 0, 1)])
    # One hour later: it lands at 09:00, 30 minutes before the onward flight (45 required).
    response = await client.put(
        f"/admin/flights/{first['id']}", json=_moved(first, timedelta(hours=1)), headers=admin_headers
    )
    assert response.status_code == 200, response.text
    assert (await order_row(context, order["id"])).needs_attention is True
    [note] = await notifications_of(context, owner)
    assert (note.kind, note.order_id) == ("schedule_changed", order["id"])
    assert order["reference"] in note.subject
    assert "full refund" in note.body
    listed = (await client.get("/api/v1/notifications", headers=user_headers)).json()
    assert [n["kind"] for n in listed] == ["schedule_changed"]


async def test_a_retime_that_keeps_the_connection_notifies_without_flagging(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    first, onward = await _trip(client, admin_headers)
    owner = await user_id(client, user_headers)
    order = await insert_order(context, owner, [(first["id"], 0, 0), (onward["id"], 0, 1)])
    response = await client.put(
        f"/admin/flights/{first['id']}", json=_moved(first, timedelta(minutes=-30)), headers=admin_headers
    )
    assert response.status_code == 200
    assert (await order_row(context, order["id"])).needs_attention is False
    [note] = await notifications_of(context, owner)
    assert note.kind == "schedule_changed" and "no action" in note.body


async def test_a_return_flight_moved_before_the_outbound_lands_flags_the_order(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out = await create_flight(client, admin_headers, flight_number="AI-1", departure=DAY)
    back = await create_flight(
        client,
        admin_headers,
        flight_number="AI-9",
        source="Mumbai",
        destination="Delhi",
        departure=DAY + timedelta(days=2),
    )
    owner = await user_id(client, user_headers)
    order = await insert_order(context, owner, [(out["id"], 0, 0), (back["id"], 1, 0)])
    # The return now leaves at 07:00 on the outbound's day, before the outbound lands (08:00).
    await client.put(
        f"/admin/flights/{back['id']}",
        json=_moved(back, -timedelta(days=2) + timedelta(hours=1)),
        headers=admin_headers,
    )
    assert (await order_row(context, order["id"])).needs_attention is True


async def test_a_change_that_does_not_move_the_times_tells_nobody(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    first, _ = await _trip(client, admin_headers)
    owner = await user_id(client, user_headers)
    await insert_order(context, owner, [(first["id"], 0, 0)])
    body = _moved(first, timedelta(0)) | {"price": 9999.0}
    assert (
        await client.put(f"/admin/flights/{first['id']}", json=body, headers=admin_headers)
    ).status_code == 200
    assert await notifications_of(context, owner) == []


async def test_a_refused_retime_leaves_neither_a_notification_nor_a_flag(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    first, onward = await _trip(client, admin_headers)
    owner = await user_id(client, user_headers)
    order = await insert_order(context, owner, [(first["id"], 0, 0), (onward["id"], 0, 1)])
    # Same number and departure as another flight: 409 at the commit, after the hook ran.
    clash = await create_flight(
        client, admin_headers, flight_number="AI-1", departure=DAY + timedelta(hours=1)
    )
    response = await client.put(
        f"/admin/flights/{first['id']}", json=_moved(first, timedelta(hours=1)), headers=admin_headers
    )
    assert response.status_code == 409, (response.text, clash["id"])
    assert (await order_row(context, order["id"])).needs_attention is False
    assert await notifications_of(context, owner) == []
    async with context.engine.connect() as connection:
        departure = await connection.scalar(
            text("SELECT departure_ts FROM flights WHERE id = :id"), {"id": uuid.UUID(first["id"])}
        )
    assert departure == DAY


async def test_a_plain_booking_is_told_of_the_new_times(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    first, _ = await _trip(client, admin_headers)
    booked = await client.post(
        "/api/v1/booking", json={"flight_id": first["id"], "seats": 1}, headers=user_headers
    )
    assert booked.status_code == 201
    await client.put(
        f"/admin/flights/{first['id']}", json=_moved(first, timedelta(hours=2)), headers=admin_headers
    )
    listed = (await client.get("/api/v1/notifications", headers=user_headers)).json()
    assert [(n["kind"], n["order_id"]) for n in listed] == [("schedule_changed", None)]


def test_connections_are_checked_within_each_slice_and_slices_in_order() -> None:
    settings = SimpleNamespace(min_connection_minutes=45, max_layover_minutes=720)

    def leg(s: int, i: int, dep: int, arr: int) -> SimpleNamespace:
        return SimpleNamespace(
            slice_index=s,
            leg_index=i,
            departure_ts=DAY + timedelta(minutes=dep),
            arrival_ts=DAY + timedelta(minutes=arr),
        )

    assert not broken(settings, [leg(0, 0, 0, 120), leg(0, 1, 165, 200)])  # 45 minutes: allowed
    assert broken(settings, [leg(0, 0, 0, 120), leg(0, 1, 164, 200)])
    assert not broken(settings, [leg(0, 0, 0, 120), leg(0, 1, 840, 900)])  # 720 minutes: allowed
    assert broken(settings, [leg(0, 0, 0, 120), leg(0, 1, 841, 900)])
    assert not broken(settings, [leg(0, 0, 0, 120), leg(1, 0, 3000, 3100)])  # slices need no layover limit
    assert broken(settings, [leg(0, 0, 0, 120), leg(1, 0, 100, 200)])
