"""Property: after any sequence of admin changes, every answer equals the brute-force reference,
and every list the updates left is an exact prefix of what a full rebuild computes (the whole of it
when the list says it is complete)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app.context import AppContext
from app.search import index
from app.search import storage as store
from app.search.codec import decode_list
from tests.conftest import flight_body
from tests.search_reference import brute_force

AIRPORTS = ["Delhi", "Mumbai", "AAA", "BBB"]  # two in Asia/Kolkata, two in UTC
BASE = (datetime.now(UTC) + timedelta(days=5)).replace(hour=0, minute=0, second=0, microsecond=0)

flight = st.fixed_dictionaries(
    {
        "pair": st.permutations(AIRPORTS).map(lambda p: (p[0], p[1])),
        "minute": st.integers(0, 2 * 24 * 60 // 15).map(lambda k: k * 15),
        "duration": st.sampled_from([45, 60, 120, 300]),
        "price": st.integers(1, 6).map(lambda k: k * 50),
        "seats": st.sampled_from([1, 2, 5]),
    }
)
operation = st.one_of(
    st.tuples(st.just("create"), flight),
    st.tuples(st.just("update"), st.integers(0, 50), flight),
    st.tuples(st.just("delete"), st.integers(0, 50)),
)


def body(spec: dict[str, Any], number: int) -> dict[str, Any]:
    source, destination = spec["pair"]
    return flight_body(
        flight_number=f"PX{number}",
        source=source,
        destination=destination,
        departure=BASE + timedelta(minutes=spec["minute"]),
        duration_minutes=spec["duration"],
        total_seats=spec["seats"],
        price=spec["price"],
    )


async def snapshot(context: AppContext) -> dict[bytes, dict[bytes, bytes]]:
    keys = [k async for k in context.redis.scan_iter(match=context.keys.search_day("*", "*"))]
    return {k: await context.redis.hgetall(k) for k in keys}


async def reset(context: AppContext) -> None:
    async with context.engine.begin() as connection:
        await connection.execute(text("TRUNCATE bookings, flights CASCADE"))
    keys = [k async for k in context.redis.scan_iter(match=context.keys.search_day("*", "*"))]
    if keys:
        await context.redis.delete(*keys)
    await index.rebuild(context)


@pytest.mark.timeout(600)
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(initial=st.lists(flight, max_size=14), operations=st.lists(operation, max_size=6))
async def test_changes_keep_index_equal_to_rebuild_and_brute_force(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    initial: list[dict[str, Any]],
    operations: list[Any],
) -> None:
    await reset(context)
    created: list[str] = []
    for k, spec in enumerate(initial):
        response = await client.post("/admin/flights", json=body(spec, k), headers=admin_headers)
        if response.status_code == 201:
            created.append(response.json()["id"])
    for k, op in enumerate(operations):
        if op[0] == "create":
            response = await client.post("/admin/flights", json=body(op[1], 100 + k), headers=admin_headers)
            if response.status_code == 201:
                created.append(response.json()["id"])
        elif created and op[0] == "update":
            target = created[op[1] % len(created)]
            await client.put(f"/admin/flights/{target}", json=body(op[2], 200 + k), headers=admin_headers)
        elif created:
            target = created.pop(op[1] % len(created))
            await client.delete(f"/admin/flights/{target}", headers=admin_headers)
    incremental = await snapshot(context)
    for day in (BASE.date(), BASE.date() + timedelta(days=1)):
        for source in AIRPORTS:
            for destination in AIRPORTS:
                if source == destination:
                    continue
                for seats in (1, 2):
                    response = await client.get(
                        "/api/v1/search",
                        params={
                            "source": source,
                            "destination": destination,
                            "date": str(day),
                            "seats": seats,
                        },
                    )
                    assert response.json() == await brute_force(context, source, destination, day, seats)
    await index.rebuild(context)
    rebuilt = await snapshot(context)
    for key, fields in incremental.items():
        if fields.get(store.BUILT) is None:
            continue  # not built: answered from PostgreSQL
        for field in set(fields) | set(rebuilt.get(key, {})):
            if field in (store.BUILT, store.GEN):
                continue
            ours = decode_list(fields[field]) if field in fields else ([], True)
            theirs = decode_list(rebuilt[key][field]) if field in rebuilt.get(key, {}) else ([], True)
            assert ours[0] == theirs[0][: len(ours[0])], (key, field)
            if ours[1]:
                assert ours == theirs, (key, field)
