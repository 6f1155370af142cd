"""Incremental patches on a dense network, where lists are full (40 entries, not ``complete``) and
many itineraries tie on price: after any sequence of admin-sized changes (price up or down, time
shift, new airports, insert, delete, several flights at once), every list left by the patches is
an exact prefix of what a full rebuild computes (the whole of it when it says it is complete), and
answers equal the brute force."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.context import AppContext
from app.flights.events import FlightChange, FlightSnapshot
from app.search import data, index
from app.search import storage as store
from app.search.codec import decode_list
from app.search.hooks import on_flights_changed
from tests.search_reference import brute_force

AIRPORTS = ["AAA", "BBB", "CCC", "DDD", "EEE"]
START = (datetime.now(UTC) + timedelta(days=6)).replace(hour=0, minute=0, second=0, microsecond=0)

_INSERT = """
INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts, total_seats,
                     available_seats, price)
VALUES (:id, :number, :source, :destination, :departure, :arrival, 5, 5, :price)
"""


def random_flight(rng: random.Random, number: str) -> dict[str, Any]:
    source, destination = rng.sample(AIRPORTS, 2)
    departure = START + timedelta(minutes=15 * rng.randrange(0, 2 * 24 * 4))
    return {
        "id": uuid.uuid4(),
        "number": number,
        "source": source,
        "destination": destination,
        "departure": departure,
        "arrival": departure + timedelta(minutes=rng.choice((60, 90, 120))),
        "price": Decimal(rng.randrange(5, 30) * 10),  # coarse prices: many ties
    }


async def insert(context: AppContext, flight: dict[str, Any]) -> None:
    async with context.engine.begin() as connection:
        await connection.execute(text(_INSERT), flight)


async def snapshot_of(context: AppContext, flight_id: uuid.UUID) -> FlightSnapshot | None:
    rows = await data.fetch(context, "id = $1", flight_id)
    if not rows:
        return None
    r = rows[0]
    return FlightSnapshot(
        r.id, r.flight_number, r.source, r.destination, r.departure_ts, r.arrival_ts, r.total_seats, r.price
    )


async def change(context: AppContext, rng: random.Random, ids: list[uuid.UUID], step: int) -> None:
    """One admin-style change committed in SQL, then the search hook, as the services do."""
    kind = rng.choice(("cheaper", "dearer", "time", "insert", "delete", "reroute", "several"))
    if kind == "several" and len(ids) >= 3:
        targets = rng.sample(ids, 3)
        befores = [await snapshot_of(context, t) for t in targets]
        async with context.engine.begin() as connection:
            for t in targets:
                await connection.execute(
                    text(
                        "UPDATE flights SET price = :p, departure_ts = departure_ts + interval '15 minutes',"
                        " arrival_ts = arrival_ts + interval '15 minutes' WHERE id = :id"
                    ),
                    {"id": t, "p": Decimal(rng.randrange(5, 30) * 10)},
                )
        afters = [await snapshot_of(context, t) for t in targets]
        await on_flights_changed(context, [FlightChange(b, a) for b, a in zip(befores, afters, strict=True)])
        return
    if kind == "insert" or not ids:
        flight = random_flight(rng, f"N{step}")
        await insert(context, flight)
        ids.append(flight["id"])
        await on_flights_changed(context, [FlightChange(None, await snapshot_of(context, flight["id"]))])
        return
    target = rng.choice(ids)
    before = await snapshot_of(context, target)
    async with context.engine.begin() as connection:
        if kind == "delete":
            await connection.execute(text("DELETE FROM flights WHERE id = :id"), {"id": target})
            ids.remove(target)
        elif kind == "reroute":
            source, destination = rng.sample(AIRPORTS, 2)
            await connection.execute(
                text("UPDATE flights SET source = :s, destination = :d WHERE id = :id"),
                {"id": target, "s": source, "d": destination},
            )
        elif kind == "time":
            shift = timedelta(minutes=rng.choice((-120, -45, 30, 90)))
            await connection.execute(
                text(
                    "UPDATE flights SET departure_ts = departure_ts + :s, arrival_ts = arrival_ts + :s"
                    " WHERE id = :id"
                ),
                {"id": target, "s": shift},
            )
        else:
            factor = Decimal("0.5") if kind == "cheaper" else Decimal("2")
            await connection.execute(
                text("UPDATE flights SET price = round(price * :f, -1) WHERE id = :id"),
                {"id": target, "f": factor},
            )
    await on_flights_changed(context, [FlightChange(before, await snapshot_of(context, target))])


async def lists(context: AppContext) -> dict[bytes, dict[bytes, bytes]]:
    keys = [k async for k in context.redis.scan_iter(match=context.keys.search_day("*", "*"))]
    return {k: await context.redis.hgetall(k) for k in keys}


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("seed", "pinned"), [(1, False), (2, False), (3, False), (4, True), (5, True)])
async def test_patched_lists_stay_exact_prefixes_of_a_rebuild_on_a_dense_network(
    client: httpx.AsyncClient, context: AppContext, seed: int, pinned: bool
) -> None:
    """``pinned``: the neighbourhoods from the process's pinned timetable (neighbourhood.py), else
    (at least at first) from PostgreSQL."""
    rng = random.Random(seed)
    ids: list[uuid.UUID] = []
    for k in range(260):
        flight = random_flight(rng, f"D{k}")
        await insert(context, flight)
        ids.append(flight["id"])
    await index.rebuild(context)
    full = 0
    for fields in (await lists(context)).values():
        full += sum(
            1 for f, v in fields.items() if f not in (store.BUILT, store.GEN) and not decode_list(v)[1]
        )
    assert full > 10, "the network must fill lists to their depth for this test to mean anything"
    if pinned:
        await context.neighbourhood.warm_up(context)

    for step in range(25):
        await change(context, rng, ids, step)
    if pinned:
        assert await context.neighbourhood.since(context) is not None, "the pin answered throughout"

    patched = await lists(context)
    day = START.date()
    for source, destination in (("AAA", "DDD"), ("BBB", "EEE"), ("CCC", "AAA")):
        response = await client.get(
            "/api/v1/search",
            params={"source": source, "destination": destination, "date": str(day), "seats": 1},
        )
        assert response.json() == await brute_force(context, source, destination, day, 1)
    await index.rebuild(context)
    rebuilt = await lists(context)
    compared = 0
    for key, fields in patched.items():
        if fields.get(store.BUILT) is None:
            continue  # invalidated: answered from PostgreSQL until recomputed
        for field in set(fields) | set(rebuilt.get(key, {})):
            if field in (store.BUILT, store.GEN):
                continue
            ours = decode_list(fields[field]) if field in fields else ([], True)
            theirs = decode_list(rebuilt[key][field]) if field in rebuilt.get(key, {}) else ([], True)
            assert ours[0] == theirs[0][: len(ours[0])], (key, field)
            if ours[1]:
                assert ours == theirs, (key, field)
            compared += 1
    assert compared > 30


async def test_patches_of_many_days_apply_only_where_the_generation_is_unchanged(context: AppContext) -> None:
    tag = data.format_tag(context.settings).encode()
    days = [("AAA", START.date()), ("BBB", START.date())]
    for origin, day in days:
        await context.redis.hset(
            store.day_key(context, origin, day), mapping={store.BUILT: tag, store.GEN: b"4"}
        )
    written = await store.patch_days(
        context, tag, [(days[0], b"4", ["CCC", b"new"]), (days[1], b"3", ["CCC", b"late"])]
    )
    assert written == [True, False]
    read = await store.read_days(context, days, [["CCC", "DDD"], ["CCC"]])
    assert read == [[tag, b"5", b"new", None], [tag, b"4", None]]
