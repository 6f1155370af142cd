"""Every tuning of Python's cyclic garbage collector, in one place.

The hot paths allocate many short-lived objects that form no cycles (reference counting frees
them), while the processes hold a large heap that lives as long as they do: the collector's
full passes walk that heap for nothing. Three measured answers, one per kind of work:

- ``tune_for_requests``: the API, once started: what start-up built frozen (it is never
  garbage), and collections far rarer than the default (requests leave almost nothing cyclic);
- ``fewer_collections``: a long batch job (the bulk import), collection kept but rarer;
- ``without_cyclic_gc``: a short synchronous step that builds ~10^5-10^6 tuples (a search change).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


def freeze_startup_heap() -> None:
    """Move what startup built (modules, app, pools: ~160k objects, all living as long as the
    process) out of the collector's sight, once per process: a full collection walked them all,
    a pause of 0.1-0.2 s that was the search p99 under load. Once, so a process creating many
    apps (the tests) does not freeze each one's garbage for good."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


# The API's thresholds once started (generation 0, 1, 2). CPython's default (700, 10, 10) ran a
# collection every 700 net allocations of tracked objects and a full one every 70,000 (when the
# old generation had grown by a quarter): under searches that keep their answers in the
# snapshot's memos (20,000 per memo, timetable.py) nearly every allocation survives a while, so
# the collector ran continually and found almost nothing (~8-11% of a calendar's CPU, from gc
# callbacks in the server). At these, per request CPU fell 12-21% (filtered, sorted, calendar
# searches; docs/benchmarks.md "The collector"); generation 0 still runs every 10,000 (a pause of
# ~1-2 ms), generation 1 every 500,000, a full one at most every 50,000,000.
SERVING_THRESHOLDS = (10_000, 50, 100)


def tune_for_requests() -> None:
    """The API process once started: the start-up heap frozen (``freeze_startup_heap``) and the
    collector's thresholds raised to ``SERVING_THRESHOLDS``."""
    freeze_startup_heap()
    gc.set_threshold(*SERVING_THRESHOLDS)


@contextlib.contextmanager
def fewer_collections(threshold: int = 100_000) -> Iterator[None]:
    """Run the cyclic collector less often (every ``threshold`` allocations, not 700) meanwhile.

    For the bulk import: a batch makes several objects a row (fields, rows, snapshots, COPY
    records), nearly none in a cycle, and keeps them until the batch ends; at the default threshold
    the collector ran hundreds of times a batch and re-walked those live objects each time, ~40% of
    the import's CPU (18 instead of 32-38 µs a row at 100,000). Collection stays on; the settings
    are the process's, so only one such job may run in a process at a time (the worker runs one
    job at a time: procrastinate concurrency 1).
    """
    previous = gc.get_threshold()
    gc.set_threshold(threshold, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@contextlib.contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """For a synchronous, allocation-heavy step (a hub change's shapes, candidates and merges build
    ~10^5-10^6 tuples that form no cycles and die by reference counting): the allocations would
    otherwise trigger full collections that scan them, 80-100 ms each at national scale. Synchronous
    only: no other task runs while the collector is off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
