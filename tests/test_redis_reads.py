"""app/platform/redis/reads.py: the multiplexer path and the redis-py path (Cluster's) return the
same values, in order, absent keys and fields as None."""

from __future__ import annotations

from app.context import AppContext
from app.platform.redis.reads import get_many, hmget_many


async def test_both_read_paths_return_the_same_values_in_order(context: AppContext) -> None:
    names = [context.keys.seats(f"flight-{k}") for k in range(6)]  # different hash tags: slots
    for k, name in enumerate(names[:4]):
        await context.redis.set(name, k)
    hashes = [context.keys.search_day(f"O{k}", "2031-01-01") for k in range(3)]
    for key in hashes[:2]:
        await context.redis.hset(key, mapping={b"\x00": b"tag", "AAA": b"list"})
    requests = [(key, [b"\x00", "AAA", "BBB"]) for key in hashes]
    for reads in (context.search_reads, None):
        assert await get_many(context.redis, reads, names) == [b"0", b"1", b"2", b"3", None, None]
        assert await get_many(context.redis, reads, []) == []
        assert await hmget_many(context.redis, reads, requests) == [
            [b"tag", b"list", None],
            [b"tag", b"list", None],
            [None, None, None],
        ]
        assert await hmget_many(context.redis, reads, []) == []
