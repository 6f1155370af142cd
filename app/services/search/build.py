"""Computing whole origin-days and writing them: the full rebuild and the worker's reindex.

A set of origin-days is computed from one PostgreSQL read (every flight that can take part),
on every core when the graph is large: forked processes inherit the graph, compute their share of
the origin-days and write them to Redis themselves (only failed days come back). Each write is
conditional on the day's generation read before PostgreSQL was (store.REPLACE).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

import orjson
import redis
import structlog
from redis.asyncio.cluster import RedisCluster

from app.core.context import AppContext
from app.core.redis_client import Keys, queue_script
from app.services.search import data, store
from app.services.search.codec import HEADER
from app.services.search.engine import Graph, Rules, search_keys
from app.services.search.store import OriginDay

log = structlog.get_logger()

# Below this many flights a build runs in the calling process (forking costs more than it saves).
PARALLEL_MIN_FLIGHTS = 20_000
_CHUNK = 100  # origin-days per write pipeline / per task of a worker process
COMPILED_MIN_DAYS = 50
_DAYS_PER_PIPELINE = 20  # ~3 MB of lists on the national network


@dataclass
class Shared:
    """What a forked build process inherits (never pickled)."""

    graph: Graph
    records: list[bytes]
    zones: data.Zones
    rules: Rules
    tag: str
    redis_url: str
    keys: Keys
    days: list[OriginDay]
    gens: list[bytes]
    compiled: Any = None  # compiled.CompiledGraph when the compiled engine runs this build
    cluster: bool = False  # redis_url is a seed node of a Redis Cluster


def compiled_engine(graph: Graph, records: list[bytes], rules: Rules, days: int, data_dir: Path) -> Any:
    """The compiled engine's graph (JIT warmed up), or None: the pure-Python engine then runs.

    numba is imported here, not at module level: the API process never builds. Below
    COMPILED_MIN_DAYS loading the compiled code (~0.5 s; a first compilation, before the disk cache
    exists, ~8 s) costs more than the Python engine's ~15 ms per origin-day.
    """
    if days < COMPILED_MIN_DAYS:
        return None
    if "NUMBA_CACHE_DIR" not in os.environ and not os.access(Path(__file__).parent, os.W_OK):
        # The Docker image's app/ is read-only to its user: cache the machine code in DATA_DIR.
        os.environ["NUMBA_CACHE_DIR"] = str(data_dir.resolve() / "numba-cache")
    try:
        from app.services.search import compiled
    except Exception:  # numba missing, or no writable cache directory (NUMBA_CACHE_DIR)
        log.warning("search_compiled_engine_unavailable", exc_info=True)
        return None
    if not compiled.supported(graph):
        return None
    started = time.monotonic()
    arrays = compiled.CompiledGraph.of(graph, records)
    compiled.warm_up(arrays, rules, data.DEPTH)
    log.info("search_compiled_engine_ready", seconds=round(time.monotonic() - started, 2))
    return arrays


_shared: Shared | None = None
_client: redis.Redis | redis.RedisCluster | None = None  # a forked build process's own connection


def encode_day(shared: Shared, origin: str, day: Any) -> tuple[dict[str, bytes], int]:
    """The day's lists by destination, and when the hash may expire."""
    graph = shared.graph
    start, end = shared.zones.bounds(origin, day)
    code = graph.code.get(origin)
    if code is None:
        return {}, end + 2 * 86400
    if shared.compiled is not None:
        from app.services.search.compiled import encode_origin_day

        encoded = encode_origin_day(shared.compiled, code, start, end, shared.rules, data.DEPTH)
        return {graph.airports[d]: blob for d, blob in encoded.items()}, end + 2 * 86400
    heaps = search_keys(graph, code, start, end, shared.rules, data.DEPTH)
    airports, records = graph.airports, shared.records
    bits, legs_shift, cost_shift = heaps.bits, heaps.legs_shift, heaps.cost_shift
    mask, legs_mask = (1 << bits) - 1, (1 << legs_shift) - 1
    lists: dict[str, bytes] = {}
    for destination, heap in heaps.heaps.items():
        if not heap:
            continue
        # Inline decoding of the packed keys (Heaps.decode): this loop runs for every itinerary.
        table: dict[int, int] = {}
        body = bytearray()
        for negative in sorted(heap, reverse=True):
            key = -negative
            count = (key >> legs_shift) & 3
            packed = key & legs_mask
            body.append(count)
            legs = (
                (packed,)
                if count == 1
                else (packed >> bits, packed & mask)
                if count == 2
                else (packed >> 2 * bits, (packed >> bits) & mask, packed & mask)
            )
            for flight in legs:
                index = table.get(flight)
                if index is None:
                    index = table[flight] = len(table)
                body.append(index)
        head = HEADER.pack(len(heap) < data.DEPTH, len(heap), len(table), (-min(heap)) >> cost_shift)
        lists[airports[destination]] = head + b"".join([records[i] for i in table]) + body
    return lists, end + 2 * 86400


