"""Holds: seats kept unpaid until a deadline, then paid (CONFIRMED) or expired (seats back), exactly once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from app.booking import orders
from app.context import AppContext
from tests.conftest import register_and_login
from tests.order_helpers import (
    counter,
    move_deadline,
    move_flight,
    notices,
    order_body,
    order_rows,
    round_trip,
    seat_rows,
)
from tests.test_booking_support import booking_api, wipe_redis

ORDERS = "/api/v1/orders"


async def _hold(client: httpx.AsyncClient, headers: dict[str, str], flights: list[Any]) -> dict[str, Any]:
    response = await client.post(ORDERS, json=order_body([[f] for f in flights], hold=True), headers=headers)
    assert response.status_code == 201, response.text
    held: dict[str, Any] = response.json()
    return held


async def test_a_hold_keeps_the_seats_unpaid_until_its_deadline_and_queues_its_expiry(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, back = await round_trip(client, admin_headers)
    before = datetime.now(UTC)
    held = await _hold(client, user_headers, [out["id"], back["id"]])
    assert held["status"] == "HELD"
    deadline = datetime.fromisoformat(held["payment_required_by"])
    minutes = context.settings.hold_minutes
    assert before + timedelta(minutes=minutes) <= deadline <= datetime.now(UTC) + timedelta(minutes=minutes)
    assert await order_rows(context, held["id"]) == [("HELD", 1, 0, 0), ("HELD", 1, 1, 0)]
    assert await counter(context, out["id"]) == 9 and await seat_rows(context, out["id"]) == 1
    async with context.engine.connect() as connection:
        jobs = (
            await connection.execute(
                text(
                    "SELECT scheduled_at FROM procrastinate_jobs WHERE task_name = 'expire_hold' "
                    "AND args ->> 'order_id' = :id"
                ),
                {"id": held["id"]},
            )
        ).all()
    assert [row[0] for row in jobs] == [deadline]


async def test_paying_a_hold_confirms_it_and_its_rows(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, back = await round_trip(client, admin_headers)
    held = await _hold(client, user_headers, [out["id"], back["id"]])
    response = await client.post(f"{ORDERS}/{held['id']}/pay", headers=user_headers)
    assert response.status_code == 200, response.text
    paid = response.json()
    assert paid["status"] == "CONFIRMED" and paid["reference"] == held["reference"]
    assert paid["payment_required_by"] is None
    assert await order_rows(context, held["id"]) == [("CONFIRMED", 1, 0, 0), ("CONFIRMED", 1, 1, 0)]
    assert await counter(context, out["id"]) == 9
    assert [k for k, _, _ in await notices(context, held["id"])] == ["order_confirmed"]
    assert (await client.post(f"{ORDERS}/{held['id']}/pay", headers=user_headers)).status_code == 409


async def test_an_unpaid_hold_expires_at_its_deadline_and_its_seats_return_once(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, back = await round_trip(client, admin_headers)
    held = await _hold(client, user_headers, [out["id"], back["id"]])
    assert not await orders.expire(context, uuid.UUID(held["id"]))  # not due yet
    await move_deadline(context, held["id"], datetime.now(UTC) - timedelta(seconds=1))
    assert await orders.sweep(context) >= 1
    assert await orders.sweep(context) == 0
    assert not await orders.expire(context, uuid.UUID(held["id"]))  # the job, late: nothing to do
    got = (await client.get(f"{ORDERS}/{held['id']}", headers=user_headers)).json()
    assert got["status"] == "EXPIRED"
    assert await order_rows(context, held["id"]) == [("EXPIRED", 1, 0, 0), ("EXPIRED", 1, 1, 0)]
    assert await counter(context, out["id"]) == 10 and await counter(context, back["id"]) == 10
    expired = [n for n in await notices(context, held["id"]) if n[0] == "hold_expired"]
    assert len(expired) == 1 and held["reference"] in expired[0][1]
    assert (await client.post(f"{ORDERS}/{held['id']}/pay", headers=user_headers)).status_code == 409


async def test_a_payment_racing_the_expiry_either_confirms_or_expires_never_both(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    out, back = await round_trip(client, admin_headers, seats=40)
    outcomes: list[tuple[int, str]] = []
    for _ in range(8):
        headers = await register_and_login(client)
        held = await _hold(client, headers, [out["id"], back["id"]])
        # The deadline passes just as the traveller pays.
        await move_deadline(context, held["id"], datetime.now(UTC) + timedelta(milliseconds=30))
        await asyncio.sleep(0.03)
        paid, _ = await asyncio.gather(
            client.post(f"{ORDERS}/{held['id']}/pay", headers=headers),
            orders.expire(context, uuid.UUID(held["id"])),
        )
        rows = await order_rows(context, held["id"])
        status = (await client.get(f"{ORDERS}/{held['id']}", headers=headers)).json()["status"]
        assert {r[0] for r in rows} == {"CONFIRMED" if status == "CONFIRMED" else "EXPIRED"}, (status, rows)
        assert paid.status_code == (200 if status == "CONFIRMED" else 409)
        outcomes.append((paid.status_code, status))
    for flight in (out, back):
        assert await counter(context, flight["id"]) == 40 - await seat_rows(context, flight["id"])


async def test_a_declined_payment_leaves_the_hold_held_until_its_deadline(
    client: httpx.AsyncClient, admin_headers: dict[str, str], servers: Any, context: AppContext
) -> None:
    out, back = await round_trip(client, admin_headers)
    async with booking_api(servers, payment_success_rate=0.0) as api:
        headers = await register_and_login(api.http)
        held = await _hold(api.http, headers, [out["id"], back["id"]])
        response = await api.http.post(f"{ORDERS}/{held['id']}/pay", headers=headers)
        assert response.status_code == 402, response.text
        assert response.json()["status"] == "HELD"
        assert response.json()["payment_required_by"] == held["payment_required_by"]
    assert await order_rows(context, held["id"]) == [("HELD", 1, 0, 0), ("HELD", 1, 1, 0)]
    assert await counter(context, out["id"]) == 9


async def test_a_hold_close_to_its_deadline_is_warned_of_once(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, _ = await round_trip(client, admin_headers)
    far = await _hold(client, user_headers, [out["id"]])
    near = await _hold(client, user_headers, [out["id"]])
    await move_deadline(context, near["id"], datetime.now(UTC) + timedelta(minutes=5))
    await asyncio.gather(orders.sweep(context), orders.sweep(context))
    await orders.sweep(context)
    warned = await notices(context, near["id"])
    assert [k for k, _, _ in warned] == ["hold_expiring"] and near["reference"] in warned[0][2]
    assert await notices(context, far["id"]) == []


async def test_cancelling_a_hold_refunds_nothing_and_returns_the_seats(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, _ = await round_trip(client, admin_headers)
    held = await _hold(client, user_headers, [out["id"]])
    quote = (await client.get(f"{ORDERS}/{held['id']}/cancellation-quote", headers=user_headers)).json()
    assert quote == {"refund_amount": 0.0, "expires_at": quote["expires_at"]}
    assert datetime.fromisoformat(quote["expires_at"]) == datetime.fromisoformat(held["payment_required_by"])
    response = await client.post(f"{ORDERS}/{held['id']}/cancel", headers=user_headers)
    assert response.status_code == 200 and response.json()["refund_amount"] == 0.0
    assert await counter(context, out["id"]) == 10


async def test_paying_a_hold_after_the_cutoff_is_409_and_releases_it(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, _ = await round_trip(client, admin_headers)
    held = await _hold(client, user_headers, [out["id"]])
    await move_flight(context, out["id"], datetime.now(UTC) + timedelta(minutes=10))
    response = await client.post(f"{ORDERS}/{held['id']}/pay", headers=user_headers)
    assert response.status_code == 409
    assert await order_rows(context, held["id"]) == [("EXPIRED", 1, 0, 0)]
    assert await counter(context, out["id"]) == 10


async def test_an_order_stuck_pending_after_a_crash_is_failed_and_its_seats_returned(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, _ = await round_trip(client, admin_headers)
    held = await _hold(client, user_headers, [out["id"]])
    # What a process killed during the payment of a hold leaves: the order PENDING, its rows HELD.
    async with context.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE orders SET status = 'PENDING', updated_at = now() - interval '1 hour' WHERE id = :id"
            ),
            {"id": uuid.UUID(held["id"])},
        )
    await orders.sweep(context)
    assert await order_rows(context, held["id"]) == [("FAILED", 1, 0, 0)]
    assert await counter(context, out["id"]) == 10


async def test_held_seats_survive_redis_losing_everything(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, back = await round_trip(client, admin_headers, seats=3)
    await _hold(client, user_headers, [out["id"], back["id"]])
    await wipe_redis(context)
    body = order_body(
        [[out["id"]], [back["id"]]],
        [
            {"given_name": "A", "family_name": "B", "born_on": "1980-01-01", "type": "adult"},
            {"given_name": "C", "family_name": "B", "born_on": "1980-01-01", "type": "adult"},
        ],
    )
    response = await client.post(ORDERS, json=body, headers=user_headers)
    assert response.status_code == 201, response.text
    assert await counter(context, out["id"]) == 0
    response = await client.post(ORDERS, json=order_body([[out["id"]]]), headers=user_headers)
    assert response.status_code == 409
