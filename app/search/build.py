"""Computing whole origin-days and writing them: the full rebuild and the worker's reindex.

A set of origin-days is computed from one PostgreSQL read (every flight that can take part),
on every core when the graph is large: forked processes inherit the graph, compute their share of
the origin-days and write them to Redis themselves (only failed days come back). Each write is
conditional on the day's generation read before PostgreSQL was (storage.REPLACE).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
import redis
import structlog
from redis.asyncio.cluster import RedisCluster

from app.flights.events import FlightSnapshot
from app.platform import numba_cache
from app.platform.redis.client import Keys, queue_script
from app.platform.redis.scripts import lua_source
from app.search import data, lifetime, storage
from app.search.codec import encode_list
from app.search.engine import Graph, Rules, search_keys
from app.search.storage import OriginDay

if TYPE_CHECKING:
    from app.context import AppContext

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

    Below COMPILED_MIN_DAYS loading the compiled code (~0.5 s; a first compilation, before the
    disk cache exists, ~8 s) costs more than the Python engine's ~15 ms per origin-day. Where the
    machine code is cached: app.platform.numba_cache (placed when the package is imported).
    """
    if days < COMPILED_MIN_DAYS:
        return None
    numba_cache.place(data_dir)  # placed when app was imported; a no-op by now
    try:
        from app.search import compiled
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


def encode_day(shared: Shared, origin: str, day: Any) -> tuple[dict[str, bytes], int]:
    """The day's lists by destination, and when the hash may expire."""
    graph = shared.graph
    start, end = shared.zones.bounds(origin, day)
    code = graph.code.get(origin)
    if code is None:
        return {}, lifetime.day_expires_at(end)
    if shared.compiled is not None:
        from app.search.compiled import encode_origin_day

        encoded = encode_origin_day(shared.compiled, code, start, end, shared.rules, data.DEPTH)
        return {graph.airports[d]: blob for d, blob in encoded.items()}, lifetime.day_expires_at(end)
    heaps = search_keys(graph, code, start, end, shared.rules, data.DEPTH)
    airports, record, legs, cost_shift = (
        graph.airports,
        shared.records.__getitem__,
        heaps.legs,
        heaps.cost_shift,
    )
    lists: dict[str, bytes] = {}
    for destination, heap in heaps.heaps.items():
        if heap:
            # The heap holds negated keys: its best itinerary is its largest value.
            itineraries = map(legs, sorted([-negative for negative in heap]))
            complete, worst = len(heap) < data.DEPTH, (-min(heap)) >> cost_shift
            lists[airports[destination]] = encode_list(itineraries, complete, worst, record)
    return lists, lifetime.day_expires_at(end)


class BuildProcess:
    """A forked build process: the build it inherited from its parent (fork copies it, nothing is
    pickled) and its own Redis connection. The pool's initializer (``start``) makes each process's
    one instance from the ``Shared`` it was forked with; every task then runs on it."""

    current: ClassVar[BuildProcess | None] = None

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.client: redis.Redis | redis.RedisCluster = (
            redis.RedisCluster.from_url(shared.redis_url)
            if shared.cluster
            else redis.Redis.from_url(shared.redis_url)
        )
        self.replace = self.client.register_script(storage.REPLACE)

    @classmethod
    def start(cls, shared: Shared) -> None:
        cls.current = cls(shared)

    def compute(self, lo: int, hi: int) -> list[int]:
        """Compute and write days[lo:hi]; the indices whose write was refused."""
        shared = self.shared
        failed: list[int] = []
        # Pipelines of a few MB: Redis interleaves other clients' commands between them.
        for first in range(lo, hi, _DAYS_PER_PIPELINE):
            last = min(first + _DAYS_PER_PIPELINE, hi)
            pipe = self.client.pipeline(transaction=False)
            for k in range(first, last):
                origin, day = shared.days[k]
                mapping, expire_at = encode_day(shared, origin, day)
                key = shared.keys.search_day(origin, day.isoformat())
                args = storage.replace_args(shared.gens[k], expire_at, shared.tag, mapping)
                if shared.cluster:  # as queue_script does: a cluster pipeline takes no EVALSHA
                    pipe.execute_command("EVAL", storage.REPLACE, 1, key, *args)
                else:
                    self.replace(keys=[key], args=args, client=pipe)
            failed += [first + k for k, ok in enumerate(pipe.execute()) if not ok]
        return failed


