"""Filtered and sorted search, the month calendar and the booking cut-off, against the brute-force
reference (tests/search_reference.py): every answer equal to it, with the index built and cold."""

from __future__ import annotations

import calendar as month_days
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app.airports.catalog import timezone
from app.context import AppContext
from app.search import index, timetable
from tests.conftest import create_flight, flight_body
from tests.search_reference import brute_force

AIRPORTS = ["Delhi", "Mumbai", "AAA", "BBB"]  # Asia/Kolkata twice, Pacific/Tahiti, America/Chicago
BASE = (datetime.now(UTC) + timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0)
SORTS = ["price", "duration", "departure", "arrival"]

flight = st.fixed_dictionaries(
    {
        "pair": st.permutations(AIRPORTS).map(lambda p: (p[0], p[1])),
        "minute": st.integers(0, 2 * 24 * 60 // 15).map(lambda k: k * 15),
        "duration": st.sampled_from([45, 60, 120, 300]),
        "price": st.integers(1, 6).map(lambda k: k * 50),
        "seats": st.sampled_from([1, 2, 5]),
    }
)
hhmm = st.integers(0, 24 * 4 - 1).map(lambda k: f"{k * 15 // 60:02d}:{k * 15 % 60:02d}")
query = st.fixed_dictionaries(
    {},
    optional={
        "max_stops": st.integers(0, 2),
        "depart_after": hhmm,
        "depart_before": hhmm,
        "max_duration_minutes": st.sampled_from([1, 45, 60, 200, 400, 700, 4320]),
        "sort": st.sampled_from(SORTS),
        "seats": st.sampled_from([1, 2]),
    },
).filter(lambda q: q.get("depart_after", "00:00") <= q.get("depart_before", "23:59"))


def body(spec: dict[str, Any], number: int) -> dict[str, Any]:
    source, destination = spec["pair"]
    return flight_body(
        flight_number=f"PF{number}",
        source=source,
        destination=destination,
        departure=BASE + timedelta(minutes=spec["minute"]),
        duration_minutes=spec["duration"],
        total_seats=spec["seats"],
        price=spec["price"],
    )


async def reset(context: AppContext) -> None:
    async with context.engine.begin() as connection:
        await connection.execute(text("TRUNCATE bookings, flights CASCADE"))
    await drop_index(context)
    # Flights deleted behind the application's back: the timetables are told to reload.
    await timetable.publish(context, None)


async def drop_index(context: AppContext) -> None:
    keys = [k async for k in context.redis.scan_iter(match=context.keys.search_day("*", "*"))]
    if keys:
        await context.redis.delete(*keys)


async def expect_brute_force(
    client: httpx.AsyncClient,
    context: AppContext,
    source: str,
    destination: str,
    day: date,
    q: dict[str, Any],
) -> None:
    params = {"source": source, "destination": destination, "date": str(day), **q}
    response = await client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    reference = dict(q)
    seats = reference.pop("seats", 1)
    expected = await brute_force(context, source, destination, day, seats, **reference)
    assert response.json() == expected, params


@pytest.mark.timeout(900)
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    flights=st.lists(flight, max_size=16),
    queries=st.lists(query, min_size=1, max_size=4),
    built=st.booleans(),
)
async def test_every_filter_and_sort_combination_equals_the_brute_force(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    flights: list[dict[str, Any]],
    queries: list[dict[str, Any]],
    built: bool,
) -> None:
    await reset(context)
    for k, spec in enumerate(flights):
        await client.post("/admin/flights", json=body(spec, k), headers=admin_headers)
    if built:
        await index.rebuild(context)
    for q in queries:
        for day in (BASE.date(), BASE.date() + timedelta(days=1)):
            for source in AIRPORTS:
                for destination in AIRPORTS:
                    if source != destination:
                        await expect_brute_force(client, context, source, destination, day, q)


