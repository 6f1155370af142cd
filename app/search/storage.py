"""The origin-day hashes in Redis: built sentinel, generation, conditional writes, invalidation.

An origin-day hash ``search:{o:<origin>}:<date>`` holds, besides one itinerary list per
destination, two fields no airport name can take (names have no control characters):
``BUILT`` = the format tag it was computed under (absent: not built, answered exactly from
PostgreSQL), and ``GEN`` = a counter bumped by every write and invalidation. Every writer reads
``GEN`` before it reads PostgreSQL and writes only if ``GEN`` is unchanged (a single-key script,
so Redis Cluster-safe): a computation that may have missed a change never overwrites the result
of that change's own update.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from redis.asyncio.cluster import RedisCluster

from app.platform.redis.client import queue_script, run_script_packed
from app.platform.redis.reads import hmget_many
from app.platform.redis.scripts import lua_source

if TYPE_CHECKING:
    from app.context import AppContext


BUILT = b"\x00"
GEN = b"\x01"
_SEPARATOR = "\t"

OriginDay = tuple[str, date]

REPLACE = lua_source("app.search", "replace")
PATCH = lua_source("app.search", "patch")
READ_DAYS = lua_source("app.search", "read_days")
PATCH_DAYS = lua_source("app.search", "patch_days")
_DAYS_PER_CALL = 1000

INVALIDATE = lua_source("app.search", "invalidate")
_INVALIDATE_PER_CALL = 500


def day_key(context: AppContext, origin: str, day: date) -> str:
    return context.keys.search_day(origin, day.isoformat())


def member(origin: str, day: date) -> str:
    return f"{origin}{_SEPARATOR}{day.isoformat()}"


def parse_member(raw: bytes | str) -> OriginDay:
    text = raw.decode() if isinstance(raw, bytes) else raw
    origin, _, day = text.rpartition(_SEPARATOR)
    return origin, date.fromisoformat(day)


def replace_args(gen: bytes, expire_at: int, tag: str, mapping: Mapping[str, bytes]) -> list[Any]:
    args: list[Any] = [gen, expire_at, tag]
    for field, value in mapping.items():
        args += [field, value]
    return args


async def generations(context: AppContext, days: Sequence[OriginDay]) -> list[bytes]:
    """The GEN of each day ("0" when absent), read before PostgreSQL is."""
    gens: list[bytes] = []
    for offset in range(0, len(days), 5000):
        pipe = context.redis.pipeline(transaction=False)
        for origin, day in days[offset : offset + 5000]:
            pipe.hget(day_key(context, origin, day), GEN)
        gens += [g if g is not None else b"0" for g in await pipe.execute()]
    return gens


async def invalidate(
    context: AppContext, days: Iterable[OriginDay], expire_at: Mapping[OriginDay, int]
) -> int:
    """Mark days not built (searches answer them exactly) and queue them for the worker: one
    script call per origin (its days share a slot), so a bulk batch's ~9,000 days cost ~100
    commands, not ~9,000."""
    days = sorted(set(days))
    script = context.redis.register_script(INVALIDATE)
    by_origin: dict[str, list[OriginDay]] = {}
    for d in days:
        by_origin.setdefault(d[0], []).append(d)
    pipe = context.redis.pipeline(transaction=False)
    for origin_days in by_origin.values():
        for offset in range(0, len(origin_days), _INVALIDATE_PER_CALL):
            chunk = origin_days[offset : offset + _INVALIDATE_PER_CALL]
            await queue_script(
                pipe, script, [day_key(context, o, d) for o, d in chunk], [expire_at[o, d] for o, d in chunk]
            )
    for offset in range(0, len(days), 5000):
        pipe.sadd(context.keys.search_dirty, *(member(o, d) for o, d in days[offset : offset + 5000]))
    await pipe.execute()
    return len(days)


def _groups(context: AppContext, days: Sequence[OriginDay]) -> list[list[int]]:
    """Indices of ``days`` per script call: all together on a single Redis, per origin on Cluster."""
    if isinstance(context.redis, RedisCluster):
        by_origin: dict[str, list[int]] = {}
        for k, (origin, _) in enumerate(days):
            by_origin.setdefault(origin, []).append(k)
        groups = list(by_origin.values())
    else:
        groups = [list(range(len(days)))]
    return [g[o : o + _DAYS_PER_CALL] for g in groups for o in range(0, len(g), _DAYS_PER_CALL)]


async def _run(context: AppContext, source: str, calls: list[tuple[list[str], list[Any]]]) -> list[Any]:
    """One reply per (keys, args) call of the script. A single call (a single Redis, < 1,000 days)
    runs as one EVALSHA packed by client.run_script_packed (SCRIPT LOAD only after a NOSCRIPT
    reply); through a pipeline redis-py first asks SCRIPT EXISTS, one more round trip."""
    script = context.redis.register_script(source)
    if len(calls) == 1 and not isinstance(context.redis, RedisCluster):
        keys, args = calls[0]
        return [await run_script_packed(context.redis, script, keys, args)]
    pipe = context.redis.pipeline(transaction=False)
    for keys, args in calls:
        await queue_script(pipe, script, keys, args)
    return list(await pipe.execute())


async def read_days(
    context: AppContext, days: Sequence[OriginDay], fields: Sequence[Sequence[str]]
) -> list[list[bytes | None]]:
    """Per day: [BUILT, GEN, *fields' values] (None where absent), in one round trip.

    On a single Redis one ``HMGET`` per day through the read multiplexer (hiredis, no redis-py
    command layers: a hub change reads ~100-200 days, 3-5 MB); on Cluster one script call per
    origin (its days share the {o:<origin>} slot)."""
    reads = context.search_reads
    if reads is not None:
        return await hmget_many(
            context.redis,
            reads,
            [(day_key(context, *day), [BUILT, GEN, *named]) for day, named in zip(days, fields, strict=True)],
        )
    calls = []
    groups = _groups(context, days)
    for group in groups:
        args: list[Any] = []
        for k in group:
            args += [len(fields[k]), *fields[k]]
        calls.append(([day_key(context, *days[k]) for k in group], args))
    replies: list[list[bytes | None]] = [[] for _ in days]
    for group, reply in zip(groups, await _run(context, READ_DAYS, calls), strict=True):
        for k, values in zip(group, reply, strict=True):
            replies[k] = values
    return replies


async def patch_days(
    context: AppContext, tag: bytes, writes: Sequence[tuple[OriginDay, bytes, list[Any]]]
) -> list[bool]:
    """Apply (day, expected gen, field/value pairs) conditionally, as PATCH; which were written."""
    calls = []
    groups = _groups(context, [w[0] for w in writes])
    for group in groups:
        args: list[Any] = [tag]
        for k in group:
            _, gen, pairs = writes[k]
            args += [gen, len(pairs) // 2, *pairs]
        calls.append(([day_key(context, *writes[k][0]) for k in group], args))
    done = [False] * len(writes)
    for group, reply in zip(groups, await _run(context, PATCH_DAYS, calls), strict=True):
        for k, ok in zip(group, reply, strict=True):
            done[k] = ok == 1
    return done


async def mark_dirty(context: AppContext, days: Iterable[OriginDay]) -> None:
    members = [member(o, d) for o, d in days]
    if members:
        await context.redis.sadd(context.keys.search_dirty, *members)


async def take_dirty(context: AppContext, count: int) -> list[OriginDay]:
    raw: Any = await context.redis.spop(context.keys.search_dirty, count)
    return [parse_member(m) for m in raw or []]