def _compute_chunk(bounds: tuple[int, int]) -> list[int]:
    """A pool task, run in a build process (module-level: the pool pickles its name and ``bounds``)."""
    process = BuildProcess.current
    assert process is not None, "BuildProcess.start runs first in every build process"
    return process.compute(*bounds)


async def build_days(
    context: AppContext, days: Sequence[OriginDay], *, rows: list[FlightSnapshot] | None = None
) -> list[OriginDay]:
    """Compute and write the given days from PostgreSQL; returns the days another writer changed
    meanwhile (not written: they stay as that writer left them)."""
    days = sorted(set(days))
    if not days:
        return []
    gens = await storage.generations(context, days)
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
        script = context.redis.register_script(storage.REPLACE)
        for lo, hi in chunks:
            pipe = context.redis.pipeline(transaction=False)
            for k in range(lo, hi):
                origin, day = days[k]
                mapping, expire_at = encode_day(shared, origin, day)
                key = storage.day_key(context, origin, day)
                await queue_script(
                    pipe, script, [key], storage.replace_args(gens[k], expire_at, shared.tag, mapping)
                )
            results = await pipe.execute()
            failed += [lo + k for k, ok in enumerate(results) if not ok]
            await asyncio.sleep(0)  # let this process's other work through
    else:
        loop = asyncio.get_running_loop()
        fork = get_context("fork")
        # The initializer's arguments reach the forked processes by fork, not by pickling.
        with ProcessPoolExecutor(
            workers, mp_context=fork, initializer=BuildProcess.start, initargs=(shared,)
        ) as pool:
            for part in await asyncio.gather(
                *(loop.run_in_executor(pool, _compute_chunk, c) for c in chunks)
            ):
                failed += part
    origins = {origin for origin, _ in days}
    await context.redis.sadd(context.keys.search_origins, *origins)
    return [days[k] for k in failed]


def all_days(rows: Sequence[FlightSnapshot], zones: data.Zones) -> list[OriginDay]:
    """Every airport (origin or destination) on every local date from the first departure to the
    last: a day with no departures is stored too (built and empty), so it is a cache hit."""
    if not rows:
        return []
    first = int(min(r.departure_ts for r in rows).timestamp())
    last = int(max(r.departure_ts for r in rows).timestamp())
    airports = {r.source for r in rows} | {r.destination for r in rows}
    days: list[OriginDay] = []
    for airport in airports:
        day, end = zones.local_date(airport, first), zones.local_date(airport, last)
        while day <= end:
            days.append((airport, day))
            day = day.fromordinal(day.toordinal() + 1)
    return days


_SET_CARDS = lua_source("app.search", "set_cards")
_CARDS_PER_CALL = 2000


async def write_cards(context: AppContext, rows: Sequence[FlightSnapshot], *, retries: int = 0) -> None:
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
            args += [card(r), lifetime.card_ttl(r.arrival_ts.timestamp(), now)]
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


async def load_cards(context: AppContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, bytes]:
    """The cards of flights missing from Redis, read from PostgreSQL (the same reader and encoder as
    the index writes: one card format, one code path) and written back. NX: every flight change
    writes its card with a plain SET after its commit, so a card read before a change can never
    overwrite it."""
    rows = await data.fetch(context, "id = ANY($1::uuid[])", ids)
    cards = {r.id: card(r) for r in rows}
    if rows:
        now = time.time()
        pipe = context.redis.pipeline(transaction=False)
        for r in rows:
            ttl = lifetime.card_ttl(r.arrival_ts.timestamp(), now)
            pipe.set(context.keys.flight_card(r.id), cards[r.id], ex=ttl, nx=True)
        await pipe.execute()
    return cards


def card(r: FlightSnapshot) -> bytes:
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
            # Search shows no cancelled flight (operations: handled as a deletion).
            "status": "SCHEDULED",
        },
        option=orjson.OPT_UTC_Z,
    )
    return body[:-1] + b',"available_seats":'
