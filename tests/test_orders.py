"""Orders: passengers, a reference, round trips, payment, look-up, cancellation with its refund rule."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.booking.orders import refund_for
from app.context import AppContext
from app.models import REFERENCE_ALPHABET
from tests.conftest import create_flight, register_and_login
from tests.order_helpers import (
    DAY,
    adult,
    counter,
    move_flight,
    notices,
    order_body,
    order_rows,
    round_trip,
    seat_rows,
)
from tests.test_booking_support import booking_api

ORDERS = "/api/v1/orders"


async def test_a_round_trip_for_two_is_one_order_one_payment_and_one_row_per_flight(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, back = await round_trip(client, admin_headers, prices=(5000, 4000.5))
    body = order_body([[out["id"]], [back["id"]]], [adult(), adult(given="Ravi")])
    response = await client.post(ORDERS, json=body, headers=user_headers)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "CONFIRMED"
    assert len(order["reference"]) == 6 and set(order["reference"]) <= set(REFERENCE_ALPHABET)
    assert order["total_price"] == 2 * 5000 + 2 * 4000.5
    assert [[f["id"] for f in s["flights"]] for s in order["slices"]] == [[out["id"]], [back["id"]]]
    assert order["slices"][0]["flights"][0]["available_seats"] == 8
    assert [p["given_name"] for p in order["passengers"]] == ["Asha", "Ravi"]
    assert order["contact"] == {"email": "asha@example.com"}
    assert order["refund_amount"] is None and order["needs_attention"] is False
    assert order["payment_required_by"] is None
    assert await order_rows(context, order["id"]) == [("CONFIRMED", 2, 0, 0), ("CONFIRMED", 2, 1, 0)]
    assert await counter(context, out["id"]) == 8
    kinds = await notices(context, order["id"])
    assert [k for k, _, _ in kinds] == ["order_confirmed"]
    assert order["reference"] in kinds[0][1] and order["reference"] in kinds[0][2]
    # The seed's bookings list shows the rows too; they are cancelled with the order, not alone.
    listed = (await client.get("/api/v1/bookings", headers=user_headers)).json()
    assert len(listed) == 2
    assert (
        await client.delete(f"/api/v1/bookings/{listed[0]['id']}", headers=user_headers)
    ).status_code == 409


async def test_an_order_is_listed_read_and_hidden_from_other_users(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    out, back = await round_trip(client, admin_headers)
    first = (await client.post(ORDERS, json=order_body([[out["id"]]]), headers=user_headers)).json()
    second = (await client.post(ORDERS, json=order_body([[back["id"]]]), headers=user_headers)).json()
    listed = (await client.get(ORDERS, headers=user_headers)).json()
    assert [o["id"] for o in listed] == [second["id"], first["id"]]
    assert (await client.get(f"{ORDERS}/{first['id']}", headers=user_headers)).json() == listed[1]
    other = await register_and_login(client)
    assert (await client.get(f"{ORDERS}/{first['id']}", headers=other)).status_code == 404
    assert (await client.post(f"{ORDERS}/{first['id']}/cancel", headers=other)).status_code == 404
    assert (await client.get(f"{ORDERS}/{uuid.uuid4()}", headers=user_headers)).status_code == 404
    assert (await client.get(ORDERS)).status_code == 401


async def test_a_multi_city_order_with_a_connection_reserves_every_flight(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    a = await create_flight(
        client, admin_headers, flight_number="X-1", source="Delhi", destination="Mumbai", departure=DAY
    )
    b = await create_flight(
        client,
        admin_headers,
        flight_number="X-2",
        source="Mumbai",
        destination="Goa",
        departure=DAY + timedelta(hours=3),
    )
    c = await create_flight(
        client,
        admin_headers,
        flight_number="X-3",
        source="Goa",
        destination="Chennai",
        departure=DAY + timedelta(days=2),
    )
    response = await client.post(
        ORDERS, json=order_body([[a["id"], b["id"]], [c["id"]]]), headers=user_headers
    )
    assert response.status_code == 201, response.text
    assert await order_rows(context, response.json()["id"]) == [
        ("CONFIRMED", 1, 0, 0),
        ("CONFIRMED", 1, 0, 1),
        ("CONFIRMED", 1, 1, 0),
    ]


async def test_slices_that_do_not_connect_or_follow_each_other_are_refused_and_hold_nothing(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, back = await round_trip(client, admin_headers)
    cases = [
        [[back["id"]], [out["id"]]],  # the return before the outbound
        [[out["id"], back["id"]]],  # a 3-day "connection"
        [[out["id"]], [out["id"]]],  # the same flight twice
    ]
    for slices in cases:
        response = await client.post(ORDERS, json=order_body(slices), headers=user_headers)
        assert response.status_code == 422, (slices, response.text)
    assert await counter(context, out["id"]) == 10
    assert await seat_rows(context, out["id"]) == 0
    # A slice departing less than MIN_CONNECTION_MINUTES after the previous one lands.
    near = await create_flight(
        client,
        admin_headers,
        flight_number="N-1",
        source="Mumbai",
        destination="Goa",
        departure=DAY + timedelta(hours=2, minutes=30),
    )
    response = await client.post(ORDERS, json=order_body([[out["id"]], [near["id"]]]), headers=user_headers)
    assert response.status_code == 422
    five = [{"flight_ids": [str(out["id"])]}] * 5
    response = await client.post(
        ORDERS, json={**order_body([[out["id"]]]), "slices": five}, headers=user_headers
    )
    assert response.status_code == 422


async def test_unknown_flight_is_404_and_a_sold_out_flight_is_409_holding_nothing(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, back = await round_trip(client, admin_headers, seats=1)
    response = await client.post(ORDERS, json=order_body([[out["id"]], [uuid.uuid4()]]), headers=user_headers)
    assert response.status_code == 404
    response = await client.post(
        ORDERS,
        json=order_body([[out["id"]], [back["id"]]], [adult(), adult(given="Ravi")]),
        headers=user_headers,
    )
    assert response.status_code == 409
    assert await counter(context, out["id"]) == 1 and await counter(context, back["id"]) == 1


@pytest.mark.parametrize(
    ("born", "kind", "status"),
    [
        # Ages on the first departure's date (DAY, UTC).
        (lambda d: d.replace(year=d.year - 12), "adult", 201),  # 12th birthday that day
        (lambda d: d.replace(year=d.year - 12) + timedelta(days=1), "adult", 422),  # 11 until tomorrow
        (lambda d: d.replace(year=d.year - 12) + timedelta(days=1), "child", 201),
        (lambda d: d.replace(year=d.year - 2), "child", 201),  # 2nd birthday that day
        (lambda d: d.replace(year=d.year - 2), "infant", 422),
        (lambda d: d.replace(year=d.year - 2) + timedelta(days=1), "infant", 201),
        (lambda d: d.replace(year=d.year - 2) + timedelta(days=1), "child", 422),
    ],
)
async def test_a_passengers_type_is_their_age_on_the_first_departure(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    born: Any,
    kind: str,
    status: int,
) -> None:
    out, _ = await round_trip(client, admin_headers)
    passenger = {**adult(given="Kid"), "born_on": born(DAY.date()).isoformat(), "type": kind}
    response = await client.post(
        ORDERS, json=order_body([[out["id"]]], [adult(), passenger]), headers=user_headers
    )
    assert response.status_code == status, response.text


async def test_infants_ride_on_a_lap_for_a_tenth_of_the_fare_one_per_adult(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, back = await round_trip(client, admin_headers, prices=(1000.05, 999.99))
    baby = {
        "given_name": "Mira",
        "family_name": "Rao",
        "born_on": (DAY.date() - timedelta(days=200)).isoformat(),
        "type": "infant",
    }
    response = await client.post(
        ORDERS, json=order_body([[out["id"]], [back["id"]]], [adult(), baby]), headers=user_headers
    )
    assert response.status_code == 201, response.text
    # 10% of 1000.05 = 100.005 -> 100.01 (half up); 10% of 999.99 = 99.999 -> 100.00.
    assert Decimal(str(response.json()["total_price"])) == Decimal("1000.05") + Decimal("999.99") + Decimal(
        "100.01"
    ) + Decimal("100.00")
    assert await order_rows(context, response.json()["id"]) == [
        ("CONFIRMED", 1, 0, 0),
        ("CONFIRMED", 1, 1, 0),
    ]
    two_babies = order_body([[out["id"]]], [adult(), baby, {**baby, "given_name": "Tara"}])
    assert (await client.post(ORDERS, json=two_babies, headers=user_headers)).status_code == 422


@pytest.mark.parametrize(
    "passenger",
    [
        {"given_name": "", "family_name": "Rao"},
        {"given_name": "A" * 65, "family_name": "Rao"},
        {"given_name": "Asha1", "family_name": "Rao"},
        {"given_name": "Asha\u0000", "family_name": "Rao"},
        {"given_name": "\ud800", "family_name": "Rao"},
        {"given_name": "---", "family_name": "Rao"},
        {"born_on": "1899-12-31"},
        {"born_on": "2999-01-01"},
        {"born_on": (date.today() + timedelta(days=1)).isoformat(), "type": "infant"},
        {"type": "senior"},
    ],
)
async def test_bad_passengers_are_422(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    passenger: dict[str, Any],
) -> None:
    out, _ = await round_trip(client, admin_headers)
    body = order_body([[out["id"]]], [adult(), {**adult(given="Ravi"), **passenger}])
    # json.dumps escapes a lone surrogate as \\ud800, as a client's JSON may.
    headers = {**user_headers, "Content-Type": "application/json"}
    response = await client.post(ORDERS, content=json.dumps(body), headers=headers)
    assert response.status_code == 422, response.text


async def test_unicode_names_apostrophes_and_hyphens_are_names(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    out, _ = await round_trip(client, admin_headers)
    person = adult(family="O'Brien-Núñez", given="Zoë Ann")
    response = await client.post(ORDERS, json=order_body([[out["id"]]], [person]), headers=user_headers)
    assert response.status_code == 201, response.text
    assert response.json()["passengers"][0]["family_name"] == "O'Brien-Núñez"


async def test_a_bad_contact_email_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    out, _ = await round_trip(client, admin_headers)
    for email in ("not-an-email", "a@", "a\u0000@example.com"):
        response = await client.post(
            ORDERS, json=order_body([[out["id"]]], email=email), headers=user_headers
        )
        assert response.status_code == 422, email


async def test_a_declined_payment_fails_the_order_and_returns_its_seats(
    admin_headers: dict[str, str], client: httpx.AsyncClient, servers: Any, context: AppContext
) -> None:
    out, back = await round_trip(client, admin_headers)
    async with booking_api(servers, payment_success_rate=0.0) as api:
        headers = await register_and_login(api.http)
        response = await api.http.post(ORDERS, json=order_body([[out["id"]], [back["id"]]]), headers=headers)
        assert response.status_code == 402, response.text
        assert response.json()["status"] == "FAILED"
        assert await order_rows(context, response.json()["id"]) == [("FAILED", 1, 0, 0), ("FAILED", 1, 1, 0)]
    assert await counter(context, out["id"]) == 10 and await seat_rows(context, back["id"]) == 0


async def test_lookup_finds_an_order_by_reference_and_any_passengers_family_name_case_insensitively(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    out, _ = await round_trip(client, admin_headers)
    order = (
        await client.post(
            ORDERS,
            json=order_body([[out["id"]]], [adult(), adult(family="Núñez", given="Eva")]),
            headers=user_headers,
        )
    ).json()
    for reference, name in ((order["reference"], "rao"), (order["reference"].lower(), "NÚÑEZ")):
        response = await client.get(f"{ORDERS}/lookup", params={"reference": reference, "family_name": name})
        assert response.status_code == 200, response.text
        assert response.json()["id"] == order["id"]
    response = await client.get(
        f"{ORDERS}/lookup", params={"reference": order["reference"], "family_name": "Smith"}
    )
    assert response.status_code == 404
    response = await client.get(f"{ORDERS}/lookup", params={"reference": "\u0000", "family_name": "Rao"})
    assert response.status_code == 422


async def test_lookup_is_rate_limited_per_client_with_retry_after(
    admin_headers: dict[str, str], client: httpx.AsyncClient, servers: Any
) -> None:
    async with booking_api(servers, order_lookup_rate_limit="3/minute") as api:
        codes = []
        for _ in range(4):
            response = await api.http.get(
                f"{ORDERS}/lookup", params={"reference": "ABCDEF", "family_name": "Rao"}
            )
            codes.append(response.status_code)
        assert codes == [404, 404, 404, 429]
        assert int(response.headers["Retry-After"]) >= 1


# --- the refund rule -------------------------------------------------------------------------------


class _Terms:
    def __init__(
        self, status: str = "CONFIRMED", total: str = "100.01", needs_attention: bool = False
    ) -> None:
        self.status = status
        self.total_price = Decimal(total)
        self.needs_attention = needs_attention


DEPARTS = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "terms", "refund"),
    [
        (DEPARTS - timedelta(days=3), _Terms(), Decimal("100.01")),
        (DEPARTS - timedelta(hours=24), _Terms(), Decimal("100.01")),  # exactly 24 h before: full
        (DEPARTS - timedelta(hours=24) + timedelta(microseconds=1), _Terms(), Decimal("50.01")),  # half up
        (DEPARTS - timedelta(microseconds=1), _Terms(), Decimal("50.01")),
        (DEPARTS, _Terms(), None),  # at departure: no longer
        (DEPARTS + timedelta(hours=1), _Terms(), None),
        (DEPARTS - timedelta(hours=1), _Terms(needs_attention=True), Decimal("100.01")),
        (DEPARTS, _Terms(needs_attention=True), None),
        (DEPARTS - timedelta(hours=1), _Terms(status="HELD"), Decimal("0.00")),
    ],
)
def test_the_refund_is_full_until_24_hours_before_half_until_departure_then_none(
    now: datetime, terms: _Terms, refund: Decimal | None
) -> None:
    assert refund_for(terms, DEPARTS, now) == refund


async def test_cancelling_quotes_then_refunds_in_full_far_ahead_and_returns_the_seats(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, back = await round_trip(client, admin_headers)
    order = (
        await client.post(ORDERS, json=order_body([[out["id"]], [back["id"]]]), headers=user_headers)
    ).json()
    quote = (await client.get(f"{ORDERS}/{order['id']}/cancellation-quote", headers=user_headers)).json()
    assert quote["refund_amount"] == order["total_price"]
    assert datetime.fromisoformat(quote["expires_at"]) == DAY - timedelta(hours=24)
    response = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=user_headers)
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "CANCELLED" and cancelled["refund_amount"] == order["total_price"]
    assert cancelled["cancelled_by"] == "traveller"
    assert await order_rows(context, order["id"]) == [("CANCELLED", 1, 0, 0), ("CANCELLED", 1, 1, 0)]
    assert await counter(context, out["id"]) == 10 and await counter(context, back["id"]) == 10
    assert [k for k, _, _ in await notices(context, order["id"])] == ["order_confirmed", "order_cancelled"]
    assert (await client.post(f"{ORDERS}/{order['id']}/cancel", headers=user_headers)).status_code == 409
    assert (
        await client.get(f"{ORDERS}/{order['id']}/cancellation-quote", headers=user_headers)
    ).status_code == 409


async def test_inside_24_hours_the_refund_is_half_and_after_departure_cancelling_is_409(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, back = await round_trip(client, admin_headers, prices=(100.01, 50))
    first = (
        await client.post(ORDERS, json=order_body([[out["id"]], [back["id"]]]), headers=user_headers)
    ).json()
    second = (await client.post(ORDERS, json=order_body([[out["id"]]]), headers=user_headers)).json()
    await move_flight(context, out["id"], datetime.now(UTC) + timedelta(hours=5))
    quote = (await client.get(f"{ORDERS}/{first['id']}/cancellation-quote", headers=user_headers)).json()
    assert quote["refund_amount"] == 75.01  # 150.01 / 2, half up
    response = await client.post(f"{ORDERS}/{first['id']}/cancel", headers=user_headers)
    assert response.json()["refund_amount"] == 75.01
    await move_flight(context, out["id"], datetime.now(UTC) - timedelta(minutes=1))
    assert (await client.post(f"{ORDERS}/{second['id']}/cancel", headers=user_headers)).status_code == 409
    assert (
        await client.get(f"{ORDERS}/{second['id']}/cancellation-quote", headers=user_headers)
    ).status_code == 409


async def test_an_order_needing_attention_is_refunded_in_full_until_departure(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, _ = await round_trip(client, admin_headers)
    order = (await client.post(ORDERS, json=order_body([[out["id"]]]), headers=user_headers)).json()
    await move_flight(context, out["id"], datetime.now(UTC) + timedelta(hours=2))
    async with context.engine.begin() as connection:
        await connection.execute(
            text("UPDATE orders SET needs_attention = true WHERE id = :id"), {"id": uuid.UUID(order["id"])}
        )
    response = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=user_headers)
    assert response.status_code == 200 and response.json()["refund_amount"] == order["total_price"]


# --- cut-off ------------------------------------------------------------------------------------


async def test_a_flight_inside_the_booking_cutoff_is_409_on_booking_and_ordering(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    soon = await create_flight(
        client, admin_headers, flight_number="S-1", departure=datetime.now(UTC) + timedelta(minutes=20)
    )
    later = await create_flight(
        client, admin_headers, flight_number="S-2", departure=datetime.now(UTC) + timedelta(minutes=40)
    )
    single = await client.post(
        "/api/v1/booking", json={"flight_id": soon["id"], "seats": 1}, headers=user_headers
    )
    legs = await client.post(
        "/api/v1/booking", json={"flight_ids": [soon["id"]], "seats": 1}, headers=user_headers
    )
    order = await client.post(ORDERS, json=order_body([[soon["id"]]]), headers=user_headers)
    assert (single.status_code, legs.status_code, order.status_code) == (409, 409, 409)
    assert await counter(context, soon["id"]) == 150
    assert (
        await client.post(ORDERS, json=order_body([[later["id"]]]), headers=user_headers)
    ).status_code == 201


async def test_a_flight_cancelled_by_the_airline_is_409_on_booking_and_ordering(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, _ = await round_trip(client, admin_headers)
    async with context.engine.begin() as connection:
        await connection.execute(
            text("UPDATE flights SET status = 'CANCELLED' WHERE id = :id"), {"id": uuid.UUID(out["id"])}
        )
    single = await client.post(
        "/api/v1/booking", json={"flight_id": out["id"], "seats": 1}, headers=user_headers
    )
    order = await client.post(ORDERS, json=order_body([[out["id"]]]), headers=user_headers)
    assert (single.status_code, order.status_code) == (409, 409)
    assert await seat_rows(context, out["id"]) == 0


# --- idempotency --------------------------------------------------------------------------------


async def test_an_idempotency_key_replays_the_first_order_and_refuses_another_body(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    out, back = await round_trip(client, admin_headers)
    headers = {**user_headers, "Idempotency-Key": "trip-1"}
    body = order_body([[out["id"]], [back["id"]]])
    first = await client.post(ORDERS, json=body, headers=headers)
    again = await client.post(ORDERS, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len((await client.get(ORDERS, headers=user_headers)).json()) == 1
    assert await counter(context, out["id"]) == 9
    other = await client.post(ORDERS, json=order_body([[out["id"]]]), headers=headers)
    assert other.status_code == 422
    # The same key on /booking is another body too.
    booking = await client.post("/api/v1/booking", json={"flight_id": out["id"], "seats": 1}, headers=headers)
    assert booking.status_code == 422
