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
from typing import Any

from app.core.context import AppContext

BUILT = b"\x00"
GEN = b"\x01"
_SEPARATOR = "\t"

OriginDay = tuple[str, date]

# KEYS[1] day; ARGV: expected gen, expire-at, tag, then field/value pairs (the whole new content).
REPLACE = """
local g = redis.call('HGET', KEYS[1], '\\1') or '0'
if g ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '\\0', ARGV[3], '\\1', tostring(tonumber(g) + 1))
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return 1
"""

# KEYS[1] day; ARGV: expected gen, tag, then field/value pairs (empty value: delete the field).
PATCH = """
local g = redis.call('HGET', KEYS[1], '\\1') or '0'
if g ~= ARGV[1] or redis.call('HGET', KEYS[1], '\\0') ~= ARGV[2] then return 0 end
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i])
  else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('HSET', KEYS[1], '\\1', tostring(tonumber(g) + 1))
return 1
"""

# KEYS: days of one origin (one Cluster slot: the {o:<origin>} tag); ARGV[i]: expire-at of KEYS[i].
# Not built from now on; writers that read the old gen will fail.
INVALIDATE = """
for i = 1, #KEYS do
  redis.call('HDEL', KEYS[i], '\\0')
  redis.call('HINCRBY', KEYS[i], '\\1', 1)
  if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIREAT', KEYS[i], ARGV[i]) end
end
return #KEYS
"""
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
            await script(
                keys=[day_key(context, o, d) for o, d in chunk],
                args=[expire_at[o, d] for o, d in chunk],
                client=pipe,
            )
    for offset in range(0, len(days), 5000):
        pipe.sadd(context.keys.search_dirty, *(member(o, d) for o, d in days[offset : offset + 5000]))
    await pipe.execute()
    return len(days)


async def mark_dirty(context: AppContext, days: Iterable[OriginDay]) -> None:
    members = [member(o, d) for o, d in days]
    if members:
        await context.redis.sadd(context.keys.search_dirty, *members)


async def take_dirty(context: AppContext, count: int) -> list[OriginDay]:
    raw: Any = await context.redis.spop(context.keys.search_dirty, count)
    return [parse_member(m) for m in raw or []]