@pytest.mark.parametrize("built", [True, False])
@pytest.mark.parametrize("sort", SORTS)
async def test_filters_past_a_cut_stored_list_are_answered_exactly(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext, sort: str, built: bool
) -> None:
    """45 direct flights, the 40 cheapest in the morning: a filter for the afternoon passes none of
    the stored (cut) list, and the answer still equals the brute force."""
    day = BASE.date()
    for k in range(45):
        hour = 6 + k % 6 if k < 40 else 15 + k % 3
        await create_flight(
            client,
            admin_headers,
            flight_number=f"CU{k}",
            source="AAA",
            destination="BBB",
            departure=BASE + timedelta(hours=hour, minutes=k),
            duration_minutes=60 + 7 * (k % 5),
            price=100 + k,
        )
    await create_flight(
        client,
        admin_headers,
        flight_number="CV1",
        source="AAA",
        destination="Delhi",
        departure=BASE + timedelta(hours=13),
    )
    await create_flight(
        client,
        admin_headers,
        flight_number="CV2",
        source="Delhi",
        destination="BBB",
        departure=BASE + timedelta(hours=17),
    )
    await index.rebuild(context)
    if not built:
        await drop_index(context)
    for q in (
        {"depart_after": "14:00", "sort": sort},
        {"depart_after": "06:00", "depart_before": "09:30", "sort": sort},
        {"max_stops": 1, "max_duration_minutes": 70, "sort": sort},
        {"max_stops": 0, "sort": sort, "seats": 3},
        {"sort": sort},
    ):
        await expect_brute_force(client, context, "AAA", "BBB", day, q)


