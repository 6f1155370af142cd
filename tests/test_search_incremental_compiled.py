"""The compiled plan (compiled_plan.py, through incremental.plan) names exactly the lists the
Shapes walk names (``fields``) and yields exactly its candidates (``Plan.candidates`` against the
``Shapes.candidates`` loop over ``inserts``), on random small networks: old and new versions of
the changed flights, stale versions left in the pool, duplicates, price ties and zero prices,
local days across time zones and a DST change, 1 to 4 legs allowed, bounds from -1 to infinity
(and days, destinations and empty mappings the plan does not know)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.search import data, incremental
from app.search.codec import Records
from app.search.engine import Rules
from app.search.incremental import GraphFlight
from app.search.storage import OriginDay

AIRPORTS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
ZONES = data.Zones(
    {"AAA": "UTC", "BBB": "America/New_York", "CCC": "Asia/Kolkata", "DDD": "Europe/London", "EEE": "UTC"},
    "Pacific/Auckland",  # FFF: the default zone
)
# A day around New York's spring DST change (2027-03-14, 02:00 local).
START = int(datetime(2027, 3, 13, 12, tzinfo=UTC).timestamp())
IDS = [bytes([k]) * 16 for k in range(40)]
PRICES = [0, 0, 100, 100, 200, 300, 450]
# Many equal to some itinerary's price: ties at every bound and prune.
BOUNDS = [-1.0, 0.0, 100.0, 200.0, 250.0, 300.0, 400.0, 500.0, 600.0, 900.0, float("inf")]


@pytest.fixture(scope="module", autouse=True)
def kernels(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert incremental.warm_up(Path(tmp_path_factory.mktemp("data")))


def flight(rng: random.Random, flight_id: bytes) -> GraphFlight:
    source, destination = rng.sample(AIRPORTS, 2)
    departure = START + rng.randrange(4 * 24) * 900
    arrival = departure + rng.choice([1800, 3600, 5400])
    return GraphFlight(flight_id, source, destination, departure, arrival, rng.choice(PRICES))


def altered(rng: random.Random, f: GraphFlight) -> GraphFlight:
    """Another version of ``f``: a price change, a time shift, a new route, or the same."""
    kind = rng.choice(["price", "time", "route", "same"])
    if kind == "price":
        return f._replace(cents=rng.choice(PRICES))
    if kind == "time":
        shift = rng.choice([-3600, 900, 5400])
        return f._replace(departure=f.departure + shift, arrival=f.arrival + shift)
    if kind == "route":
        return flight(rng, f.id)
    return f


@st.composite
def change(
    draw: st.DrawFn,
) -> tuple[list[GraphFlight], list[GraphFlight], list[GraphFlight], Rules]:
    # Drawn from one seeded Random: dense networks (3-leg itineraries, many prunes) that
    # Hypothesis's own strategies, biased to the simplest values, rarely reach.
    rng = random.Random(draw(st.integers(0, 2**64)))
    current = [flight(rng, i) for i in IDS[: rng.choice([len(IDS), len(IDS), 25, 12, 4, 1])]]
    changed = rng.sample(range(len(current)), rng.randint(1, min(3, len(current))))
    old: list[GraphFlight] = []
    new: list[GraphFlight] = []
    pool = list(current)
    for k in changed:
        before = current[k]
        after = altered(rng, before)
        kind = rng.choice(["update", "update", "insert", "delete"])
        if kind != "insert":
            old.append(before)
        if kind == "delete":
            pool.remove(before)
        else:
            new.append(after)
            pool[pool.index(before)] = after
        if rng.random() < 0.5:  # the neighbourhood read saw another version: stale in the pool
            pool.append(altered(rng, before))
        if rng.random() < 0.5 and kind != "delete":  # listed twice
            pool.append(after)
    rng.shuffle(pool)
    rules = Rules(
        min_connection=rng.choice([1800, 3600]),
        max_layover=rng.choice([4 * 3600, 12 * 3600]),
        max_legs=rng.choice([1, 2, 3, 3, 3, 4]),
    )
    return old, new, pool, rules


def some_bounds(rng: random.Random, fields: dict[OriginDay, set[str]]) -> dict[OriginDay, dict[str, float]]:
    bounds: dict[OriginDay, dict[str, float]] = {}
    for day in sorted(fields):
        if rng.random() < 0.15:
            continue  # not patched (a stale day)
        # ZZZ: a list no flight of the pool reaches; day[0]: the origin itself (never a list).
        names = [*sorted(fields[day]), "ZZZ", day[0]]
        bounds[day] = {t: rng.choice(BOUNDS) for t in names if rng.random() < 0.8}
    # A day no itinerary here starts on (its lists still count in a destination's highest bound).
    bounds[("YYY", datetime(2027, 3, 14).date())] = {t: rng.choice(BOUNDS) for t in rng.sample(AIRPORTS, 2)}
    return bounds


def reference_candidates(
    plan: incremental.Plan, bounds: Mapping[OriginDay, Mapping[str, float]]
) -> dict[OriginDay, dict[str, set[Records]]]:
    into: dict[OriginDay, dict[str, set[Records]]] = {}
    for shape in plan.inserts:
        shape.candidates(bounds, into)
    return into


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_compiled_plan_names_the_same_lists_and_candidates_as_the_shapes_walk(
    data_: st.DataObject,
) -> None:
    old, new, pool, rules = data_.draw(change())
    reference = incremental.reference_plan(old, new, pool, ZONES, rules)
    compiled = incremental.plan(old, new, pool, ZONES, rules)
    assert compiled.fields == reference.fields
    for _ in range(3):
        bounds = some_bounds(random.Random(data_.draw(st.integers(0, 2**64))), reference.fields)
        assert compiled.candidates(bounds) == reference_candidates(reference, bounds)
    # The compiled plan's own Shapes (the reference, built on demand) agree as well.
    unbounded = {d: {t: float("inf") for t in names} for d, names in reference.fields.items()}
    assert compiled.candidates(unbounded) == reference_candidates(compiled, unbounded)


def test_a_plan_of_no_flights_touches_nothing() -> None:
    rules = Rules(min_connection=1800, max_layover=3600, max_legs=3)
    made = incremental.plan([], [], [], ZONES, rules)
    assert made.fields == {}
    assert made.candidates({}) == {}
