"""Patching the lists a small change set touches (see incremental.py for which ones).

One read fetches, per affected origin-day, ``BUILT``, ``GEN`` and the named lists whole; their
headers give each list's price bound, which prunes the candidates before any is built. Each list
loses every itinerary with a changed flight (what stays is still an exact prefix of the pair's
order) and gains the candidates that rank inside it; a list that holds no changed flight (an
aligned byte search) and takes no candidate is not even decoded; the others are merged on their
stored bytes (compiled_patch, or codec.Stored here). One script call writes, each origin-day
conditionally on its generation (storage.PATCH_DAYS): a day whose generation moved since the read
is refused, and invalidated.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from app.airports.catalog import timezone as shipped_timezone
from app.platform import numba_cache
from app.platform.gc_tuning import without_cyclic_gc
from app.search import data, storage
from app.search.codec import (
    Key,
    Records,
    Stored,
    encode_list,
    encode_merged,
    header,
    mentions,
    order_key,
)
from app.search.incremental import Plan
from app.search.storage import OriginDay

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

# A list cut below this many entries is queued for recomputation (it still answers exactly).
REFILL_BELOW = 30

_UNBOUNDED = float("inf")


def bound(blob: bytes | None) -> float:
    """The highest price an itinerary can have to enter this list: the last entry's price when the
    list is cut; unbounded when it holds every itinerary there is (or there are none)."""
    if blob is None:
        return _UNBOUNDED
    complete, _, worst = header(blob)
    return _UNBOUNDED if complete else worst


def merge(blob: bytes | None, gone: set[bytes], candidates: set[Records], depth: int) -> bytes | None:
    """The list's new value ('' to delete the field), or None when it does not change.
    ``gone``: raw ids of the changed flights; ``candidates``: itineraries through their new versions.
    Works on the stored bytes (codec.Stored): only the itineraries a candidate is compared with get
    an order key, and the kept ones are re-encoded by remapping their index bytes."""
    if blob is None:
        if not candidates:
            return None
        fresh = sorted(candidates, key=order_key)
        return encode_list(fresh[:depth], len(fresh) < depth)
    if not candidates and not mentions(blob, gone):
        return None
    stored = Stored(blob)
    changed = stored.indices(gone)
    itineraries = stored.itineraries
    every = list(range(len(itineraries)))
    kept = [k for k in every if changed.isdisjoint(itineraries[k])] if changed else every
    keyed = sorted((order_key(c), c) for c in candidates)
    if not stored.complete:
        # Beyond the last entry lie itineraries this list does not know: only what ranks before it
        # (or ties it: the same flights, one of them changed) keeps it an exact prefix.
        last = stored.key(every[-1]) if every else None
        keyed = [(k, c) for k, c in keyed if last is not None and k <= last]
    items: list[int | Records] = []
    at = held = 0
    for k, c in keyed:
        # After every kept itinerary that ranks before or ties it (as insort_right).
        position = bisect_right(kept, k, lo=at, key=stored.key)
        if _holds(stored, kept, position, k, c):
            held += 1
            continue
        items += kept[at:position]
        items.append(c)
        at = position
        if len(items) >= depth:  # the rest ranks after: cut off below
            break
    items += kept[at:]
    total = len(kept) + len(keyed) - held
    merged, complete_now = items[:depth], stored.complete and total < depth
    if complete_now == stored.complete and merged == every:
        return None
    if not merged and complete_now:
        return b""
    # A cut list that lost every entry and takes none stays, empty and cut (its header alone): the
    # reads then compute the pair exactly, and the refill recomputes it. (merged[-1] raised here.)
    worst = 0
    if merged:
        last_item = merged[-1]
        worst = stored.key(last_item)[0] if isinstance(last_item, int) else order_key(last_item)[0]
    return encode_merged(stored, merged, complete_now, worst)


def _holds(stored: Stored, kept: list[int], position: int, key: Key, candidate: Records) -> bool:
    """Whether a kept itinerary is the candidate itself (it would sit just before ``position``)."""
    for o in reversed(kept[:position]):
        if stored.key(o) != key:
            return False
        if tuple(stored.record(i) for i in stored.itineraries[o]) == candidate:
            return True
    return False


Lists = dict[str, bytes | None]  # per destination its stored list (None: absent)


def _candidates(
    plan_: Plan, lists: dict[OriginDay, tuple[bytes, Lists]]
) -> dict[OriginDay, dict[str, set[Records]]]:
    """Candidates within each list's bound (``bound``: from its header)."""
    bounds = {d: {t: bound(blob) for t, blob in named.items()} for d, (_, named) in lists.items()}
    return plan_.candidates(bounds)


