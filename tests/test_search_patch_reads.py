"""What the small-change patch reads before it merges: the headers pass (read_heads.lua) says
exactly which lists hold a changed flight, as codec.mentions does in Python (aligned records only,
an id's bytes straddling two records never count); the one-query neighbourhood holds every flight
that can precede or follow a changed flight within two connections; the unrolled order keys of a
stored list are codec.order_key's."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app.context import AppContext
from app.search import data, incremental
from app.search import storage as store
from app.search.codec import FLIGHT, Records, Stored, decode_list, encode_list, mentions, order_key, record

FLIGHTS = [record(uuid.UUID(int=(k + 1) * 0x01010101), 1_000 * k, 1_000 * k + 500, 7 * k) for k in range(10)]
itinerary = st.lists(st.sampled_from(FLIGHTS), min_size=1, max_size=3, unique=True).map(tuple)


def straddling(blob: bytes) -> bytes:
    """16 bytes of the flight table that start inside a record (not an id the list holds)."""
    start = 11 + 8
    return blob[start : start + 16]


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    lists=st.lists(st.lists(itinerary, min_size=1, max_size=12), min_size=1, max_size=6),
    picks=st.lists(st.integers(0, 11), min_size=1, max_size=3),
)
async def test_the_headers_pass_says_which_lists_hold_a_changed_flight(
    context: AppContext, lists: list[list[Records]], picks: list[int]
) -> None:
    blobs = {f"D{k}": encode_list(itineraries, False) for k, itineraries in enumerate(lists)}
    day = ("HDR", datetime(2031, 1, 1, tzinfo=UTC).date())
    key = store.day_key(context, *day)
    await context.redis.delete(key)
    await context.redis.hset(key, mapping={store.BUILT: b"tag", store.GEN: b"3", **blobs})
    first = next(iter(blobs.values()))
    # Ids of the table, one no list holds, and bytes that straddle two records of a table.
    candidates = [FLIGHT.unpack(r)[0] for r in FLIGHTS] + [uuid.uuid4().bytes, straddling(first)]
    ids = sorted({candidates[p % len(candidates)] for p in picks})
    fields = [*blobs, "absent"]
    [reply] = await store.read_heads(context, [day], [fields], ids)
    assert reply[:2] == [b"tag", b"3"]
    for name, head in zip(fields, reply[2:], strict=True):
        if name == "absent":
            assert head is None
            continue
        blob = blobs[name]
        assert head == (blob + b"1" if mentions(blob, ids) else blob[:11] + b"0")


@settings(max_examples=200, deadline=None)
@given(itineraries=st.lists(itinerary, min_size=1, max_size=40))
def test_a_stored_lists_order_keys_are_order_key_of_its_itineraries(itineraries: list[Records]) -> None:
    blob = encode_list(itineraries, True)
    stored = Stored(blob)
    decoded, _ = decode_list(blob)
    assert [stored.key(k) for k in range(len(decoded))] == [order_key(i) for i in decoded]


AIRPORTS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]
START = (datetime.now(UTC) + timedelta(days=8)).replace(hour=0, minute=0, second=0, microsecond=0)


async def test_the_neighbourhood_holds_every_flight_within_two_connections(context: AppContext) -> None:
    rng = random.Random(11)
    rows = []
    for k in range(400):
        source, destination = rng.sample(AIRPORTS, 2)
        departure = START + timedelta(minutes=10 * rng.randrange(0, 3 * 24 * 6))
        rows.append(
            {
                "id": uuid.uuid4(),
                "number": f"NB{k}",
                "source": source,
                "destination": destination,
                "departure": departure,
                "arrival": departure + timedelta(minutes=rng.choice((50, 95, 180))),
                "price": Decimal(rng.randrange(10, 90)),
            }
        )
    async with context.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts,"
                " total_seats, available_seats, price) VALUES (:id, :number, :source, :destination,"
                " :departure, :arrival, 5, 5, :price)"
            ),
            rows,
        )
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
