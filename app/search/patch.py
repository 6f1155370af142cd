"""Patching the lists a small change set touches (see incremental.py for which ones).

One pipeline reads, per affected origin-day, ``BUILT``, ``GEN`` and the named lists; the lists'
headers give each list's price bound, which prunes the candidates before any is built. Each list
loses every itinerary with a changed flight (what stays is still an exact prefix of the pair's
order) and gains the candidates that rank inside it; a list whose header shows no changed flight
and that takes no candidate is not even decoded; the others are merged on their stored bytes
(codec.Stored: order keys only where a candidate is compared, kept itineraries renumbered with
bytes.translate). One pipeline writes, each origin-day conditionally on its generation
(storage.PATCH).
"""

from __future__ import annotations

import os
import time
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from app.airports.catalog import timezone as shipped_timezone
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


# Per list (storage.read_heads): the whole list + b"1" when it holds a changed flight, else its
# header + b"0"; None: absent.
Heads = dict[str, bytes | None]
_HOLDS = ord("1")


def _candidates(
    plan_: Plan, heads: dict[OriginDay, tuple[bytes, Heads]]
) -> tuple[dict[OriginDay, dict[str, set[Records]]], dict[OriginDay, list[str]]]:
    """Candidates within each list's bound, and per day the lists still to read whole: those that
    take a candidate and hold no changed flight (those that hold one came whole with the headers;
    the others stay as they are)."""
    bounds = {d: {t: bound(head) for t, head in lists.items()} for d, (_, lists) in heads.items()}
    candidates: dict[OriginDay, dict[str, set[Records]]] = {}
    for shape in plan_.inserts:
        shape.candidates(bounds, candidates)
    wanted: dict[OriginDay, list[str]] = {}
    for d, (_, lists) in heads.items():
        entering = candidates.get(d, {})
        names = [t for t in entering if (head := lists.get(t)) is not None and head[-1] != _HOLDS]
        if names:
            wanted[d] = names
    return candidates, wanted


def _merge_all(
    heads: dict[OriginDay, tuple[bytes, Heads]],
    candidates: dict[OriginDay, dict[str, set[Records]]],
    blobs: dict[OriginDay, dict[str, bytes | None]],
    gone: set[bytes],
) -> tuple[list[OriginDay], list[tuple[OriginDay, bytes, list[Any]]]]:
    """The changed lists merged: (days to refill, conditional writes). All of them in one call of
    the compiled merge when it is loaded (compiled_patch.merge_many: patch.merge's results exactly),
    else, and for any list it leaves to Python, by ``merge``."""
    jobs: list[tuple[OriginDay, str, bytes | None, set[Records]]] = []
    for d, (_, lists) in heads.items():
        entering = candidates.get(d, {})
        read = blobs.get(d, {})
        for destination, head in lists.items():
            if head is None:
                if destination in entering:
                    jobs.append((d, destination, None, entering[destination]))
            elif destination in read:
                jobs.append((d, destination, read[destination], entering.get(destination, _NONE)))
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
                writes.append((day, heads[day][0], args))
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
        writes.append((day, heads[day][0], args))
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
    # As build.compiled_engine: where app/ is not writable (the Docker image) the cache goes to DATA_DIR.
    if "NUMBA_CACHE_DIR" not in os.environ and not os.access(Path(__file__).parent, os.W_OK):
        (data_dir / "numba-cache").mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(data_dir.resolve() / "numba-cache")
    try:
        # Imported here, not at module level: numba is optional (the Python merge runs without it),
        # and NUMBA_CACHE_DIR must be set before numba reads its configuration.
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

    Two reads: the headers of every list the plan names, and whole in the same call the lists that
    hold a changed flight; then whole the other lists that take a candidate (none for most
    changes: a list that takes one mostly held the flight's old version); a day whose generation
    moved between the two is invalidated (its patch would be refused anyway)."""
    fields = {d: sorted(f) for d, f in plan_.fields.items()}
    days = sorted(fields)
    if not days:
        return [], []
    if not _compiled.tried:  # the API warmed it up at startup; other callers load it here
        warm_up(context.settings.data_dir)
    tag = data.format_tag(context.settings).encode()
    replies = await storage.read_heads(context, days, [fields[d] for d in days], sorted(gone))
    stale: list[OriginDay] = []
    heads: dict[OriginDay, tuple[bytes, Heads]] = {}
    for d, values in zip(days, replies, strict=True):
        if values[0] != tag:
            stale.append(d)
        else:
            heads[d] = (values[1] or b"0", dict(zip(fields[d], values[2:], strict=True)))
    with without_cyclic_gc():
        candidates, wanted = _candidates(plan_, heads)
    blobs: dict[OriginDay, dict[str, bytes | None]] = {
        d: {t: head[:-1] for t, head in lists.items() if head is not None and head[-1] == _HOLDS}
        for d, (_, lists) in heads.items()
    }
    if wanted:
        read = sorted(wanted)
        for d, values in zip(
            read, await storage.read_days(context, read, [wanted[d] for d in read]), strict=True
        ):
            if values[0] != tag or (values[1] or b"0") != heads[d][0]:
                stale.append(d)
                del heads[d]
            else:
                blobs[d].update(zip(wanted[d], values[2:], strict=True))
    with without_cyclic_gc():
        refill, writes = _merge_all(heads, candidates, blobs, gone)
    if writes:
        written = await storage.patch_days(context, tag, writes)
        stale += [d for (d, _, _), ok in zip(writes, written, strict=True) if not ok]
    return stale, refill