def _merge_all(
    lists: dict[OriginDay, tuple[bytes, Lists]],
    candidates: dict[OriginDay, dict[str, set[Records]]],
    gone: set[bytes],
) -> tuple[list[OriginDay], list[tuple[OriginDay, bytes, list[Any]]]]:
    """The changed lists merged: (days to refill, conditional writes). A list changes only if it
    takes a candidate or holds a changed flight (``mentions``: a byte search); all of those in one
    call of the compiled merge when it is loaded (compiled_patch.merge_many: patch.merge's results
    exactly), else, and for any list it leaves to Python, by ``merge``."""
    jobs: list[tuple[OriginDay, str, bytes | None, set[Records]]] = []
    for d, (_, named) in lists.items():
        entering = candidates.get(d, {})
        for destination, blob in named.items():
            taken = entering.get(destination)
            if taken is not None or (blob is not None and mentions(blob, gone)):
                jobs.append((d, destination, blob, taken or _NONE))
    values: list[bytes | bool | None]
    if _compiled.merge_many is not None:
        values = _compiled.merge_many([(blob, c) for _, _, blob, c in jobs], gone, data.DEPTH)
    else:
        values = [False] * len(jobs)
    refill: list[OriginDay] = []
    writes: list[tuple[OriginDay, bytes, list[Any]]] = []
    args: list[Any] = []
    day: OriginDay | None = None
    for (d, destination, blob, taken), value in zip(jobs, values, strict=True):
        if d != day:
            if args and day is not None:
                writes.append((day, lists[day][0], args))
            day, args = d, []
        if value is False:
            value = merge(blob, gone, taken, data.DEPTH)
        if value is None:
            continue
        assert value is not True
        args += [destination, value]
        # Not complete and short: queued for a refill (the header's first two bytes).
        if value and value[0] == 0 and value[1] < REFILL_BELOW and (not refill or refill[-1] != d):
            refill.append(d)
    if args and day is not None:
        writes.append((day, lists[day][0], args))
    return refill, writes


_NONE: set[Records] = set()


class _Compiled:
    """The compiled merge once loaded (``warm_up``); ``tried``: loading was attempted."""

    merge_many: Callable[..., list[bytes | bool | None]] | None = None
    tried = False


_compiled = _Compiled()


def warm_up(data_dir: Path) -> bool:
    """Load the compiled merge (compile it, or load it from numba's disk cache) and run it once,
    and the shipped airport data set: the API calls this at startup, so no admin change pays for
    them. Without numba, or when it fails to load, the Python merge runs (logged
    ``search_compiled_merge_unavailable``). Returns whether the compiled merge is loaded."""
    if _compiled.tried:
        return _compiled.merge_many is not None
    _compiled.tried = True
    started = time.monotonic()
    # The shipped airport data set (data.Zones' fallback timezones), read on first use: ~0.15 s
    # that the first change's plan paid.
    shipped_timezone("JFK")
    numba_cache.place(data_dir)  # placed when app was imported; this settings' DATA_DIR otherwise
    try:
        # Imported here, not at module level: when the kernels fail to load (no usable numba or
        # cache directory), the Python merge runs.
        from app.search import compiled_patch

        compiled_patch.warm_up()
    except Exception:
        log.warning("search_compiled_merge_unavailable", exc_info=True)
        return False
    _compiled.merge_many = compiled_patch.merge_many
    log.info("search_compiled_merge_ready", seconds=round(time.monotonic() - started, 2))
    return True


async def apply(
    context: AppContext, plan_: Plan, gone: set[bytes]
) -> tuple[list[OriginDay], list[OriginDay]]:
    """Patch the planned lists. Returns (days to invalidate, days to queue for a refill).

    One read of every list the plan names, whole (storage.read_days: a hub flight's change names
    ~2,000-3,600 lists, 3-5 MB, which the read multiplexer moves in ~3 ms of Redis CPU where a
    script that cut them down to their headers spent ~17 ms); then the candidates within each
    list's bound, the merges, and one conditional write per changed day."""
    fields = {d: sorted(f) for d, f in plan_.fields.items()}
    days = sorted(fields)
    if not days:
        return [], []
    if not _compiled.tried:  # the API warmed it up at startup; other callers load it here
        warm_up(context.settings.data_dir)
    tag = data.format_tag(context.settings).encode()
    replies = await storage.read_days(context, days, [fields[d] for d in days])
    stale: list[OriginDay] = []
    lists: dict[OriginDay, tuple[bytes, Lists]] = {}
    for d, values in zip(days, replies, strict=True):
        if values[0] != tag:
            stale.append(d)
        else:
            lists[d] = (values[1] or b"0", dict(zip(fields[d], values[2:], strict=True)))
    with without_cyclic_gc():
        candidates = _candidates(plan_, lists)
        refill, writes = _merge_all(lists, candidates, gone)
    if writes:
        written = await storage.patch_days(context, tag, writes)
        stale += [d for (d, _, _), ok in zip(writes, written, strict=True) if not ok]
    return stale, refill
