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

from bisect import bisect_right
from typing import TYPE_CHECKING, Any

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
    last_item = merged[-1]
    worst = (
        (stored.key(last_item)[0] if isinstance(last_item, int) else order_key(last_item)[0]) if merged else 0
    )
    return encode_merged(stored, merged, complete_now, worst)


def _holds(stored: Stored, kept: list[int], position: int, key: Key, candidate: Records) -> bool:
    """Whether a kept itinerary is the candidate itself (it would sit just before ``position``)."""
    for o in reversed(kept[:position]):
        if stored.key(o) != key:
            return False
        if tuple(stored.record(i) for i in stored.itineraries[o]) == candidate:
            return True
    return False


Heads = dict[str, bytes | None]  # per list: header + mention flag (storage.read_heads), None: absent


def _candidates(
    plan_: Plan, heads: dict[OriginDay, tuple[bytes, Heads]]
) -> tuple[dict[OriginDay, dict[str, set[Records]]], dict[OriginDay, list[str]]]:
    """Candidates within each list's bound, and per day the lists to read whole: those that hold a
    changed flight or take a candidate (the others stay as they are)."""
    bounds = {d: {t: bound(head) for t, head in lists.items()} for d, (_, lists) in heads.items()}
    candidates: dict[OriginDay, dict[str, set[Records]]] = {}
    for shape in plan_.inserts:
        shape.candidates(bounds, candidates)
    wanted: dict[OriginDay, list[str]] = {}
    for d, (_, lists) in heads.items():
        entering = candidates.get(d, {})
        names = [t for t, head in lists.items() if head is not None and (head[-1] == 49 or t in entering)]
        if names:
            wanted[d] = names
    return candidates, wanted


def _merge_all(
    heads: dict[OriginDay, tuple[bytes, Heads]],
    candidates: dict[OriginDay, dict[str, set[Records]]],
    blobs: dict[OriginDay, dict[str, bytes | None]],
    gone: set[bytes],
) -> tuple[list[OriginDay], list[tuple[OriginDay, bytes, list[Any]]]]:
    """The changed lists merged: (days to refill, conditional writes)."""
    refill: list[OriginDay] = []
    writes: list[tuple[OriginDay, bytes, list[Any]]] = []
    for d, (gen, lists) in heads.items():
        entering = candidates.get(d, {})
        read = blobs.get(d, {})
        args: list[Any] = []
        for destination, head in lists.items():
            if head is None:
                if destination not in entering:
                    continue
                value = merge(None, gone, entering[destination], data.DEPTH)
            elif destination in read:
                value = merge(read[destination], gone, entering.get(destination, set()), data.DEPTH)
            else:
                continue
            if value is None:
                continue
            args += [destination, value]
            if value and not header(value)[0] and header(value)[1] < REFILL_BELOW:
                refill.append(d)
        if args:
            writes.append((d, gen, args))
    return refill, writes


async def apply(
    context: AppContext, plan_: Plan, gone: set[bytes]
) -> tuple[list[OriginDay], list[OriginDay]]:
    """Patch the planned lists. Returns (days to invalidate, days to queue for a refill).

    Two reads: the headers of every list the plan names (with whether it holds a changed flight),
    then whole only the lists that hold one or take a candidate; a day whose generation moved
    between the two is invalidated (its patch would be refused anyway)."""
    fields = {d: sorted(f) for d, f in plan_.fields.items()}
    days = sorted(fields)
    if not days:
        return [], []
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
    blobs: dict[OriginDay, dict[str, bytes | None]] = {}
    if wanted:
        read = sorted(wanted)
        for d, values in zip(
            read, await storage.read_days(context, read, [wanted[d] for d in read]), strict=True
        ):
            if values[0] != tag or (values[1] or b"0") != heads[d][0]:
                stale.append(d)
                del heads[d]
            else:
                blobs[d] = dict(zip(wanted[d], values[2:], strict=True))
    with without_cyclic_gc():
        refill, writes = _merge_all(heads, candidates, blobs, gone)
    if writes:
        written = await storage.patch_days(context, tag, writes)
        stale += [d for (d, _, _), ok in zip(writes, written, strict=True) if not ok]
    return stale, refill
