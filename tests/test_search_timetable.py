"""The process timetable (app/search/timetable.py) is used only when known current: changes
committed through any process reach it through the feed, a lost or trimmed feed makes it reload,
and filtered searches over it stay equal to the brute force when flights sell out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from app.context import AppContext
from app.search import timetable
from app.search.timetable import FEED_LENGTH, Snapshot, Timetable
from tests.conftest import create_flight, flight_body, register_and_login
from tests.search_reference import brute_force

DEPARTURE = (datetime.now(UTC) + timedelta(days=3)).replace(hour=6, minute=0, second=0, microsecond=0)


def holds(snapshot: Snapshot, flight_id: str) -> bool:
    raw = uuid.UUID(flight_id).bytes
    return any(snapshot.raw_id(slot) == raw for slot in range(len(snapshot.dep)))


async def test_a_flight_created_through_another_process_reaches_this_timetable_through_the_feed(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    other = Timetable()  # another API process: it did not see the request
    before = await other.ready(context)
    created = await create_flight(client, admin_headers, departure=DEPARTURE)
    head = await timetable.read_head(context)
    assert not before.matches(head)
    after = await other.confirm(context, head)
    assert after is not None and after.matches(head) and holds(after, created["id"])
    assert after.loaded_at == before.loaded_at  # caught up, not reloaded
    deleted = await client.delete(f"/admin/flights/{created['id']}", headers=admin_headers)
    assert deleted.status_code == 204
    current = await other.confirm(context, await timetable.read_head(context))
    assert current is not None and not holds(current, created["id"])


async def test_a_timetable_never_trusts_a_feed_head_that_redis_lost(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    other = Timetable()
    await other.ready(context)
    await context.redis.delete(context.keys.search_timetable_head, context.keys.search_timetable_feed)
    # A change whose announcement was lost with Redis: only a reload can see it.
    async with context.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts,"
                " total_seats, available_seats, price) VALUES (:id, 'SQL1', 'Delhi', 'Mumbai', :d, :a,"
                " 10, 10, 99)"
            ),
            {"id": uuid.uuid4(), "d": DEPARTURE, "a": DEPARTURE + timedelta(hours=2)},
        )
    assert await other.confirm(context, await timetable.read_head(context)) is None
    reloaded = await other.ready(context)
    assert len(reloaded.dep) == 1


async def test_a_timetable_further_behind_than_the_feed_keeps_reloads(context: AppContext) -> None:
    other = Timetable()
    before = await other.ready(context)
    for _ in range(FEED_LENGTH * 3):
        await timetable.publish(context, [uuid.uuid4()])
    assert await other.confirm(context, await timetable.read_head(context)) is None
    after = await other.ready(context)
    assert after is not before and after.seq == before.seq + FEED_LENGTH * 3


async def test_a_reload_announced_by_a_rebuild_replaces_the_snapshot(context: AppContext) -> None:
    other = Timetable()
    before = await other.ready(context)
    await timetable.publish(context, None)
    assert await other.confirm(context, await timetable.read_head(context)) is None
    assert await other.ready(context) is not before


async def test_sold_out_flights_give_way_to_the_next_itineraries_under_every_sort(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flights = [
        await create_flight(
            client,
            admin_headers,
            flight_number=f"SO{k}",
            departure=DEPARTURE + timedelta(minutes=10 * k),
            duration_minutes=60 + k,
            total_seats=1,
            price=100 + k,
        )
        for k in range(30)
    ]
    user = await register_and_login(client)
    for flight in flights[:9]:  # more than the scan's slack: a rescan must exclude them
        body = {"flight_id": flight["id"], "seats": 1}
        booked = await client.post("/api/v1/booking", json=body, headers=user)
        assert booked.status_code in (200, 201), booked.text
    await context.timetable.ready(context)
    day = DEPARTURE.astimezone(UTC).date()
    for sort in ("price", "duration", "departure", "arrival"):
        for extra in ({}, {"max_stops": 0}):
            params = {"source": "Delhi", "destination": "Mumbai", "date": str(day), "sort": sort, **extra}
            response = await client.get("/api/v1/search", params=params)
            assert response.status_code == 200
            found = response.json()
            assert len(found) == 20
            assert not {f["id"] for it in found for f in it["flights"]} & {f["id"] for f in flights[:9]}
            assert found == await brute_force(context, "Delhi", "Mumbai", day, 1, sort=sort, **extra)


async def test_calendars_of_months_of_different_lengths_from_an_unknown_airport_are_all_nulls(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    # Regression (fuzzing): the scan memo keyed a month by its windows' bytes, empty for an airport
    # without flights whatever the month's length, so a 31-day month got a 30-day answer (500).
    await create_flight(client, admin_headers, departure=DEPARTURE)
    await context.timetable.ready(context)
    for month, days in (("2027-06", 30), ("2027-07", 31), ("2027-02", 28)):
        response = await client.get(
            "/api/v1/search/calendar", params={"source": "Nowhere", "destination": "Delhi", "month": month}
        )
        assert response.status_code == 200, response.text
        assert [day["min_price"] for day in response.json()] == [None] * days


async def test_a_remembered_calendar_follows_sold_out_and_freed_seats_and_changes(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    cheap = await create_flight(
        client, admin_headers, flight_number="C1", departure=DEPARTURE, total_seats=1, price=100
    )
    await create_flight(
        client, admin_headers, flight_number="C2", departure=DEPARTURE, total_seats=5, price=300
    )
    await context.timetable.ready(context)
    day = DEPARTURE.astimezone(UTC).date()
    month = {"source": "Delhi", "destination": "Mumbai", "month": day.strftime("%Y-%m")}

    async def price_that_day() -> float | None:
        response = await client.get("/api/v1/search/calendar", params=month)
        assert response.status_code == 200, response.text
        entry = next(d for d in response.json() if d["date"] == str(day))
        first = (
            await client.get(
                "/api/v1/search", params={"source": "Delhi", "destination": "Mumbai", "date": str(day)}
            )
        ).json()
        assert entry["min_price"] == (first[0]["total_price"] if first else None)  # /search's first result
        return entry["min_price"]

    assert await price_that_day() == 100
    assert await price_that_day() == 100  # remembered
    user = await register_and_login(client)
    booked = await client.post("/api/v1/booking", json={"flight_id": cheap["id"], "seats": 1}, headers=user)
    assert booked.status_code in (200, 201), booked.text
    assert await price_that_day() == 300  # the chosen flight sold out
    assert await price_that_day() == 300
    cancelled = await client.delete(f"/api/v1/bookings/{booked.json()['id']}", headers=user)
    assert cancelled.status_code in (200, 204), cancelled.text
    assert await price_that_day() == 100  # a short flight has seats again
    body = flight_body(flight_number="C1", departure=DEPARTURE, total_seats=1, price=50)
    changed = await client.put(f"/admin/flights/{cheap['id']}", json=body, headers=admin_headers)
    assert changed.status_code == 200, changed.text
    assert await price_that_day() == 50  # the timetable moved on


async def test_a_failed_load_leaves_searches_to_postgresql_and_is_tried_again(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await create_flight(client, admin_headers, departure=DEPARTURE)
    other = Timetable()

    async def broken(*_: object) -> list[timetable.Row]:
        raise ConnectionError("PostgreSQL went away")

    monkeypatch.setattr(timetable, "_rows", broken)
    assert other.usable(context) is None  # a load starts, and fails
    assert other._loading is not None
    await other._loading  # logged, not raised: nobody else awaits it
    assert other.usable(context) is None  # within the pause: no new attempt
    assert other._loading.done()
    with pytest.raises(RuntimeError):
        await other.ready(context)
    monkeypatch.undo()
    assert len((await other.ready(context)).dep) == 1
