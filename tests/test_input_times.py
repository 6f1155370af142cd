"""Flight times and search dates outside the contract's limits (2000-01-01 to 2100-01-01 UTC, a
flight lasting at most 48 h): refused with 422 by the API, row errors in a CSV, refused by the
database, and never able to break the search index, its rebuild or its recovery when such a row
was stored before the limits existed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from alembic import command
from alembic.config import Config
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app import cli
from app.context import AppContext
from app.platform.config import to_driver_url
from app.search import index, lifetime
from app.search import storage as store
from app.search.tasks import REBUILD_TASK, REINDEX_TASK
from tests import infra
from tests.bulk_helpers import csv_text, import_csv, row
from tests.conftest import create_flight, flight_body
from tests.test_search_updates import run_search_worker

DAY = (datetime.now(UTC) + timedelta(days=9)).date()
SKIPPED = "flightdesk_search_skipped_flights_total"


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def body(departure: str, arrival: str, number: str = "TT-1") -> dict[str, Any]:
    return {**flight_body(flight_number=number), "departure_ts": departure, "arrival_ts": arrival}


async def stored_flights(context: AppContext) -> int:
    async with context.engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM flights"))).scalar_one())


# (departure, arrival): each outside the limits. The offsets make the UTC conversion itself overflow.
OUT_OF_LIMITS = {
    "departure in 9999": ("9999-12-31T00:00:00Z", "9999-12-31T02:00:00Z"),
    "departure in year 1": ("0001-01-01T00:00:00Z", "0001-01-01T02:00:00Z"),
    "arrival in 2200": ("2030-01-01T00:00:00Z", "2200-01-01T00:00:00Z"),
    "a flight of 48 h and a second": ("2030-01-01T00:00:00Z", "2030-01-03T00:00:01Z"),
    "departure a second before 2000": ("1999-12-31T23:59:59Z", "2000-01-01T02:00:00Z"),
    "arrival a second after 2100": ("2099-12-31T23:00:00Z", "2100-01-01T00:00:01Z"),
    "year 1 with an offset east": ("0001-01-01T00:00:00+05:00", "0001-01-01T02:00:00+05:00"),
    "year 9999 with an offset west": ("9999-12-31T22:00:00-05:00", "9999-12-31T23:00:00-05:00"),
}


@pytest.mark.parametrize("times", OUT_OF_LIMITS.values(), ids=OUT_OF_LIMITS.keys())
async def test_a_flight_outside_the_time_limits_is_refused_and_not_stored(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext, times: tuple[str, str]
) -> None:
    response = await client.post("/admin/flights", json=body(*times), headers=admin_headers)
    assert response.status_code == 422, response.text
    assert await stored_flights(context) == 0


@pytest.mark.parametrize("times", OUT_OF_LIMITS.values(), ids=OUT_OF_LIMITS.keys())
async def test_a_put_outside_the_time_limits_is_refused_and_the_flight_unchanged(
    client: httpx.AsyncClient, admin_headers: dict[str, str], times: tuple[str, str]
) -> None:
    flight = await create_flight(client, admin_headers, flight_number="TT-1")
    response = await client.put(f"/admin/flights/{flight['id']}", json=body(*times), headers=admin_headers)
    assert response.status_code == 422, response.text
    after = await client.get(f"/admin/flights/{flight['id']}", headers=admin_headers)
    assert after.json() == flight


async def test_the_time_limits_themselves_are_allowed(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for number, times in {
        "TT-1": ("2000-01-01T00:00:00Z", "2000-01-03T00:00:00Z"),  # from the first instant, 48 h
        "TT-2": ("2099-12-31T22:00:00Z", "2100-01-01T00:00:00Z"),  # to the last instant
        "TT-3": ("2000-01-01T05:00:00+05:00", "2000-01-01T07:00:00+05:00"),  # 2000-01-01T00:00Z
    }.items():
        response = await client.post(
            "/admin/flights", json=body(*times, number=number), headers=admin_headers
        )
        assert response.status_code == 201, (number, response.text)


async def test_a_csv_row_outside_the_time_limits_is_a_row_error_and_the_job_completes(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    bad = [
        f"BD-{k},Delhi,Mumbai,{dep},{arr},100,10.00" for k, (dep, arr) in enumerate(OUT_OF_LIMITS.values())
    ]
    content = csv_text(row("OK-1"), *bad, row("OK-2"))
    result = await import_csv(client, admin_headers, context, content)

    assert result["status"] == "COMPLETED", result
    summary = result["summary"]
    assert (summary["inserted"], summary["failed"]) == (2, len(OUT_OF_LIMITS))
    assert [e["row"] for e in summary["errors"]] == list(range(3, 3 + len(OUT_OF_LIMITS)))
    assert await stored_flights(context) == 2


@pytest.mark.parametrize("day", ["9999-12-31", "1999-12-31", "2100-01-02", "0001-01-01"])
@pytest.mark.parametrize("seats", ["1", "01"], ids=["fast path", "model path"])
async def test_a_search_date_outside_the_limits_is_422(
    client: httpx.AsyncClient, day: str, seats: str
) -> None:
    params = {"source": "Aville", "destination": "Bville", "date": day, "seats": seats}
    response = await client.get("/api/v1/search", params=params)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("day", ["2000-01-01", "2100-01-01"])
@pytest.mark.parametrize("seats", ["1", "01"], ids=["fast path", "model path"])
async def test_the_search_date_limits_themselves_are_allowed(
    client: httpx.AsyncClient, day: str, seats: str
) -> None:
    params = {"source": "Aville", "destination": "Bville", "date": day, "seats": seats}
    response = await client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    assert response.json() == []


@pytest.mark.parametrize("day", ["9999-12-31", "1999-12-31", "0001-01-01"])
async def test_an_admin_list_date_outside_the_limits_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], day: str
) -> None:
    response = await client.get("/admin/flights", params={"date": day}, headers=admin_headers)
    assert response.status_code == 422, response.text


INSERT = text(
    "INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts,"
    " total_seats, available_seats, price)"
    " VALUES (:id, :number, :source, :destination, CAST(CAST(:dep AS text) AS timestamptz),"
    " CAST(CAST(:arr AS text) AS timestamptz),"
    " 100, 100, 10)"
)


@pytest.mark.parametrize(
    "times",
    [
        ("2100-01-01T00:00:00Z", "2100-01-01T00:00:01Z"),
        ("1999-12-31T23:59:59Z", "2000-01-01T01:00:00Z"),
        ("2030-01-01T00:00:00Z", "2030-01-03T00:00:01Z"),
        ("-infinity", "2030-01-01T00:00:00Z"),
        ("2030-01-01T00:00:00Z", "infinity"),
    ],
)
async def test_the_database_refuses_flight_times_outside_the_limits(
    context: AppContext, times: tuple[str, str]
) -> None:
    values = {"id": uuid.uuid4(), "number": "DB-1", "source": "Aville", "destination": "Bville"}
    with pytest.raises(IntegrityError, match="check constraint"):
        async with context.engine.begin() as connection:
            await connection.execute(INSERT, {**values, "dep": times[0], "arr": times[1]})
    async with context.engine.begin() as connection:  # and accepts the limits themselves
        await connection.execute(
            INSERT, {**values, "dep": "2000-01-01T00:00:00Z", "arr": "2000-01-03T00:00:00Z"}
        )
        await connection.execute(
            INSERT,
            {**values, "id": uuid.uuid4(), "dep": "2099-12-31T00:00:00Z", "arr": "2100-01-01T00:00:00Z"},
        )


# Rows a database may hold from before migration 0004 (written with plain SQL, as the were).
LEGACY = {
    "departure in 9999": ("LG-1", "Aville", "Bville", "9999-12-31T00:00:00Z", "9999-12-31T02:00:00Z"),
    "departure in year 1": ("LG-2", "Aville", "Bville", "0001-01-01T00:00:00Z", "0001-01-01T02:00:00Z"),
    "departure -infinity into Aville": ("LG-3", "ZZZ", "Aville", "-infinity", at(5).isoformat()),
    "arrival in 2200": ("LG-4", "Bville", "Cville", at(9).isoformat(), "2200-01-01T00:00:00Z"),
    "arrival infinity": ("LG-5", "Bville", "Cville", at(10).isoformat(), "infinity"),
    "a flight of 72 h": (
        "LG-6",
        "Bville",
        "Cville",
        at(11).isoformat(),
        (at(11) + timedelta(hours=72)).isoformat(),
    ),
    "before 1970": ("LG-7", "Aville", "Bville", "1960-01-01T00:00:00Z", "1960-01-01T02:00:00Z"),
    "year 10000 (no Python datetime)": (
        "LG-8",
        "Aville",
        "Bville",
        "10000-01-01T00:00:00Z",
        "10000-01-01T02:00:00Z",
    ),
}


@pytest.fixture
async def legacy_rows(context: AppContext) -> AsyncIterator[dict[str, uuid.UUID]]:
    """LEGACY stored past the check constraints (dropped, the rows inserted, the constraints added
    back NOT VALID), as rows stored before they existed; validated again afterwards."""
    ids = {number: uuid.uuid4() for number, *_ in LEGACY.values()}
    async with context.engine.begin() as connection:
        checks = (
            await connection.execute(
                text(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE conrelid = 'flights'::regclass AND contype = 'c'"
                )
            )
        ).all()
        for name, _ in checks:
            await connection.execute(text(f'ALTER TABLE flights DROP CONSTRAINT "{name}"'))
        for number, source, destination, departure, arrival in LEGACY.values():
            values = {"id": ids[number], "number": number, "source": source, "destination": destination}
            await connection.execute(INSERT, {**values, "dep": departure, "arr": arrival})
        for name, definition in checks:
            definition = definition.removesuffix(" NOT VALID")
            await connection.execute(
                text(f'ALTER TABLE flights ADD CONSTRAINT "{name}" {definition} NOT VALID')
            )
    yield ids
    async with context.engine.begin() as connection:
        await connection.execute(text("DELETE FROM flights WHERE flight_number LIKE 'LG-%'"))
        for name, _ in checks:
            await connection.execute(text(f'ALTER TABLE flights VALIDATE CONSTRAINT "{name}"'))


async def valid_network(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, str]:
    first = await create_flight(
        client,
        headers,
        flight_number="OK-1",
        source="Aville",
        destination="Bville",
        departure=at(6),
        price=100,
    )
    second = await create_flight(
        client,
        headers,
        flight_number="OK-2",
        source="Bville",
        destination="Cville",
        departure=at(9, 30),
        price=100,
    )
    return first["id"], second["id"]


async def itineraries(client: httpx.AsyncClient, source: str, destination: str) -> list[list[str]]:
    params = {"source": source, "destination": destination, "date": str(DAY)}
    response = await client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    return [[f["flight_number"] for f in it["flights"]] for it in response.json()]


def skipped() -> float:
    return REGISTRY.get_sample_value(SKIPPED) or 0.0


async def test_a_stored_row_outside_the_limits_never_breaks_the_rebuild_or_the_cli(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext, legacy_rows: Any
) -> None:
    await valid_network(client, admin_headers)
    before = skipped()
    await index.rebuild(context)
    assert await index.is_ready(context)
    assert skipped() > before  # the rows the rebuild read and left out are counted
    assert await itineraries(client, "Aville", "Bville") == [["OK-1"]]
    assert await itineraries(client, "Aville", "Cville") == [["OK-1", "OK-2"]]
    assert await itineraries(client, "Bville", "Cville") == [["OK-2"]]
    # The operator's command, in its own process-like setting (its own event loop and pools).
    assert await asyncio.to_thread(cli.rebuild_index, context.settings) == 0


async def test_a_stored_row_outside_the_limits_never_breaks_a_search_without_an_index(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext, legacy_rows: Any
) -> None:
    await valid_network(client, admin_headers)
    keys = [k async for k in context.redis.scan_iter(match=context.keys.pattern())]
    await context.redis.delete(*keys)  # Redis lost its data: every search is computed exactly
    assert await itineraries(client, "Aville", "Cville") == [["OK-1", "OK-2"]]
    assert await itineraries(client, "Bville", "Cville") == [["OK-2"]]
    assert await itineraries(client, "ZZZ", "Bville") == []


async def test_a_stored_row_outside_the_limits_never_breaks_the_worker_or_admin_changes(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    legacy_rows: dict[str, uuid.UUID],
) -> None:
    await valid_network(client, admin_headers)
    await index.rebuild(context)
    # The worker's per-day reindex over the days around the stored rows.
    days = [
        (airport, DAY + timedelta(days=k))
        for airport in ("Aville", "Bville", "Cville", "ZZZ")
        for k in (-1, 0, 1)
    ]
    await store.mark_dirty(context, days)
    assert await index.reindex_dirty(context) == len(days)
    # Admin changes next to them (a connection into Aville), and to them: the old versions are outside.
    await create_flight(
        client,
        admin_headers,
        flight_number="OK-3",
        source="ZZZ",
        destination="Aville",
        departure=at(3),
        price=50,
    )
    fixed = body(at(7).isoformat(), at(8).isoformat(), number="LG-1")
    fixed.update(source="Bville", destination="Cville")
    response = await client.put(f"/admin/flights/{legacy_rows['LG-1']}", json=fixed, headers=admin_headers)
    assert response.status_code == 200, response.text
    response = await client.delete(f"/admin/flights/{legacy_rows['LG-2']}", headers=admin_headers)
    assert response.status_code == 204, response.text
    await run_search_worker(context)
    assert await itineraries(client, "ZZZ", "Cville") == [["OK-3", "OK-1", "OK-2"]]
    assert await itineraries(client, "Bville", "Cville") == [["OK-2"], ["LG-1"]]


async def test_after_redis_loses_its_data_the_worker_rebuilds_despite_stored_rows_outside_the_limits(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext, legacy_rows: Any
) -> None:
    await valid_network(client, admin_headers)
    keys = [k async for k in context.redis.scan_iter(match=context.keys.pattern())]
    await context.redis.delete(*keys)
    await index.request_reindex(context, full=True)
    await run_search_worker(context)
    assert await index.is_ready(context)
    assert await itineraries(client, "Aville", "Cville") == [["OK-1", "OK-2"]]


async def rebuild_jobs(context: AppContext) -> list[tuple[str, dict[str, Any]]]:
    async with context.engine.connect() as connection:
        found = await connection.execute(
            text("SELECT status::text, args FROM procrastinate_jobs WHERE task_name = :t ORDER BY id"),
            {"t": REBUILD_TASK},
        )
        return [(status, args) for status, args in found.all()]


async def test_a_failed_rebuild_is_retried_not_left(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    await valid_network(client, admin_headers)
    async with context.engine.begin() as connection:  # earlier tests' jobs
        await connection.execute(
            text("DELETE FROM procrastinate_jobs WHERE task_name = :t"), {"t": REBUILD_TASK}
        )
    keys = [k async for k in context.redis.scan_iter(match=context.keys.pattern())]
    await context.redis.delete(*keys)
    await index.request_reindex(context, full=True)
    # A real failure: the rebuild cannot read the airports' timezones.
    async with context.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE airports RENAME TO airports_away"))
    try:
        await run_search_worker(context)
    finally:
        async with context.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE airports_away RENAME TO airports"))
    assert not await index.is_ready(context)
    assert await rebuild_jobs(context) == [("failed", {}), ("todo", {"attempt": 1})]  # queued again
    async with context.engine.begin() as connection:  # its back-off elapsed
        await connection.execute(
            text("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE task_name = :t"),
            {"t": REBUILD_TASK},
        )
    await run_search_worker(context)
    assert await index.is_ready(context)
    assert await rebuild_jobs(context) == [("failed", {}), ("succeeded", {"attempt": 1})]
    assert await itineraries(client, "Aville", "Cville") == [["OK-1", "OK-2"]]


@pytest.fixture
def database_at_0003(servers: infra.TestServers) -> Iterator[tuple[str, Config]]:
    """A database of its own, migrated to 0003 (before the time limits)."""
    name = f"{servers.database_name}_m0004"
    admin = to_driver_url(servers.admin_database_url, "postgresql")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = f"{servers.database_url.rpartition('/')[0]}/{name}"
    config = Config(str(cli.ROOT / "alembic.ini"))
    config.attributes.update(configure_logger=False, database_url=url)
    try:
        command.upgrade(config, "0003")
        yield to_driver_url(url, "postgresql"), config
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def constraints(connection: psycopg.Connection[Any]) -> dict[str, bool]:
    """The time-limit constraints on flights, and whether each is validated."""
    found = connection.execute(
        "SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'flights'::regclass"
        " AND conname IN ('ck_flights_times_in_range', 'ck_flights_duration_within_limit')"
    )
    return dict(found.fetchall())


def test_the_migration_moves_flights_outside_the_limits_aside_and_keeps_booked_ones(
    database_at_0003: tuple[str, Config],
) -> None:
    url, config = database_at_0003
    good, booked = uuid.uuid4(), uuid.uuid4()
    aside = {number: uuid.uuid4() for number in ("LG-1", "LG-2", "LG-6", "LG-8")}
    with psycopg.connect(url, autocommit=True) as connection:
        insert = (
            "INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts,"
            " total_seats, available_seats, price) VALUES (%s, %s, %s, %s, %s::timestamptz, %s::timestamptz,"
            " 100, 99, 10)"
        )
        connection.execute(insert, (good, "OK-1", "Aville", "Bville", at(6).isoformat(), at(8).isoformat()))
        connection.execute(insert, (booked, "LG-4", *LEGACY["arrival in 2200"][1:]))
        for number, source, destination, departure, arrival in LEGACY.values():
            if number in aside:
                connection.execute(insert, (aside[number], number, source, destination, departure, arrival))
        user = uuid.uuid4()
        connection.execute("INSERT INTO users (id, username, hashed_password) VALUES (%s, 'u', 'x')", (user,))
        connection.execute(
            "INSERT INTO bookings (id, user_id, flight_id, seats, status)"
            " VALUES (%s, %s, %s, 1, 'CONFIRMED')",
            (uuid.uuid4(), user, booked),
        )

    command.upgrade(config, "head")

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SET TIME ZONE 'UTC'")
        kept = connection.execute("SELECT id FROM flights ORDER BY flight_number").fetchall()
        assert [r[0] for r in kept] == [booked, good]
        moved = connection.execute(
            "SELECT id, flight_number, departure_ts::text, moved_at IS NOT NULL FROM flights_out_of_range"
        ).fetchall()
        assert {r[0]: r[1] for r in moved} == {i: n for n, i in aside.items()}  # whole rows, not lost
        assert all(r[3] for r in moved)
        assert [r[2] for r in moved if r[0] == aside["LG-8"]] == ["10000-01-01 00:00:00+00"]
        # The booked one stays, exempted: the constraints hold for every other row, validated.
        assert constraints(connection) == {
            "ck_flights_times_in_range": True,
            "ck_flights_duration_within_limit": True,
        }
        with pytest.raises(psycopg.errors.CheckViolation):
            connection.execute(
                insert, (uuid.uuid4(), "NEW-1", "Aville", "Bville", "9999-12-31", "9999-12-31 01:00")
            )
        # The seat write-back still updates it (a NOT VALID constraint would refuse that).
        connection.execute("UPDATE flights SET available_seats = 98 WHERE id = %s", (booked,))

    command.downgrade(config, "0003")  # the constraints only: no row is lost

    with psycopg.connect(url, autocommit=True) as connection:
        assert constraints(connection) == {}
        assert connection.execute("SELECT count(*) FROM flights").fetchone() == (2,)
        assert connection.execute("SELECT count(*) FROM flights_out_of_range").fetchone() == (len(aside),)

    command.upgrade(config, "head")  # and again

    with psycopg.connect(url, autocommit=True) as connection:
        assert set(constraints(connection).values()) == {True}
        # The operator corrects the booked flight's times.
        connection.execute(
            "UPDATE flights SET arrival_ts = departure_ts + interval '2 hours' WHERE id = %s", (booked,)
        )


async def test_a_rebuild_failing_while_another_is_requested_leaves_one_queued_and_the_worker_running(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    await valid_network(client, admin_headers)
    async with context.engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM procrastinate_jobs WHERE task_name = :t"), {"t": REBUILD_TASK}
        )
    keys = [k async for k in context.redis.scan_iter(match=context.keys.pattern())]
    await context.redis.delete(*keys)
    await index.request_reindex(context, full=True)
    url = to_driver_url(context.settings.require_database_url(), "postgresql")
    # Connections of their own: the app's pool is the rebuild's.
    async with (
        await psycopg.AsyncConnection.connect(url) as blocker,
        await psycopg.AsyncConnection.connect(url, autocommit=True) as watcher,
    ):
        # The rebuild blocks on reading the airports' timezones: a job in progress.
        await blocker.execute("LOCK TABLE airports IN ACCESS EXCLUSIVE MODE")
        worker = asyncio.create_task(run_search_worker(context))
        waiting = None
        for _ in range(200):
            found = await watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE '%FROM airports%' AND datname = current_database()"
            )
            waiting = await found.fetchone()
            if waiting is not None:
                break
            await asyncio.sleep(0.05)
        assert waiting is not None
        await index.request_reindex(context, full=True)  # queued while the first one runs
        assert await rebuild_jobs(context) == [("doing", {}), ("todo", {})]
        await watcher.execute("SELECT pg_cancel_backend(%s)", waiting)
        await blocker.rollback()
    await asyncio.wait_for(worker, 60)  # the worker went on: the request made meanwhile ran
    assert await rebuild_jobs(context) == [("failed", {}), ("succeeded", {})]  # none left doing
    assert await index.is_ready(context)
    assert await itineraries(client, "Aville", "Cville") == [["OK-1", "OK-2"]]


async def test_a_failed_reindex_keeps_its_days_and_is_queued_again(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    await valid_network(client, admin_headers)
    await index.rebuild(context)
    async with context.engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM procrastinate_jobs WHERE task_name = :t"), {"t": REINDEX_TASK}
        )
    days = [("Aville", DAY), ("Bville", DAY)]
    await store.invalidate(context, days, {d: lifetime.day_expires_at_utc(d[1]) for d in days})
    await index.request_reindex(context)
    async with context.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE airports RENAME TO airports_away"))
    try:
        await run_search_worker(context)
    finally:
        async with context.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE airports_away RENAME TO airports"))
    assert await context.redis.scard(context.keys.search_dirty) == len(days)  # not lost
    async with context.engine.begin() as connection:
        queued = await connection.execute(
            text(
                "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE task_name = :t AND status = 'todo'"
                " RETURNING args"
            ),
            {"t": REINDEX_TASK},
        )
        assert queued.scalars().all() == [{"attempt": 1}]
    await run_search_worker(context)
    assert await context.redis.scard(context.keys.search_dirty) == 0
    assert await itineraries(client, "Aville", "Cville") == [["OK-1", "OK-2"]]
