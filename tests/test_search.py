"""Search: semantics of GET /api/v1/search against a brute-force reference, edge cases included."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.context import AppContext
from app.search import index
from tests.conftest import create_flight
from tests.search_reference import brute_force

pytestmark = pytest.mark.usefixtures("search_index")

DAY = (datetime.now(UTC) + timedelta(days=10)).date()


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def search_index(context: AppContext) -> None:
    await index.rebuild(context)


async def search(
    client: httpx.AsyncClient, source: str, destination: str, day: date = DAY, seats: int = 1
) -> Any:
    response = await client.get(
        "/api/v1/search",
        params={"source": source, "destination": destination, "date": str(day), "seats": seats},
    )
    assert response.status_code == 200, response.text
    return response.json()


def ids(itineraries: list[dict[str, Any]]) -> list[list[str]]:
    return [[f["id"] for f in it["flights"]] for it in itineraries]


async def test_direct_and_connecting_itineraries_cheapest_first(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    direct = await create_flight(
        client,
        admin_headers,
        flight_number="D1",
        source="Aville",
        destination="Cville",
        departure=at(8),
        price=500,
    )
    leg1 = await create_flight(
        client,
        admin_headers,
        flight_number="L1",
        source="Aville",
        destination="Bville",
        departure=at(6),
        price=100,
    )
    leg2 = await create_flight(
        client,
        admin_headers,
        flight_number="L2",
        source="Bville",
        destination="Cville",
        departure=at(9),
        price=150,
    )
    result = await search(client, "Aville", "Cville")
    assert ids(result) == [[leg1["id"], leg2["id"]], [direct["id"]]]
    first = result[0]
    assert first["total_price"] == 250.0
    assert first["stops"] == 1
    assert first["departure_ts"] == leg1["departure_ts"].replace("+00:00", "Z")
    assert first["arrival_ts"] == leg2["arrival_ts"].replace("+00:00", "Z")
    assert first["duration_minutes"] == 5 * 60
    assert first["flights"][0] == leg1
    assert result == await brute_force(context, "Aville", "Cville", DAY, 1)


async def test_connection_limits_are_inclusive(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create_flight(
        client,
        admin_headers,
        flight_number="A1",
        source="Aville",
        destination="Bville",
        departure=at(1),
        duration_minutes=60,
        price=100,
    )
    # Exactly 45 minutes and exactly 12 hours after the 02:00 arrival: both allowed.
    ok45 = await create_flight(
        client,
        admin_headers,
        flight_number="B1",
        source="Bville",
        destination="Cville",
        departure=at(2, 45),
        price=100,
    )
    ok720 = await create_flight(
        client,
        admin_headers,
        flight_number="B2",
        source="Bville",
        destination="Cville",
        departure=at(14),
        price=100,
    )
    await create_flight(
        client,
        admin_headers,
        flight_number="B3",
        source="Bville",
        destination="Cville",
        departure=at(2, 44),
        price=1,
    )
    await create_flight(
        client,
        admin_headers,
        flight_number="B4",
        source="Bville",
        destination="Cville",
        departure=at(14, 1),
        price=1,
    )
    result = await search(client, "Aville", "Cville")
    assert sorted(it["flights"][1]["id"] for it in result) == sorted([ok45["id"], ok720["id"]])


async def test_overnight_connection_and_local_date_of_origin(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    # Delhi is Asia/Kolkata (UTC+5:30): 20:00 UTC on DAY is 01:30 local on the next day.
    late = await create_flight(
        client,
        admin_headers,
        flight_number="N1",
        source="Delhi",
        destination="Mumbai",
        departure=at(20),
        price=100,
    )
    onward = await create_flight(
        client,
        admin_headers,
        flight_number="N2",
        source="Mumbai",
        destination="Goa",
        departure=at(6, 0, DAY + timedelta(days=1)),
        price=100,
    )
    assert await search(client, "Delhi", "Goa", DAY) == []
    result = await search(client, "Delhi", "Goa", DAY + timedelta(days=1))
    assert ids(result) == [[late["id"], onward["id"]]]
    assert result == await brute_force(context, "Delhi", "Goa", DAY + timedelta(days=1), 1)


async def test_no_airport_twice_and_at_most_three_flights(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    chain = ["Aville", "Bville", "Aville", "Cville"]
    for k, (a, b) in enumerate(itertools.pairwise(chain)):
        await create_flight(
            client,
            admin_headers,
            flight_number=f"C{k}",
            source=a,
            destination=b,
            departure=at(1 + 3 * k),
            price=10,
        )
    assert await search(client, "Bville", "Cville") == await brute_force(context, "Bville", "Cville", DAY, 1)
    assert all(
        len({f["source"] for f in it["flights"]}) == len(it["flights"])
        for it in await search(client, "Aville", "Cville")
    )
    hops = ["P1", "P2", "P3", "P4", "P5"]
    for k, (a, b) in enumerate(itertools.pairwise(hops)):
        await create_flight(
            client,
            admin_headers,
            flight_number=f"H{k}",
            source=a,
            destination=b,
            departure=at(1 + 3 * k),
            price=10,
        )
    assert len((await search(client, "P1", "P4"))[0]["flights"]) == 3
    assert await search(client, "P1", "P5") == []


async def test_seats_sold_out_and_departed_flights(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    small = await create_flight(
        client,
        admin_headers,
        flight_number="S1",
        source="Aville",
        destination="Bville",
        departure=at(5),
        total_seats=2,
        price=10,
    )
    big = await create_flight(
        client,
        admin_headers,
        flight_number="S2",
        source="Aville",
        destination="Bville",
        departure=at(6),
        total_seats=100,
        price=20,
    )
    assert ids(await search(client, "Aville", "Bville", seats=3)) == [[big["id"]]]
    await context.redis.set(context.keys.seats(small["id"]), 0)
    assert ids(await search(client, "Aville", "Bville")) == [[big["id"]]]
    await context.redis.set(context.keys.seats(small["id"]), 2)
    assert ids(await search(client, "Aville", "Bville")) == [[small["id"]], [big["id"]]]
    assert (await search(client, "Aville", "Bville"))[0]["flights"][0]["available_seats"] == 2
    # Left a minute ago: searched on its own departure date (XXX is on UTC, the default zone), so
    # the test means the same at any time of day (it used to leave at 00:05, not yet gone at 00:01).
    departed = (datetime.now(UTC) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    past = await create_flight(
        client, admin_headers, flight_number="T1", source="XXX", destination="Yville", departure=departed
    )
    assert past["id"] not in {
        f["id"] for it in await search(client, "XXX", "Yville", departed.date()) for f in it["flights"]
    }


async def test_more_than_twenty_and_filtered_lists_fall_back_exactly(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flights = [
        await create_flight(
            client,
            admin_headers,
            flight_number=f"M{k}",
            source="Aville",
            destination="Bville",
            departure=at(0, 10 + k),
            price=100 + k,
        )
        for k in range(45)
    ]
    result = await search(client, "Aville", "Bville")
    assert ids(result) == [[f["id"]] for f in flights[:20]]
    for f in flights[:30]:
        await context.redis.set(context.keys.seats(f["id"]), 0)
    assert ids(await search(client, "Aville", "Bville")) == [[f["id"]] for f in flights[30:45]]
    assert await search(client, "Aville", "Bville") == await brute_force(context, "Aville", "Bville", DAY, 1)


async def test_admin_changes_are_searchable_at_once(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    leg1 = await create_flight(
        client,
        admin_headers,
        flight_number="U1",
        source="Aville",
        destination="Bville",
        departure=at(6),
        price=100,
    )
    leg2 = await create_flight(
        client,
        admin_headers,
        flight_number="U2",
        source="Bville",
        destination="Cville",
        departure=at(9),
        price=100,
    )
    assert ids(await search(client, "Aville", "Cville")) == [[leg1["id"], leg2["id"]]]
    body = {**leg2, "price": 300, "flight_number": "U2X"}
    for field in ("id", "available_seats"):
        body.pop(field)
    assert (
        await client.put(f"/admin/flights/{leg2['id']}", json=body, headers=admin_headers)
    ).status_code == 200
    result = await search(client, "Aville", "Cville")
    assert result[0]["total_price"] == 400.0 and result[0]["flights"][1]["flight_number"] == "U2X"
    assert (await client.delete(f"/admin/flights/{leg1['id']}", headers=admin_headers)).status_code == 204
    assert await search(client, "Aville", "Cville") == []


async def test_airport_timezone_change_moves_its_dates(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    flight = await create_flight(
        client,
        admin_headers,
        flight_number="Z1",
        source="QQQ",
        destination="RRR",
        departure=at(22),
        price=100,
    )
    assert ids(await search(client, "QQQ", "RRR")) == [[flight["id"]]]
    response = await client.put(
        "/admin/airports/QQQ", json={"timezone": "Asia/Kolkata"}, headers=admin_headers
    )
    assert response.status_code == 200
    assert await search(client, "QQQ", "RRR") == []
    assert ids(await search(client, "QQQ", "RRR", DAY + timedelta(days=1))) == [[flight["id"]]]


async def test_lost_index_is_answered_from_postgresql(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    await create_flight(
        client,
        admin_headers,
        flight_number="K1",
        source="Aville",
        destination="Bville",
        departure=at(6),
        price=100,
    )
    expected = await search(client, "Aville", "Bville")
    keys = [k async for k in context.redis.scan_iter(match=context.keys.pattern())]
    await context.redis.delete(*keys)
    assert await search(client, "Aville", "Bville") == expected
    await index.rebuild(context)  # waits for the background rebuild the cold read started
    assert await index.is_ready(context)
    assert await search(client, "Aville", "Bville") == expected


@pytest.mark.parametrize(
    "params",
    [
        {"destination": "Bville", "date": str(DAY)},
        {"source": "Aville", "date": str(DAY)},
        {"source": "Aville", "destination": "Bville"},
        {"source": "Aville", "destination": "Bville", "date": "2027-02-30"},
        {"source": "Aville", "destination": "Bville", "date": "tomorrow"},
        {"source": "Aville", "destination": "aville", "date": str(DAY)},
        {"source": "Aville", "destination": "Bville", "date": str(DAY), "seats": 0},
        {"source": "Aville", "destination": "Bville", "date": str(DAY), "seats": 10},
        {"source": "Aville", "destination": "Bville", "date": str(DAY), "seats": "two"},
    ],
)
async def test_invalid_queries_are_422(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    assert (await client.get("/api/v1/search", params=params)).status_code == 422


async def test_unknown_airport_is_an_empty_list(client: httpx.AsyncClient) -> None:
    assert await search(client, "Nowhere", "Elsewhere") == []


async def test_sql_source_of_truth_is_unchanged(context: AppContext) -> None:
    async with context.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM flights"))).scalar_one() == 0