def _compute_chunk(bounds: tuple[int, int]) -> list[int]:
    """In a forked process: compute and write days[lo:hi]; the indices whose write was refused."""
    global _client
    shared = _shared
    assert shared is not None
    if _client is None:
        _client = (
            redis.RedisCluster.from_url(shared.redis_url)
            if shared.cluster
            else redis.Redis.from_url(shared.redis_url)
        )
    script = _client.register_script(store.REPLACE)
    failed: list[int] = []
    lo, hi = bounds
    # Pipelines of a few MB: Redis interleaves other clients' commands between them.
    for first in range(lo, hi, _DAYS_PER_PIPELINE):
        last = min(first + _DAYS_PER_PIPELINE, hi)
        pipe = _client.pipeline(transaction=False)
        for k in range(first, last):
            origin, day = shared.days[k]
            mapping, expire_at = encode_day(shared, origin, day)
            key = shared.keys.search_day(origin, day.isoformat())
            args = store.replace_args(shared.gens[k], expire_at, shared.tag, mapping)
            if shared.cluster:  # as redis_client.queue_script: a cluster pipeline takes no EVALSHA
                pipe.execute_command("EVAL", store.REPLACE, 1, key, *args)
            else:
                script(keys=[key], args=args, client=pipe)
        failed += [first + k for k, ok in enumerate(pipe.execute()) if not ok]
    return failed


async def build_days(
    context: AppContext, days: Sequence[OriginDay], *, rows: list[data.FlightRow] | None = None
) -> list[OriginDay]:
    """Compute and write the given days from PostgreSQL; returns the days another writer changed
    meanwhile (not written: they stay as that writer left them)."""
    global _shared
    days = sorted(set(days))
    if not days:
        return []
    gens = await store.generations(context, days)
    zones = await data.Zones.load(context)
    rules = data.rules_of(context.settings)
    if rows is None:
        bounds = [zones.bounds(origin, day) for origin, day in days]
        start, end = min(b[0] for b in bounds), max(b[1] for b in bounds)
        limit = await data.horizon(context, start, end, rules)
        where, args = data.window_condition(start, limit)
        rows = await data.fetch(context, where, *args)
    started = time.monotonic()
    # Seconds of CPU: in a thread, so that this process's event loop keeps running (the card writes
    # gathered with this build and the rebuild lock renewal time out after 5 s without a reply).
    graph, records = await asyncio.to_thread(data.graph_of, rows)
    log.info("search_graph_built", flights=len(rows), seconds=round(time.monotonic() - started, 1))
    # Likewise: a first JIT compilation takes seconds.
    arrays = await asyncio.to_thread(
        compiled_engine, graph, records, rules, len(days), context.settings.data_dir
    )
    shared = Shared(
        graph, records, zones, rules, data.format_tag(context.settings),
        context.settings.require_redis_url(), context.keys, days, gens, arrays,
        cluster=context.settings.redis_cluster,
    )  # fmt: skip
    workers = min(os.cpu_count() or 1, 8)
    chunks = [(lo, min(lo + _CHUNK, len(days))) for lo in range(0, len(days), _CHUNK)]
    failed: list[int] = []
    if len(graph.ids) < PARALLEL_MIN_FLIGHTS or workers == 1:
        script = context.redis.register_script(store.REPLACE)
        for lo, hi in chunks:
            pipe = context.redis.pipeline(transaction=False)
            for k in range(lo, hi):
                origin, day = days[k]
                mapping, expire_at = encode_day(shared, origin, day)
                key = store.day_key(context, origin, day)
                await queue_script(
                    pipe, script, [key], store.replace_args(gens[k], expire_at, shared.tag, mapping)
                )
            results = await pipe.execute()
            failed += [lo + k for k, ok in enumerate(results) if not ok]
            await asyncio.sleep(0)  # let this process's other work through
    else:
        _shared = shared  # inherited by the forked processes below
        try:
            loop = asyncio.get_running_loop()
            with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
                for part in await asyncio.gather(
                    *(loop.run_in_executor(pool, _compute_chunk, c) for c in chunks)
                ):
                    failed += part
        finally:
            _shared = None
    origins = {origin for origin, _ in days}
    await context.redis.sadd(context.keys.search_origins, *origins)
    return [days[k] for k in failed]


