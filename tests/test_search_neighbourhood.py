"""A small change's neighbourhood: the one PostgreSQL query holds every flight that can precede or
follow a changed flight within two connections; from the process's pinned timetable
(app/search/neighbourhood.py), with flights inserted, deleted, moved, rerouted and cancelled after
the pin (announced on the feed), it holds exactly the flights that query returns; when the feed
cannot prove what changed (a reload announced, the head lost) it does not answer."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from app.context import AppContext
from app.search import data, incremental, neighbourhood, timetable

AIRPORTS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
START = (datetime.now(UTC) + timedelta(days=8)).replace(hour=0, minute=0, second=0, microsecond=0)
_INSERT = text(
    "INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts,"
    " total_seats, available_seats, price) VALUES (:id, :number, :source, :destination,"
    " :departure, :arrival, 5, 5, :price)"
)


def _flight(rng: random.Random, k: int) -> dict[str, Any]:
    source, destination = rng.sample(AIRPORTS, 2)
    departure = START + timedelta(minutes=10 * rng.randrange(0, 3 * 24 * 6))
    return {
        "id": uuid.uuid4(),
        "number": f"NB{k}",
        "source": source,
        "destination": destination,
        "departure": departure,
        "arrival": departure + timedelta(minutes=rng.choice((50, 95, 180))),
        "price": Decimal(rng.randrange(10, 90)),
    }


async def _changed_after_the_pin(context: AppContext, rng: random.Random, ids: list[uuid.UUID]) -> None:
    """Inserts, deletes, time moves, reroutes and cancellations, committed and announced."""
    for step in range(40):
        kind = rng.choice(("insert", "delete", "time", "reroute", "cancel"))
        async with context.engine.begin() as connection:
            if kind == "insert":
                flight = _flight(rng, 1000 + step)
                await connection.execute(_INSERT, flight)
                ids.append(target := flight["id"])
            else:
                target = rng.choice(ids)
                if kind == "delete":
                    await connection.execute(text("DELETE FROM flights WHERE id = :id"), {"id": target})
                    ids.remove(target)
                elif kind == "cancel":
                    await connection.execute(
                        text("UPDATE flights SET status = 'CANCELLED' WHERE id = :id"), {"id": target}
                    )
                elif kind == "reroute":
                    source, destination = rng.sample(AIRPORTS, 2)
                    await connection.execute(
                        text("UPDATE flights SET source = :s, destination = :d WHERE id = :id"),
                        {"id": target, "s": source, "d": destination},
                    )
                else:
                    await connection.execute(
                        text(
                            "UPDATE flights SET departure_ts = departure_ts + :s,"
                            " arrival_ts = arrival_ts + :s WHERE id = :id"
                        ),
                        {"id": target, "s": timedelta(minutes=rng.choice((-95, -40, 35, 120)))},
                    )
        await timetable.publish(context, [target])


@pytest.mark.parametrize("seed", [7, 8, 9])
async def test_the_pinned_neighbourhood_is_postgresqls_after_changes_announced_since_the_pin(
    context: AppContext, seed: int
) -> None:
    rng = random.Random(seed)
    rows = [_flight(rng, k) for k in range(400)]
    async with context.engine.begin() as connection:
        await connection.execute(_INSERT, rows)
    await timetable.publish(context, None)  # inserted in SQL: every reader reloads, as a rebuild makes
    await context.neighbourhood.warm_up(context)
    ids = [r["id"] for r in rows]
    await _changed_after_the_pin(context, rng, ids)
    rules = data.rules_of(context.settings)
    since = await context.neighbourhood.since(context)
    assert since is not None
    every = [incremental.graph_flight(r) for r in await data.fetch(context, "true")]
    assert any(f.id in since.rows for f in every), "changes since the pin must take part"
    for changed in [*rng.sample(every, 30), *(f for f in every if f.id in since.rows)]:
        expected = await incremental.neighbours(context, [changed], rules)
        assert sorted(since.around([changed], rules)) == sorted(expected), changed
    several = rng.sample(every, 4)
    expected = await incremental.neighbours(context, several, rules)
    assert sorted(since.around(several, rules)) == sorted(expected)


async def test_the_pin_does_not_answer_after_a_reload_or_a_lost_head(context: AppContext) -> None:
    rng = random.Random(3)
    async with context.engine.begin() as connection:
        await connection.execute(_INSERT, [_flight(rng, k) for k in range(20)])
    await timetable.publish(context, None)
    await context.neighbourhood.warm_up(context)
    assert await context.neighbourhood.since(context) is not None
    await timetable.publish(context, None)  # every reader reloads: what changed is not known
    assert await context.neighbourhood.since(context) is None
    await context.neighbourhood.warm_up(context)
    assert await context.neighbourhood.since(context) is not None
    await context.redis.delete(context.keys.search_timetable_head)  # Redis lost the head
    assert await context.neighbourhood.since(context) is None


async def test_too_many_changes_since_the_pin_renew_it_and_postgresql_answers_meanwhile(
    context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(neighbourhood, "MAX_CHANGED", 3)
    rng = random.Random(5)
    rows = [_flight(rng, k) for k in range(30)]
    async with context.engine.begin() as connection:
        await connection.execute(_INSERT, rows)
    await timetable.publish(context, None)
    await context.neighbourhood.warm_up(context)
    await timetable.publish(context, [rows[0]["id"], rows[1]["id"]])
    assert await context.neighbourhood.since(context) is not None
    await timetable.publish(context, [rows[2]["id"], rows[3]["id"]])  # four since the pin
    assert await context.neighbourhood.since(context) is None
    renewal = context.neighbourhood._pinning
    assert renewal is not None
    await renewal
    since = await context.neighbourhood.since(context)
    assert since is not None and not since.rows, "a fresh pin at the head: nothing announced since"


async def test_the_neighbourhood_holds_every_flight_within_two_connections(context: AppContext) -> None:
    rng = random.Random(11)
    async with context.engine.begin() as connection:
        await connection.execute(_INSERT, [_flight(rng, k) for k in range(400)])
    rules = data.rules_of(context.settings)
    every = [incremental.graph_flight(r) for r in await data.fetch(context, "true")]

    def connects(a: incremental.GraphFlight, b: incremental.GraphFlight) -> bool:
        return (
            a.destination == b.source
            and a.arrival + rules.min_connection <= b.departure <= a.arrival + rules.max_layover
        )

    for changed in rng.sample(every, 25):
        pool = set(await incremental.neighbours(context, [changed], rules))
        into = [p for p in every if connects(p, changed)]
        out = [s for s in every if connects(changed, s)]
        needed = {*into, *out}
        needed |= {q for p in into for q in every if connects(q, p)}
        needed |= {u for s in out for u in every if connects(s, u)}
        assert needed <= pool, changed


@pytest.mark.parametrize("seed", [21, 22])
async def test_a_plan_over_the_pins_columns_equals_the_plan_over_its_flights(
    context: AppContext, seed: int
) -> None:
    """The hook hands the compiled plan the pin's arrays (Since.pool), not a tuple per flight:
    the same fields and the same candidates as the plan of the same flights as tuples, with
    flights changed since the pin among them (rows after the columns) and a changed flight on
    an airport the pin never saw."""
    rng = random.Random(seed)
    rows = [_flight(rng, k) for k in range(300)]
    async with context.engine.begin() as connection:
        await connection.execute(_INSERT, rows)
    await timetable.publish(context, None)
    await context.neighbourhood.warm_up(context)
    ids = [r["id"] for r in rows]
    await _changed_after_the_pin(context, rng, ids)
    rules = data.rules_of(context.settings)
    zones = await incremental.zones(context)
    since = await context.neighbourhood.since(context)
    assert since is not None
    every = [incremental.graph_flight(r) for r in await data.fetch(context, "true")]
    taken = 0
    for changed in [*rng.sample(every, 12), *(f for f in every if f.id in since.rows)]:
        moved = changed._replace(departure=changed.departure + 3600, arrival=changed.arrival + 3600)
        elsewhere = changed._replace(id=uuid.uuid4().bytes, destination="ZZZ")
        for old, new in (([changed], [moved]), ([], [elsewhere]), ([changed], [])):
            columns = since.pool([*old, *new], rules)
            flights = since.around([*old, *new], rules)
            assert columns.flights() == flights
            by_columns = incremental.plan(old, new, columns, zones, rules)
            by_flights = incremental.plan(old, new, flights, zones, rules)
            assert by_columns.fields == by_flights.fields
            bounds = {d: {t: 1e12 for t in named} for d, named in by_flights.fields.items()}
            candidates = by_columns.candidates(bounds)
            assert candidates == by_flights.candidates(bounds)
            taken += sum(len(found) for named in candidates.values() for found in named.values())
    assert taken > 0, "the plans must have candidates to compare"