async def test_a_city_search_applies_filters_and_sorts_over_all_its_airports(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    day = BASE.date()
    made = []
    for k, (source, minute, duration, price) in enumerate(
        [("JFK", 360, 400, 200), ("LGA", 560, 300, 300), ("EWR", 760, 350, 150), ("JFK", 960, 500, 120)]
    ):
        made.append(
            await create_flight(
                client,
                admin_headers,
                flight_number=f"NY{k}",
                source=source,
                destination="LHR",
                departure=BASE + timedelta(minutes=minute),
                duration_minutes=duration,
                price=price,
            )
        )
    await index.rebuild(context)

    async def order(**q: Any) -> list[str]:
        response = await client.get(
            "/api/v1/search", params={"source": "NYC", "destination": "LHR", "date": str(day), **q}
        )
        assert response.status_code == 200, response.text
        return [it["flights"][0]["flight_number"] for it in response.json()]

    assert await order() == ["NY3", "NY2", "NY0", "NY1"]
    assert await order(sort="duration") == ["NY1", "NY2", "NY0", "NY3"]
    assert await order(sort="departure") == ["NY0", "NY1", "NY2", "NY3"]
    assert await order(sort="arrival", max_duration_minutes=400) == ["NY0", "NY1", "NY2"]
    assert await order(depart_before="10:00") == ["NY2", "NY0", "NY1"]


async def test_the_calendar_equals_the_first_result_of_each_days_search(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    month = BASE.date().replace(day=1)
    length = month_days.monthrange(month.year, month.month)[1]
    today = datetime.now(UTC).date()
    spread = [d for d in (month + timedelta(days=k) for k in range(length))][::3]
    for k, day in enumerate([*spread, today]):
        start = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
        await create_flight(
            client,
            admin_headers,
            flight_number=f"CA{k}",
            source="AAA",
            destination="BBB",
            departure=start,
            price=300 + k,
            total_seats=1 + k % 3,
        )
        await create_flight(
            client,
            admin_headers,
            flight_number=f"CB{k}",
            source="AAA",
            destination="Delhi",
            departure=start + timedelta(hours=1),
            price=50,
        )
        await create_flight(
            client,
            admin_headers,
            flight_number=f"CC{k}",
            source="Delhi",
            destination="BBB",
            departure=start + timedelta(hours=4),
            price=60 + k,
            total_seats=1,
        )
    for built in (True, False):
        if built:
            await index.rebuild(context)
        else:
            await drop_index(context)
        for seats in (1, 2, 3):
            response = await client.get(
                "/api/v1/search/calendar",
                params={
                    "source": "AAA",
                    "destination": "BBB",
                    "month": month.strftime("%Y-%m"),
                    "seats": seats,
                },
            )
            assert response.status_code == 200, response.text
            days = response.json()
            assert [d["date"] for d in days] == [str(month + timedelta(days=k)) for k in range(length)]
            for entry in days:
                found = await client.get(
                    "/api/v1/search",
                    params={"source": "AAA", "destination": "BBB", "date": entry["date"], "seats": seats},
                )
                first = found.json()[0] if found.json() else None
                assert entry == {
                    "date": entry["date"],
                    "min_price": first and first["total_price"],
                    "stops": first and first["stops"],
                }, (built, seats)


async def test_a_past_month_has_no_prices_and_a_month_without_flights_is_all_nulls(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    for month in ("2001-02", "2099-12"):
        response = await client.get(
            "/api/v1/search/calendar", params={"source": "AAA", "destination": "BBB", "month": month}
        )
        assert response.status_code == 200, response.text
        assert all(d["min_price"] is None and d["stops"] is None for d in response.json())
    assert len(response.json()) == 31


@pytest.mark.parametrize("built", [True, False])
async def test_flights_departing_within_the_booking_cutoff_are_not_searchable(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext, built: bool
) -> None:
    cutoff = context.settings.booking_cutoff_minutes
    now = datetime.now(UTC).replace(microsecond=0)
    inside = await create_flight(
        client,
        admin_headers,
        flight_number="CO1",
        source="AAA",
        destination="BBB",
        departure=now + timedelta(minutes=cutoff - 1),
        price=100,
    )
    outside = await create_flight(
        client,
        admin_headers,
        flight_number="CO2",
        source="AAA",
        destination="BBB",
        departure=now + timedelta(minutes=cutoff + 1),
        price=200,
    )
    if built:
        await index.rebuild(context)
    # AAA is Anaa (Pacific/Tahiti, UTC-10): the local day, not the UTC one (the test failed
    # before 10:00 UTC when it took the UTC date).
    zone = ZoneInfo(timezone("AAA") or "UTC")

    def local_day(flight: dict[str, Any]) -> date:
        return datetime.fromisoformat(flight["departure_ts"]).astimezone(zone).date()

    for flight in (inside, outside):
        day = local_day(flight)
        for q in ({}, {"sort": "departure"}, {"max_stops": 0}):
            response = await client.get(
                "/api/v1/search", params={"source": "AAA", "destination": "BBB", "date": str(day), **q}
            )
            found = {f["id"] for it in response.json() for f in it["flights"]}
            assert inside["id"] not in found
            assert (outside["id"] in found) == (day == local_day(outside))
            await expect_brute_force(client, context, "AAA", "BBB", day, q)


@pytest.mark.parametrize(
    "params",
    [
        {"depart_after": "25:00"},
        {"depart_after": "24:00"},
        {"depart_before": "7:5"},
        {"depart_before": "07:00\x00"},
        {"depart_after": "\x00"},
        {"depart_after": "10:00", "depart_before": "09:59"},
        {"max_duration_minutes": 0},
        {"max_duration_minutes": 4321},
        {"max_duration_minutes": "NaN"},
        {"max_stops": 3},
        {"max_stops": -1},
        {"sort": "cheapest"},
        {"sort": "price\x00"},
    ],
)
async def test_bad_filter_values_are_422(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    response = await client.get(
        "/api/v1/search", params={"source": "AAA", "destination": "BBB", "date": str(BASE.date()), **params}
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "params",
    [
        {"month": "2100-01"},
        {"month": "1999-12"},
        {"month": "2027-13"},
        {"month": "2027-00"},
        {"month": "2027-1"},
        {"month": "2027-01-01"},
        {"month": "2027-01\x00"},
        {"month": "2027-01", "seats": 10},
        {"month": "2027-01", "destination": "aaa"},
        {},
    ],
)
async def test_bad_calendar_parameters_are_422(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    response = await client.get(
        "/api/v1/search/calendar", params={"source": "AAA", "destination": "BBB", **params}
    )
    assert response.status_code == 422, response.text