def all_days(rows: Sequence[data.FlightRow], zones: data.Zones) -> list[OriginDay]:
    """Every airport (origin or destination) on every local date from the first departure to the
    last: a day with no departures is stored too (built and empty), so it is a cache hit."""
    if not rows:
        return []
    first = min(r.departure for r in rows)
    last = max(r.departure for r in rows)
    airports = {r.source for r in rows} | {r.destination for r in rows}
    days: list[OriginDay] = []
    for airport in airports:
        day, end = zones.local_date(airport, first), zones.local_date(airport, last)
        while day <= end:
            days.append((airport, day))
            day = day.fromordinal(day.toordinal() + 1)
    return days


class CardSource(Protocol):
    """What a card is made of: a PostgreSQL row (data.FlightRow) or a committed FlightSnapshot."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def flight_number(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def destination(self) -> str: ...
    @property
    def departure_ts(self) -> datetime: ...
    @property
    def arrival_ts(self) -> datetime: ...
    @property
    def total_seats(self) -> int: ...
    @property
    def price(self) -> Any: ...


# KEYS: cards; ARGV: per card its value and its TTL in seconds. Single Redis only (the keys live in
# different Cluster slots): a pipeline of SETs costs the client ~20 us of CPU per card, this ~2.
_SET_CARDS = """
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'EX', ARGV[2 * i]) end
return #KEYS
"""
_CARDS_PER_CALL = 2000


async def write_cards(context: AppContext, rows: Sequence[CardSource], *, retries: int = 0) -> None:
    """Every flight's card, overwriting what is there (so a card a search loaded earlier from
    PostgreSQL never outlives the change); it expires 3 days after the flight lands. A chunk whose
    reply timed out is sent again up to ``retries`` times (the SETs are idempotent)."""
    now = time.time()
    cluster = isinstance(context.redis, RedisCluster)
    script = context.redis.register_script(_SET_CARDS)
    for offset in range(0, len(rows), _CARDS_PER_CALL):
        chunk = rows[offset : offset + _CARDS_PER_CALL]
        keys = [context.keys.flight_card(r.id) for r in chunk]
        args: list[Any] = []
        for r in chunk:
            args += [card(r), int(max(r.arrival_ts.timestamp() - now, 0)) + 3 * 86400]
        for attempt in range(retries + 1):
            try:
                await _write_chunk(context, script, cluster, keys, args)
                break
            except redis.exceptions.TimeoutError:
                if attempt == retries:
                    raise
                log.warning("search_cards_write_timed_out_retrying", cards=len(keys))


async def _write_chunk(
    context: AppContext, script: Any, cluster: bool, keys: list[str], args: list[Any]
) -> None:
    if not cluster:
        await script(keys=keys, args=args)
        return
    pipe = context.redis.pipeline(transaction=False)
    for k, key in enumerate(keys):
        pipe.set(key, args[2 * k], ex=args[2 * k + 1])
    await pipe.execute()


def card(r: CardSource) -> bytes:
    """The flight's JSON as the admin API writes it (FlightOut), without available_seats."""
    body = orjson.dumps(
        {
            "id": str(r.id),
            "flight_number": r.flight_number,
            "source": r.source,
            "destination": r.destination,
            "departure_ts": r.departure_ts.astimezone(UTC),
            "arrival_ts": r.arrival_ts.astimezone(UTC),
            "total_seats": r.total_seats,
            "price": float(r.price),
        },
        option=orjson.OPT_UTC_Z,
    )
    return body[:-1] + b',"available_seats":'


def cutoff() -> datetime:
    return datetime.fromtimestamp(time.time() - 2 * 86400, UTC)
