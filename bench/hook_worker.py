"""One search-hook process for ``bench.search --compare REF`` (run as a script, not imported).

Started twice by the bench: once in this checkout and once in an exported copy of REF (its ``app``
package first on ``sys.path``), each with its own Redis key prefix over the same PostgreSQL and
Redis, so both code paths patch their own index after the very same committed changes, interleaved,
under the same machine load. It reads one JSON change per line on stdin, runs the search hook
(``app.search.hooks.on_flights_changed``) and prints one JSON line: wall and CPU seconds, and the
seconds spent in each stage function that exists in that checkout (wrapped by name, so the old and
the new code are timed by the same harness). Only ``app`` names that both checkouts share are used.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog

# (module, function) timed when present; a stage nested in another is timed in both.
STAGES = (
    ("app.search.data", "max_duration"),
    ("app.search.hooks", "_cards"),
    ("app.search.hooks", "_write_cards"),
    ("app.search.data", "fetch"),
    ("app.search.incremental", "zones"),
    ("app.search.incremental", "neighbours"),
    ("app.search.neighbourhood", "Neighbourhood.since"),
    ("app.search.neighbourhood", "Since.around"),
    ("app.search.neighbourhood", "Since.pool"),
    ("app.search.incremental", "plan"),
    ("app.search.storage", "read_heads"),
    ("app.search.storage", "read_days"),
    ("app.search.patch", "_candidates"),
    ("app.search.patch", "_merge_all"),
    ("app.search.patch", "merge"),
    ("app.search.storage", "patch_days"),
    ("app.search.storage", "invalidate"),
    ("app.search.storage", "mark_dirty"),
    ("app.search.index", "request_reindex"),
)

spent: dict[str, float] = {}


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

        return timed_async

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

    return timed


def _instrument() -> None:
    for module_name, attr in STAGES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # a module REF does not have
            continue
        owner: Any = module
        *within, name = attr.split(".")  # "Class.method": the method, on its class
        for part in within:
            owner = getattr(owner, part, None)
        function = getattr(owner, name, None) if owner is not None else None
        if function is not None:
            setattr(owner, name, _timed(f"{module_name.rsplit('.', 1)[1]}.{attr}", function))


def _snapshot(raw: dict[str, Any] | None) -> Any:
    from app.flights.events import FlightSnapshot

    if raw is None:
        return None
    return FlightSnapshot(
        uuid.UUID(raw["id"]),
        raw["flight_number"],
        raw["source"],
        raw["destination"],
        datetime.fromisoformat(raw["departure_ts"]),
        datetime.fromisoformat(raw["arrival_ts"]),
        raw["total_seats"],
        Decimal(raw["price"]),
    )


async def _open_pool(context: Any, size: int) -> None:
    """Open the pool's connections, as a running API's are: the hook overlaps two queries, and the
    first change would otherwise time two PostgreSQL connection set-ups (~10-30 ms)."""

    async def touch() -> None:
        async with context.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
            await asyncio.sleep(0.05)  # held, so that the next touch opens another connection

    await asyncio.gather(*(touch() for _ in range(size)))


async def main() -> None:
    from app.context import AppContext
    from app.flights.events import FlightChange
    from app.platform.config import Settings
    from app.search import hooks

    _instrument()
    # stdout carries the protocol: the app's log lines go to stderr.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    settings = Settings(
        database_url=os.environ["DATABASE_URL"],
        redis_url=os.environ["REDIS_URL"],
        redis_key_prefix=os.environ["REDIS_KEY_PREFIX"],
    )
    context = AppContext.create(settings, pool_size=2)
    # As the API's startup (app.lifecycle): a checkout with a compiled merge loads it before the
    # first change (``getattr``: REF may have none).
    warm_up = getattr(importlib.import_module("app.search.patch"), "warm_up", None)
    if warm_up is not None:
        warm_up(settings.data_dir)
    plan_warm_up = getattr(importlib.import_module("app.search.incremental"), "warm_up", None)
    if plan_warm_up is not None:
        plan_warm_up(settings.data_dir)
    await _open_pool(context, 2)
    # As a running API: its timetable loaded, and pinned for the changes' neighbourhoods.
    neighbourhood = getattr(context, "neighbourhood", None)
    if neighbourhood is not None:
        await neighbourhood.warm_up(context)
    # As the API process does once started (REF may predate tune_for_requests).
    gc_tuning = importlib.import_module("app.platform.gc_tuning")
    (getattr(gc_tuning, "tune_for_requests", None) or gc_tuning.freeze_startup_heap)()
    loop = asyncio.get_running_loop()
    print(json.dumps({"ready": True}), flush=True)
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            change = json.loads(line)
            spent.clear()
            started, cpu = time.perf_counter(), time.process_time()
            await hooks.on_flights_changed(
                context, [FlightChange(_snapshot(change["before"]), _snapshot(change["after"]))]
            )
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(json.dumps({"wall": wall, "cpu": cpu, "stages": spent}), flush=True)
    finally:
        await context.close()


if __name__ == "__main__":
    asyncio.run(main())
