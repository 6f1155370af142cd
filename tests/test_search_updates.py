"""Search index upkeep: small changes patched in place, large ones invalidated and recomputed by the
worker, stale locks and racing writers never block or corrupt anything, answers stay exact."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.context import AppContext, create_jobs_app
from app.flights.events import FlightChange, FlightSnapshot, flights_changed
from app.search import data, index
from app.search import storage as store
from app.search.codec import header
from app.search.tasks import QUEUE
from tests.conftest import create_flight
from tests.search_reference import brute_force

DAY = (datetime.now(UTC) + timedelta(days=12)).date()


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC)


async def search(client: httpx.AsyncClient, source: str, destination: str, seats: int = 1) -> Any:
    response = await client.get(
        "/api/v1/search",
        params={"source": source, "destination": destination, "date": str(DAY), "seats": seats},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def built(context: AppContext, origin: str) -> bool:
    tag = await context.redis.hget(store.day_key(context, origin, DAY), store.BUILT)
    return tag == data.format_tag(context.settings).encode()


async def run_search_worker(context: AppContext) -> None:
    """The real job queue: process the queued search jobs, then stop."""
    async with create_jobs_app(context.settings, max_pool_size=2).open_async() as app:
        await app.run_worker_async(
            queues=[QUEUE],
            wait=False,
            install_signal_handlers=False,
            additional_context={"app_context": context},
        )


async def network(client: httpx.AsyncClient, headers: dict[str, str], count: int) -> list[dict[str, Any]]:
    flights = []
    for k in range(count):
        a, b = ("Aville", "Bville") if k % 2 == 0 else ("Bville", "Cville")
        flights.append(
            await create_flight(
                client,
                headers,
                flight_number=f"W{k}",
                source=a,
                destination=b,
                departure=at(1 + k // 2 + 3 * (k % 2), 5 * (k % 12)),
                price=100 + 7 * k,
            )
        )
    return flights


def snapshot(flight: dict[str, Any]) -> FlightSnapshot:
    from decimal import Decimal
    from uuid import UUID

    return FlightSnapshot(
        UUID(flight["id"]),
        flight["flight_number"],
        flight["source"],
        flight["destination"],
        datetime.fromisoformat(flight["departure_ts"]),
        datetime.fromisoformat(flight["arrival_ts"]),
        flight["total_seats"],
        Decimal(str(flight["price"])),
    )


async def test_a_bulk_sized_change_is_answered_exactly_until_the_worker_recomputes_it(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flights = await network(client, admin_headers, 24)
    await index.rebuild(context)
    assert await built(context, "Aville")
    expected = await brute_force(context, "Aville", "Cville", DAY, 1)
    assert len(expected) == 20
    await flights_changed(context, [FlightChange(snapshot(f), snapshot(f)) for f in flights])
    assert not await built(context, "Aville")
    assert await search(client, "Aville", "Cville") == expected
    await run_search_worker(context)
    assert await built(context, "Aville")
    assert await search(client, "Aville", "Cville") == expected


async def test_a_lock_left_by_a_dead_process_neither_blocks_nor_loses_a_change(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flights = await network(client, admin_headers, 6)
    await index.rebuild(context)
    # What a kill -9 leaves: both locks held by nobody alive, with a long TTL.
    await context.redis.set(context.keys.search_update_lock, "dead", px=900_000)
    await context.redis.set(context.keys.search_lock, "dead", px=900_000)
    body = {**flights[1], "price": 1}
    for field in ("id", "available_seats"):
        body.pop(field)
    response = await client.put(f"/admin/flights/{flights[1]['id']}", json=body, headers=admin_headers)
    assert response.status_code == 200
    result = await search(client, "Aville", "Cville")
    assert result[0]["flights"][1]["id"] == flights[1]["id"]
    assert result == await brute_force(context, "Aville", "Cville", DAY, 1)
    assert not await index.rebuild(context, wait=False)  # the dead holder's rebuild lock
    await run_search_worker(context)
    assert await built(context, "Aville")
    assert await search(client, "Aville", "Cville") == await brute_force(context, "Aville", "Cville", DAY, 1)


async def test_a_computation_older_than_a_change_never_overwrites_it(context: AppContext) -> None:
    day = (("Aville", DAY),)
    gens = await store.generations(context, list(day))
    await store.invalidate(context, day, {day[0]: 2_000_000_000})
    script = context.redis.register_script(store.REPLACE)
    stale = store.replace_args(gens[0], 2_000_000_000, data.format_tag(context.settings), {"Bville": b"x"})
    assert await script(keys=[store.day_key(context, "Aville", DAY)], args=stale) == 0
    assert not await built(context, "Aville")
    assert await context.redis.sismember(context.keys.search_dirty, store.member("Aville", DAY))


async def test_deleting_the_top_of_a_full_list_keeps_answers_exact(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flights = [
        await create_flight(
            client,
            admin_headers,
            flight_number=f"F{k}",
            source="Aville",
            destination="Bville",
            departure=at(0, 10 + k),
            price=100 + k,
        )
        for k in range(45)
    ]
    await index.rebuild(context)
    for f in flights[:25]:
        assert (await client.delete(f"/admin/flights/{f['id']}", headers=admin_headers)).status_code == 204
    blob = await context.redis.hget(store.day_key(context, "Aville", DAY), "Bville")
    assert blob is not None and header(blob)[:2] == (False, 15)  # a cut prefix, not complete
    assert await built(context, "Aville")
    assert await search(client, "Aville", "Bville") == await brute_force(context, "Aville", "Bville", DAY, 1)
    # The short list was queued for a refill; the worker makes it whole again.
    await run_search_worker(context)
    blob = await context.redis.hget(store.day_key(context, "Aville", DAY), "Bville")
    assert blob is not None and header(blob)[:2] == (True, 20)


async def test_a_day_the_index_lost_is_answered_exactly_and_queued(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    await network(client, admin_headers, 6)
    await index.rebuild(context)
    await context.redis.delete(store.day_key(context, "Aville", DAY))
    assert await search(client, "Aville", "Cville") == await brute_force(context, "Aville", "Cville", DAY, 1)
    assert await context.redis.sismember(context.keys.search_dirty, store.member("Aville", DAY))
    await run_search_worker(context)
    assert await built(context, "Aville")


@pytest.mark.parametrize("kind", ["insert", "move", "delete"])
async def test_single_changes_patch_the_lists_as_a_rebuild_would(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext, kind: str
) -> None:
    flights = await network(client, admin_headers, 10)
    await index.rebuild(context)
    if kind == "insert":
        await create_flight(
            client,
            admin_headers,
            flight_number="NEW",
            source="Bville",
            destination="Cville",
            departure=at(3),
            price=1,
        )
    elif kind == "move":
        body = {**flights[3], "departure_ts": at(9).isoformat(), "arrival_ts": at(11).isoformat()}
        for field in ("id", "available_seats"):
            body.pop(field)
        response = await client.put(f"/admin/flights/{flights[3]['id']}", json=body, headers=admin_headers)
        assert response.status_code == 200
    else:
        assert (
            await client.delete(f"/admin/flights/{flights[0]['id']}", headers=admin_headers)
        ).status_code == 204
    assert await built(context, "Aville") and await built(context, "Bville")
    patched = {
        origin: await context.redis.hgetall(store.day_key(context, origin, DAY))
        for origin in ("Aville", "Bville")
    }
    await index.rebuild(context)
    for origin, fields in patched.items():
        rebuilt = await context.redis.hgetall(store.day_key(context, origin, DAY))
        assert {k: v for k, v in fields.items() if k != store.GEN} == {
            k: v for k, v in rebuilt.items() if k != store.GEN
        }
    for pair in (("Aville", "Cville"), ("Aville", "Bville"), ("Bville", "Cville")):
        assert await search(client, *pair) == await brute_force(context, pair[0], pair[1], DAY, 1)


async def test_the_rebuild_lock_stops_renewing_and_is_released_when_the_rebuild_ends(
    context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index, "_RENEW_SECONDS", 0.02)
    async with index.rebuild_lock(context, wait=False) as acquired:
        assert acquired
        await asyncio.sleep(0.1)  # several renewals
        async with index.rebuild_lock(context, wait=False) as second:
            assert not second  # one rebuild at a time
    assert await context.redis.exists(context.keys.search_lock) == 0
    await asyncio.sleep(0.05)
    # No renewal left running (it once outlived its rebuild and kept the CLI alive).
    renewals = [t for t in asyncio.all_tasks() if getattr(t.get_coro(), "__qualname__", "").endswith("renew")]
    assert not [t for t in renewals if not t.done()]
