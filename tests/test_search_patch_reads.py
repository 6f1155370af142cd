"""What the small-change patch reads before it merges: every named list whole, through the read
multiplexer or the script path alike (a packed script call reloads a script Redis lost); a command
spelled from memoised bulk strings is encode's; the unrolled order keys of a stored list are
codec.order_key's. (The neighbourhood's tests: test_search_neighbourhood.py.)"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio.cluster import RedisCluster

from app.context import AppContext
from app.platform.redis.client import run_script_packed
from app.platform.redis.multiplex import bulk, encode
from app.search import storage as store
from app.search.codec import Records, Stored, decode_list, encode_list, order_key, record

FLIGHTS = [record(uuid.UUID(int=(k + 1) * 0x01010101), 1_000 * k, 1_000 * k + 500, 7 * k) for k in range(10)]
itinerary = st.lists(st.sampled_from(FLIGHTS), min_size=1, max_size=3, unique=True).map(tuple)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(lists=st.lists(st.lists(itinerary, min_size=1, max_size=12), min_size=1, max_size=6))
async def test_the_patch_reads_every_named_list_whole_through_either_path(
    context: AppContext, lists: list[list[Records]]
) -> None:
    blobs = {f"D{k}": encode_list(itineraries, False) for k, itineraries in enumerate(lists)}
    day = ("HDR", datetime(2031, 1, 1, tzinfo=UTC).date())
    key = store.day_key(context, *day)
    await context.redis.delete(key)
    await context.redis.hset(key, mapping={store.BUILT: b"tag", store.GEN: b"3", **blobs})
    fields = [*blobs, "absent"]
    expected = [b"tag", b"3", *blobs.values(), None]
    assert await store.read_days(context, [day], [fields]) == [expected]
    # The script path (Cluster, or a client the multiplexer does not serve).
    scripted = replace(context, search_reads=None)
    assert await store.read_days(scripted, [day, day], [fields, fields[:1]]) == [expected, expected[:3]]


async def test_a_packed_script_call_loads_the_script_redis_lost(context: AppContext) -> None:
    if isinstance(context.redis, RedisCluster):
        pytest.skip("a single Redis's call: on Cluster the scripts go through redis-py's pipelines")
    script = context.redis.register_script("return {KEYS[1], ARGV[1], #ARGV}")
    await context.redis.script_flush()
    big = b"x" * 100_000
    reply = await run_script_packed(context.redis, script, ["k"], [big, *range(2_000)])
    assert reply == [b"k", big, 2_001]
    assert await run_script_packed(context.redis, script, ["k"], ["a"]) == [b"k", b"a", 1]


@given(args=st.lists(st.one_of(st.text(max_size=12), st.binary(max_size=12)), min_size=1, max_size=8))
def test_a_command_spelled_from_memoised_bulk_strings_is_encodes(args: list[str | bytes]) -> None:
    assert b"*%d\r\n%s" % (len(args), b"".join(map(bulk, args))) == encode(*args)


@settings(max_examples=200, deadline=None)
@given(itineraries=st.lists(itinerary, min_size=1, max_size=40))
def test_a_stored_lists_order_keys_are_order_key_of_its_itineraries(itineraries: list[Records]) -> None:
    blob = encode_list(itineraries, True)
    stored = Stored(blob)
    decoded, _ = decode_list(blob)
    assert [stored.key(k) for k in range(len(decoded))] == [order_key(i) for i in decoded]
