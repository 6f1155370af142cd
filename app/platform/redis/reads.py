"""Batched reads of many keys, one way each: through the process's read multiplexer when it has
one (a single plain-TCP Redis: one pipelined connection, hiredis; multiplex.py), through redis-py
otherwise (Cluster, TLS, a Unix socket).

**Cluster-safe by construction**: keys of different hash tags live in different slots, so the
redis-py path reads values with one ``GET`` each (the cluster pipeline groups them by node), never
one ``MGET``; an ``HMGET`` names one key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from app.platform.redis.multiplex import Multiplexed, bulk, encode

AnyRedis = Redis | RedisCluster


async def get_many(redis: AnyRedis, reads: Multiplexed | None, names: Sequence[str]) -> list[Any]:
    """The values of ``names`` (None where absent), in order, in one round trip."""
    if not names:
        return []
    if reads is not None:
        return list(await reads.execute(encode("MGET", *names)))
    pipe = redis.pipeline(transaction=False)
    for name in names:
        pipe.get(name)
    return list(await pipe.execute())


async def hmget_many(
    redis: AnyRedis, reads: Multiplexed | None, requests: Sequence[tuple[str, Sequence[bytes | str]]]
) -> list[list[Any]]:
    """Per (key, fields), the fields' values (None where absent), in one round trip."""
    if not requests:
        return []
    if reads is not None:
        # Spelled from memoised bulk strings (keys and field names repeat from call to call).
        return list(
            await reads.execute_many(
                *(
                    b"*%d\r\n$5\r\nHMGET\r\n%s%s" % (len(fields) + 2, bulk(key), b"".join(map(bulk, fields)))
                    for key, fields in requests
                )
            )
        )
    pipe = redis.pipeline(transaction=False)
    for key, fields in requests:
        pipe.hmget(key, list(fields))
    return list(await pipe.execute())
