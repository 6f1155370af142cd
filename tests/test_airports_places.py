"""Airports as places (issue #14): IATA codes known out of the box with their timezones, any
spelling of a code or name, cities (metropolitan codes and city names), suggestions."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from app.airports import catalog
from app.airports import service as airports_service
from app.context import AppContext
from app.search import cities, index
from tests.bulk_helpers import csv_text, import_csv, row
from tests.conftest import create_flight, flight_body
from tests.search_reference import brute_force

START = (datetime.now(UTC) + timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)
# New York and London (cities), Delhi (+05:30) and Adelaide (+10:30 in its summer: half-hour
# zones), Auckland (+13) and Honolulu (-10) on either side of the date line.
ZONED = ["JFK", "LGA", "EWR", "LHR", "LGW", "DEL", "ADL", "AKL", "HNL"]


def schedule(seed: int, airports: list[str], flights: int, days: int = 3) -> list[str]:
    """CSV rows written with IATA codes: random pairs, departures spread over ``days`` days (UTC),
    durations 1-16 h, a few prices (ties included)."""
    rng = random.Random(seed)
    rows = []
    for n in range(flights):
        source, destination = rng.sample(airports, 2)
        departure = START + timedelta(minutes=15 * rng.randrange(days * 96))
        rows.append(
            row(
                number=f"QX{seed}-{n}",
                source=source,
                destination=destination,
                departure=departure,
                minutes=rng.choice([60, 150, 420, 960]),
                seats=rng.choice([1, 3, 100]),
                price=f"{rng.choice([100, 150, 230, 400])}.00",
            )
        )
    return rows


async def search(client: httpx.AsyncClient, source: str, destination: str, day: date, seats: int = 1) -> Any:
    response = await client.get(
        "/api/v1/search",
        params={"source": source, "destination": destination, "date": str(day), "seats": seats},
    )
    assert response.status_code == 200, response.text
    return response.json()


def merged(*answers: list[Any]) -> list[Any]:
    """The top 20 of several answers in the search order: price, arrival, legs, ids."""
    everything = [it for answer in answers for it in answer]
    everything.sort(
        key=lambda it: (
            sum(Decimal(str(f["price"])) for f in it["flights"]),
            it["arrival_ts"],
            len(it["flights"]),
            [f["id"] for f in it["flights"]],
        )
    )
    return everything[:20]


def stored(code: str) -> str:
    """The spelling flights written with ``code`` are stored under (DEL: the seed's Delhi)."""
    return catalog.spelling(code)


def local_days(code: str) -> list[date]:
    zone = ZoneInfo(catalog.airport(code).timezone or "UTC")
    first = START.astimezone(zone).date()
    return [first + timedelta(days=k) for k in range(4)]


async def test_a_schedule_written_with_iata_codes_gives_local_dates_with_no_manual_step(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    status = await import_csv(client, admin_headers, context, csv_text(*schedule(14, ZONED, 160)))
    assert status["status"] == "COMPLETED" and status["summary"]["failed"] == 0, status
    airports = await client.get("/admin/airports", headers=admin_headers)
    zones = {a["code"]: a["timezone"] for a in airports.json() if a["code"] in ZONED}
    assert zones == {code: catalog.airport(code).timezone for code in ZONED}
    assert zones["AKL"] == "Pacific/Auckland" and zones["HNL"] == "Pacific/Honolulu"
    rng = random.Random(7)
    pairs = [("AKL", "HNL"), ("HNL", "AKL"), ("DEL", "ADL"), ("ADL", "JFK")]
    pairs += [tuple(rng.sample(ZONED, 2)) for _ in range(8)]
    for built in (False, True):  # computed exactly, then from the index
        if built:
            await index.rebuild(context)
        found = 0
        for source, destination in pairs:
            for day in local_days(source):
                expected = await brute_force(context, stored(source), stored(destination), day, 1)
                assert await search(client, source, destination, day) == expected, (source, destination, day)
                found += len(expected)
        assert found > 20


async def test_a_city_search_is_the_merge_of_its_airports_searches(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Property over seeded random schedules: NYC -> LON (and every other spelling of those cities)
    answers the top 20 of the merged airport-pair answers, each of which is the brute force's."""
    fallbacks: list[object] = []
    exact = cities._merged_searches

    async def counted(*args: Any) -> bytes:
        fallbacks.append(args)
        return await exact(*args)

    monkeypatch.setattr(cities, "_merged_searches", counted)
    for seed in (1, 2):
        status = await import_csv(client, admin_headers, context, csv_text(*schedule(seed, ZONED, 220)))
        assert status["summary"]["failed"] == 0, status
        for built in (False, True):
            if built:
                await index.rebuild(context)
                fallbacks.clear()
            for day in local_days("JFK")[:3]:
                for seats in (1, 3):
                    per_pair = []
                    for s in ("JFK", "LGA", "EWR"):
                        for d in ("LHR", "LGW"):
                            answer = await search(client, s, d, day, seats)
                            assert answer == await brute_force(context, s, d, day, seats)
                            per_pair.append(answer)
                    expected = merged(*per_pair)
                    for source, destination in (("NYC", "LON"), ("new york", " London "), ("nyc", "lon")):
                        assert await search(client, source, destination, day, seats) == expected
                    jfk = merged(*per_pair[:2])
                    assert await search(client, "jfk", "LON", day, seats) == jfk
            # Built, the merge is read from the index's lists, not from each pair's search.
            assert not built or fallbacks == []
        async with context.engine.begin() as connection:
            await connection.execute(text("TRUNCATE flights CASCADE"))
        keys = [key async for key in context.redis.scan_iter(match=context.keys.pattern(), count=1000)]
        if keys:
            await context.redis.delete(*keys)


async def test_a_code_that_is_an_airport_means_the_airport_and_a_city_name_the_city(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    departure = START + timedelta(hours=15)
    hobby = await create_flight(
        client, admin_headers, flight_number="H1", source="HOU", destination="DEL", departure=departure
    )
    bush = await create_flight(
        client,
        admin_headers,
        flight_number="H2",
        source="iah",
        destination="DEL",
        departure=departure,
        price=100,
    )
    day = departure.astimezone(ZoneInfo("America/Chicago")).date()
    assert [it["flights"][0]["id"] for it in await search(client, "HOU", "Delhi", day)] == [hobby["id"]]
    both = [it["flights"][0]["id"] for it in await search(client, "Houston", "Delhi", day)]
    assert both == [bush["id"], hobby["id"]]
    assert bush["source"] == "IAH"


async def test_any_spelling_of_an_airport_is_one_airport_and_finds_the_same_flights(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    departure = START + timedelta(hours=5)
    first = await create_flight(
        client, admin_headers, flight_number="S1", source="mumbai", destination="DEL", departure=departure
    )
    await create_flight(
        client,
        admin_headers,
        flight_number="S2",
        source=" BOM ",
        destination="Delhi",
        departure=departure + timedelta(hours=2),
    )
    await create_flight(
        client,
        admin_headers,
        flight_number="S3",
        source="Foo  Town",
        destination="Delhi",
        departure=departure,
    )
    await create_flight(
        client,
        admin_headers,
        flight_number="S4",
        source="foo town",
        destination="Mumbai",
        departure=departure,
    )
    assert (first["source"], first["destination"]) == ("Mumbai", "Delhi")
    assert (await client.get("/api/v1/airports")).json() == ["Delhi", "Foo Town", "Mumbai"]
    day = departure.astimezone(ZoneInfo("Asia/Kolkata")).date()
    answers = [
        await search(client, source, destination, day)
        for source, destination in [
            ("Mumbai", "Delhi"),
            ("mumbai", "del"),
            ("BOM", "DEL"),
            (" Bombay ", "new delhi"),
            ("Chhatrapati Shivaji International Airport", "indira gandhi international airport"),
        ]
    ]
    assert len(answers[0]) == 2 and all(answer == answers[0] for answer in answers)
    assert len(await search(client, "FOO TOWN", "delhi", day)) == 1
    listed = await client.get("/admin/flights", params={"source": "bom"}, headers=admin_headers)
    assert listed.json()["total"] == 2
    same = await client.post(
        "/admin/flights",
        json=flight_body(flight_number="S5", source="DEL", destination="Delhi"),
        headers=admin_headers,
    )
    assert same.status_code == 422
    assert (
        await client.get("/api/v1/search", params={"source": "DEL", "destination": "delhi", "date": str(day)})
    ).status_code == 422


async def test_a_flight_takes_the_spelling_of_an_airport_an_admin_set_up_before_its_first_flight(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    put = await client.put(
        "/admin/airports/Quux Field", json={"timezone": "Asia/Dubai"}, headers=admin_headers
    )
    assert put.status_code == 200, put.text
    flight = await create_flight(
        client, admin_headers, flight_number="Q1", source="quux  field", destination="Delhi"
    )
    assert flight["source"] == "Quux Field"
    places = (await client.get("/api/v1/airports/places")).json()
    assert {
        "name": "Quux Field",
        "code": None,
        "city": None,
        "country": None,
        "timezone": "Asia/Dubai",
    } in places


async def test_a_csv_row_with_a_lowercase_name_joins_the_airport_already_known(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    """Issue #14: a CSV row with `mumbai` created a second airport beside `Mumbai`, in UTC."""
    await create_flight(client, admin_headers, flight_number="C0", source="Mumbai", destination="Pune")
    await create_flight(client, admin_headers, flight_number="C1", source="Quux Field", destination="Pune")
    status = await import_csv(
        client,
        admin_headers,
        context,
        csv_text(
            row(number="C2", source="mumbai", destination="Delhi"),
            row(number="C3", source="quux  FIELD", destination="del"),
            row(number="C4", source="jfk", destination="lhr"),
        ),
    )
    assert status["status"] == "COMPLETED" and status["summary"]["failed"] == 0, status
    assert (await client.get("/api/v1/airports")).json() == [
        "Delhi",
        "JFK",
        "LHR",
        "Mumbai",
        "Pune",
        "Quux Field",
    ]
    mumbai = (await client.get("/admin/airports/MUMBAI", headers=admin_headers)).json()
    assert (mumbai["name"], mumbai["code"], mumbai["timezone"]) == ("Mumbai", "BOM", "Asia/Kolkata")


async def test_suggestions_name_cities_above_their_airports_and_only_places_with_flights(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for n, (source, destination) in enumerate([("JFK", "LHR"), ("LGA", "LGW"), ("EWR", "Delhi")]):
        await create_flight(
            client, admin_headers, flight_number=f"G{n}", source=source, destination=destination
        )

    async def suggest(q: str) -> list[dict[str, Any]]:
        response = await client.get("/api/v1/airports/suggest", params={"q": q})
        assert response.status_code == 200, response.text
        result: list[dict[str, Any]] = response.json()
        return result

    new_york = await suggest("new york")
    assert new_york[0] == {
        "code": "NYC",
        "name": "New York",
        "city": "New York",
        "country": "US",
        "timezone": "America/New_York",
        "kind": "city",
    }
    assert [s["code"] for s in new_york[1:]] == ["JFK", "LGA"]  # EWR's city is Newark
    assert (await suggest("jfk"))[0]["code"] == "JFK"
    assert (await suggest("LON"))[0] == {**(await suggest("london"))[0], "kind": "city"}
    assert [s["code"] for s in await suggest("del")] == ["DEL"]
    assert await suggest("zzz") == [] and await suggest("CDG") == []  # no flights at Paris


async def test_concurrent_searches_share_one_read_of_the_names_in_use(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await create_flight(client, admin_headers, source="Xanadu Field", destination="Shangri La")
    reads = 0
    real = airports_service.list_names

    async def counted(ctx: AppContext) -> bytes:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.01)  # a Redis round trip: the other searches arrive meanwhile
        return await real(ctx)

    monkeypatch.setattr(airports_service, "list_names", counted)
    key = context.keys.airports
    airports_service._recent.pop(key, None)
    for attempt in ("the process's first read", "a read of an expired copy"):
        searches = (airports_service.spellings(context, "xanadu field") for _ in range(32))
        found = await asyncio.gather(*searches)
        assert all(f == ["Xanadu Field"] for f in found), attempt
        assert reads == 1, attempt
        stamp, used = airports_service._recent[key]
        airports_service._recent[key] = (stamp - airports_service._RECENT_SECONDS, used)
        reads = 0
