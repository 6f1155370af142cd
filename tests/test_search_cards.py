"""Flight cards and the invalidation bound under bulk-sized change sets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.context import AppContext
from app.flights.events import FlightChange, FlightSnapshot, flights_changed
from app.search import data, index
from tests.search_reference import brute_force
from tests.test_search_updates import DAY, network, run_search_worker, search, snapshot


async def test_flights_inserted_in_bulk_get_their_cards_from_postgresql_on_first_search(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flights: list[dict[str, Any]] = await network(client, admin_headers, 24)
    for flight in flights:
        await context.redis.delete(context.keys.flight_card(flight["id"]))
    # A bulk batch of inserts writes no cards: they are read from PostgreSQL and remembered.
    await flights_changed(context, [FlightChange(None, snapshot(f)) for f in flights])
    await run_search_worker(context)
    expected = await brute_force(context, "Aville", "Cville", DAY, 1)
    assert await search(client, "Aville", "Cville") == expected
    used = {leg["id"] for itinerary in expected for leg in itinerary["flights"]}
    for flight_id in used:
        assert await context.redis.exists(context.keys.flight_card(flight_id))
    assert await search(client, "Aville", "Cville") == expected


async def test_a_bulk_update_rewrites_the_cards_it_changed(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    flights = await network(client, admin_headers, 24)
    await index.rebuild(context)
    first = flights[0]
    async with context.engine.begin() as connection:
        await connection.execute(text("UPDATE flights SET price = 1 WHERE id = :id"), {"id": first["id"]})
    changed = {**first, "price": 1.0}
    others = [FlightChange(snapshot(f), snapshot(f)) for f in flights[1:]]
    await flights_changed(context, [FlightChange(snapshot(first), snapshot(changed)), *others])
    await run_search_worker(context)
    results = await search(client, "Aville", "Bville")
    assert results == await brute_force(context, "Aville", "Bville", DAY, 1)
    assert results[0]["flights"][0]["id"] == first["id"]
    assert results[0]["flights"][0]["price"] == 1.0


async def test_the_longest_duration_bound_only_rises(context: AppContext) -> None:
    assert await data.max_duration(context) == 0
    assert await data.max_duration(context, at_least=7200) == 7200
    assert await data.max_duration(context, at_least=3600) == 7200
    await context.redis.delete(context.keys.search_max_duration)
    # Lost from Redis: recomputed from PostgreSQL (no flights here), then raised again.
    assert await data.max_duration(context, at_least=60) == 60


async def test_a_flight_changed_during_a_full_rebuild_keeps_its_new_card(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flights = await network(client, admin_headers, 6)
    first = flights[0]
    fetch = data.fetch
    changed_meanwhile = False

    async def fetch_then_change(*args: Any) -> list[FlightSnapshot]:
        nonlocal changed_meanwhile
        rows = await fetch(*args)
        if not changed_meanwhile:
            # The admin change commits (and writes its card) just after the rebuild's read.
            changed_meanwhile = True
            fields = ("flight_number", "source", "destination", "departure_ts", "arrival_ts", "total_seats")
            body = {**{f: first[f] for f in fields}, "price": 1.0}
            response = await client.put(f"/admin/flights/{first['id']}", json=body, headers=admin_headers)
            assert response.status_code == 200, response.text
        return rows

    monkeypatch.setattr(data, "fetch", fetch_then_change)
    await index.rebuild(context)
    monkeypatch.setattr(data, "fetch", fetch)
    # Right after the rebuild, not only once the worker has recomputed the invalidated days.
    card = await context.redis.get(context.keys.flight_card(first["id"]))
    assert card is not None and b'"price":1.0' in card
    await run_search_worker(context)
    results = await search(client, "Aville", "Bville")
    assert results == await brute_force(context, "Aville", "Bville", DAY, 1)
    assert [leg["price"] for it in results for leg in it["flights"] if leg["id"] == first["id"]] == [1.0]
