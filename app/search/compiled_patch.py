"""patch.merge compiled with numba, over every list one small change set alters, in one call.

Invariant: for each list, ``merge_many`` returns exactly what ``patch.merge`` returns for the same
blob, changed ids, candidates and depth (None: unchanged; b"": delete the field; else the new list,
byte for byte codec.encode_list's), checked by tests/test_search_patch_compiled.py (hypothesis,
against patch.merge as the reference). A hub change alters ~600-1,100 lists: in Python each cost
~40-70 us (Stored, order keys at the probes, encode_merged); here the lists, candidates and
changed ids go in as three byte buffers, and the kernel decodes, drops, inserts, renumbers and
encodes them all, so the Python left is one ``bytes.join`` per candidate and one slice per list.

Items inside the kernel: a list's stored itineraries and its candidates, each its legs as indices
into a per-list table of distinct records (the stored flight table first, then the candidates'
records not in it), with the record's id (two big-endian u64: unsigned byte order), departure,
arrival and price decoded once. The order is codec.order_key's: price, final arrival, fewer
flights, ids; candidates tie-break on their records' bytes, as patch.merge's ``sorted`` does.
A list holding an itinerary of more than 3 legs (never written by the builder) is left to
patch.merge (status ``FALLBACK``).

Compiled on first call and cached on disk (``cache=True``, as compiled.py): ``warm_up`` runs a tiny
merge so that the API process loads it at startup, not on the first admin change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from itertools import accumulate
from typing import Any, cast

import numpy as np
from numba import njit

from app.search.codec import FLIGHT, HEADER, Records, encode_list, record

UNCHANGED = 0
WRITTEN = 1
FALLBACK = 2
MAX_LEGS = 3
_RECORD = FLIGHT.size
_HEAD = HEADER.size
# Largest list the kernel writes: header, at most 3 distinct flights and 1 + 3 body bytes per entry.
_BOUND_PER_ITINERARY = MAX_LEGS * _RECORD + 1 + MAX_LEGS

Array = Any  # numpy arrays (numba's typed view of them is not visible to mypy)
_jit = cast(Callable[[Callable[..., Any]], Callable[..., Any]], njit(cache=True))
_inline = cast(Callable[[Callable[..., Any]], Callable[..., Any]], njit(cache=True, inline="always"))


def merge_many(
    jobs: Sequence[tuple[bytes | None, Collection[Records]]], gone: Iterable[bytes], depth: int
) -> list[bytes | bool | None]:
    """Per job (stored blob or None, candidates): patch.merge's result, or False where the list is
    left to patch.merge (an itinerary of more than 3 legs)."""
    if not jobs:
        return []
    blobs = [blob or b"" for blob, _ in jobs]
    ends = list(accumulate(map(len, blobs)))
    present = np.fromiter((blob is not None for blob, _ in jobs), dtype=np.bool_, count=len(jobs))
    legs: list[int] = []
    raw: list[bytes] = []
    per_job = [0]
    for _, candidates in jobs:
        for c in candidates:
            legs.append(len(c))
            raw.append(b"".join(c))
        per_job.append(len(legs))
    gone_ids = b"".join(g for g in gone if len(g) == 16)
    status, spans, out = _run(b"".join(blobs), ends, present, b"".join(raw), legs, per_job, gone_ids, depth)
    buffer = out[: int(spans[-1, 1])].tobytes()
    return [
        None if state == UNCHANGED else buffer[lo:hi] if state == WRITTEN else False
        for state, (lo, hi) in zip(status.tolist(), spans.tolist(), strict=True)
    ]


def _run(
    blobs: bytes,
    ends: list[int],
    present: Array,
    candidates: bytes,
    legs: list[int],
    per_job: list[int],
    gone: bytes,
    depth: int,
) -> tuple[Array, Array, Array]:
    jobs = len(ends)
    u8, i64 = np.uint8, np.int64
    blob_end = np.asarray(ends, dtype=i64)
    candidate_legs = np.asarray(legs, dtype=i64) if legs else np.zeros(0, dtype=i64)
    job_ptr = np.asarray(per_job, dtype=i64)
    status = np.zeros(jobs, dtype=i64)
    spans = np.zeros((jobs, 2), dtype=i64)
    out = np.empty(jobs * (_HEAD + depth * _BOUND_PER_ITINERARY), dtype=u8)
    _merge_kernel(
        np.frombuffer(blobs, dtype=u8),
        blob_end,
        present,
        np.frombuffer(candidates, dtype=u8),
        candidate_legs,
        job_ptr,
        np.frombuffer(gone, dtype=u8),
        depth,
        status,
        spans,
        out,
    )
    return status, spans, out


def warm_up() -> None:
    """Compile, or load from the disk cache, with the argument types every real call uses."""
    a = record(uuid.UUID(int=1), 100, 200, 500)
    b = record(uuid.UUID(int=2), 300, 400, 700)
    stored = encode_list([(a,), (a, b)], True)
    merge_many([(stored, {(b,)}), (None, {(a,)})], [a[:16]], 40)


@_inline
def _u32(buffer, at):  # type: ignore[no-untyped-def]
    return (
        np.int64(buffer[at])
        | np.int64(buffer[at + 1]) << 8
        | np.int64(buffer[at + 2]) << 16
        | np.int64(buffer[at + 3]) << 24
    )


@_inline
def _i64(buffer, at):  # type: ignore[no-untyped-def]
    value = np.uint64(0)
    for b in range(8):
        value |= np.uint64(buffer[at + b]) << np.uint64(8 * b)
    return np.int64(value)


@_inline
def _be64(buffer, at):  # type: ignore[no-untyped-def]
    value = np.uint64(0)
    for b in range(8):
        value = (value << np.uint64(8)) | np.uint64(buffer[at + b])
    return value


@_inline
def _slot(hi, lo, shift):  # type: ignore[no-untyped-def]
    """Fibonacci hashing of a record's id (uuid4 ids are random, a uuid1's low bytes are not)."""
    return np.int64((hi ^ (lo * np.uint64(0x9E3779B97F4A7C15))) >> shift)


@_inline
def _key_cmp(a, b, price, arrival, count, item_legs, id_hi, id_lo):  # type: ignore[no-untyped-def]
    """codec.order_key of item a against item b: -1, 0 or 1."""
    if price[a] != price[b]:
        return -1 if price[a] < price[b] else 1
    if arrival[a] != arrival[b]:
        return -1 if arrival[a] < arrival[b] else 1
    if count[a] != count[b]:
        return -1 if count[a] < count[b] else 1
    for m in range(count[a]):
        x, y = item_legs[a, m], item_legs[b, m]
        if id_hi[x] != id_hi[y]:
            return -1 if id_hi[x] < id_hi[y] else 1
        if id_lo[x] != id_lo[y]:
            return -1 if id_lo[x] < id_lo[y] else 1
    return 0


@_inline
def _full_cmp(a, b, price, arrival, count, item_legs, id_hi, id_lo, table):  # type: ignore[no-untyped-def]
    """(order_key, records) of item a against item b, as Python compares those tuples."""
    c = _key_cmp(a, b, price, arrival, count, item_legs, id_hi, id_lo)
    if c != 0:
        return c
    for m in range(count[a]):
        x, y = item_legs[a, m], item_legs[b, m]
        if x != y:
            for k in range(16, _RECORD):
                if table[x, k] != table[y, k]:
                    return -1 if table[x, k] < table[y, k] else 1
    return 0


@_jit
def _merge_kernel(  # type: ignore[no-untyped-def]
    blobs, blob_end, present, candidates, candidate_legs, job_ptr, gone, depth, status, spans, out
):
    jobs = blob_end.shape[0]
    gone_count = gone.shape[0] // 16
    gone_hi = np.empty(gone_count, dtype=np.uint64)
    gone_lo = np.empty(gone_count, dtype=np.uint64)
    for g in range(gone_count):
        gone_hi[g] = _be64(gone, 16 * g)
        gone_lo[g] = _be64(gone, 16 * g + 8)
    # Where each candidate's records start in ``candidates`` (32 bytes per leg).
    total = candidate_legs.shape[0]
    candidate_at = np.zeros(total + 1, dtype=np.int64)
    for c in range(total):
        candidate_at[c + 1] = candidate_at[c] + candidate_legs[c] * _RECORD
    most = 0
    for j in range(jobs):
        most = max(most, job_ptr[j + 1] - job_ptr[j])
    items_cap = 256 + most
    table_cap = 256 + MAX_LEGS * most
    table = np.empty((table_cap, _RECORD), dtype=np.uint8)
    id_hi = np.empty(table_cap, dtype=np.uint64)
    id_lo = np.empty(table_cap, dtype=np.uint64)
    departure = np.empty(table_cap, dtype=np.int64)
    arrival_of = np.empty(table_cap, dtype=np.int64)
    cents = np.empty(table_cap, dtype=np.int64)
    changed = np.empty(table_cap, dtype=np.bool_)
    renumber = np.empty(table_cap, dtype=np.int64)
    # The list's records by hash (open addressing): a candidate's record is found in O(1), not by
    # a scan of the table (a list created from hundreds of candidates made that quadratic).
    bits = 1
    while (1 << bits) < 2 * table_cap:
        bits += 1
    shift = np.uint64(64 - bits)
    hmask = (1 << bits) - 1
    hslot = np.full(1 << bits, -1, dtype=np.int64)
    hused = np.empty(table_cap, dtype=np.int64)
    n_used = 0
    price = np.empty(items_cap, dtype=np.int64)
    arrival = np.empty(items_cap, dtype=np.int64)
    count = np.empty(items_cap, dtype=np.int64)
    item_legs = np.empty((items_cap, MAX_LEGS), dtype=np.int64)
    kept = np.empty(items_cap, dtype=np.int64)
    keyed = np.empty(items_cap, dtype=np.int64)
    merged = np.empty(items_cap + depth, dtype=np.int64)
    position_out = 0
    blob_start = 0
    for j in range(jobs):
        lo, hi = blob_start, blob_end[j]
        blob_start = hi
        c_lo, c_hi = job_ptr[j], job_ptr[j + 1]
        n_candidates = c_hi - c_lo
        spans[j, 0] = position_out
        spans[j, 1] = position_out
        for u in range(n_used):
            hslot[hused[u]] = -1
        n_used = 0
        if not present[j] and n_candidates == 0:
            status[j] = 0
            continue
        # The list's table: the stored flights, then the candidates' records not among them.
        stored_complete = True
        stored_count = 0
        flights = 0
        if present[j]:
            if hi - lo < 11:
                status[j] = 2
                continue
            stored_complete = blobs[lo] == 1
            stored_count = int(blobs[lo + 1])
            flights = int(blobs[lo + 2])
        fallback = False
        any_changed = False
        for t in range(flights):
            at = lo + 11 + t * _RECORD
            table[t, :] = blobs[at : at + _RECORD]
            id_hi[t] = _be64(blobs, at)
            id_lo[t] = _be64(blobs, at + 8)
            departure[t] = _u32(blobs, at + 16)
            arrival_of[t] = _u32(blobs, at + 20)
            cents[t] = _i64(blobs, at + 24)
            hit = False
            for g in range(gone_count):
                if gone_hi[g] == id_hi[t] and gone_lo[g] == id_lo[t]:
                    hit = True
                    break
            changed[t] = hit
            any_changed = any_changed or hit
            slot = _slot(id_hi[t], id_lo[t], shift)
            while hslot[slot] >= 0:
                slot = (slot + 1) & hmask
            hslot[slot] = t
            hused[n_used] = slot
            n_used += 1
        if present[j] and n_candidates == 0 and not any_changed:
            status[j] = 0
            continue
        # Stored itineraries are items 0..stored_count-1.
        at = lo + 11 + flights * _RECORD
        for i in range(stored_count):
            n = int(blobs[at])
            if n > MAX_LEGS or n == 0:
                fallback = True
                break
            count[i] = n
            total_price = 0
            for m in range(n):
                leg = int(blobs[at + 1 + m])
                item_legs[i, m] = leg
                total_price += cents[leg]
            price[i] = total_price
            arrival[i] = arrival_of[item_legs[i, n - 1]]
            at += 1 + n
        if fallback:
            status[j] = 2
            continue
        # Candidates are items stored_count.. ; their records join the table (deduplicated).
        size = flights
        for c in range(c_lo, c_hi):
            item = stored_count + c - c_lo
            n = candidate_legs[c]
            if n > MAX_LEGS or n == 0:
                fallback = True
                break
            count[item] = n
            total_price = 0
            for m in range(n):
                at = candidate_at[c] + m * _RECORD
                hi_id = _be64(candidates, at)
                lo_id = _be64(candidates, at + 8)
                dep = _u32(candidates, at + 16)
                arr = _u32(candidates, at + 20)
                cost = _i64(candidates, at + 24)
                found = -1
                slot = _slot(hi_id, lo_id, shift)
                while hslot[slot] >= 0:
                    t = hslot[slot]
                    if (
                        id_hi[t] == hi_id
                        and id_lo[t] == lo_id
                        and departure[t] == dep
                        and arrival_of[t] == arr
                        and cents[t] == cost
                    ):
                        found = t
                        break
                    slot = (slot + 1) & hmask
                if found < 0:
                    found = size
                    hslot[slot] = size
                    hused[n_used] = slot
                    n_used += 1
                    table[size, :] = candidates[at : at + _RECORD]
                    id_hi[size], id_lo[size] = hi_id, lo_id
                    departure[size], arrival_of[size], cents[size] = dep, arr, cost
                    changed[size] = False
                    size += 1
                item_legs[item, m] = found
                total_price += cost
            price[item] = total_price
            arrival[item] = arrival_of[item_legs[item, n - 1]]
        if fallback:
            status[j] = 2
            continue
        # Kept: the stored itineraries without a changed flight (still an exact prefix).
        n_kept = 0
        for i in range(stored_count):
            drop = False
            for m in range(count[i]):
                if changed[item_legs[i, m]]:
                    drop = True
            if not drop:
                kept[n_kept] = i
                n_kept += 1
        # Candidates in (order key, records) order: insertion sort (a list takes a few).
        # Many candidates (a list created by the change): in price order first (argsort), so the
        # insertion sort below only orders ties.
        if n_candidates > 16:
            order = np.argsort(price[stored_count : stored_count + n_candidates])
        else:
            order = np.arange(n_candidates)
        n_keyed = 0
        for c in range(n_candidates):
            item = stored_count + order[c]
            k = n_keyed
            while (
                k > 0
                and _full_cmp(item, keyed[k - 1], price, arrival, count, item_legs, id_hi, id_lo, table) < 0
            ):
                keyed[k] = keyed[k - 1]
                k -= 1
            keyed[k] = item
            n_keyed = c + 1
        if present[j] and not stored_complete:
            # Only what ranks at or before the last stored entry keeps the list an exact prefix.
            if stored_count == 0:
                n_keyed = 0
            else:
                last = stored_count - 1
                while (
                    n_keyed > 0
                    and _key_cmp(keyed[n_keyed - 1], last, price, arrival, count, item_legs, id_hi, id_lo) > 0
                ):
                    n_keyed -= 1
        # The merge, as patch.merge: each candidate after the kept ones ranking before or tying it.
        n_items = 0
        start = 0
        held = 0
        for x in range(n_keyed):
            c = keyed[x]
            low, high = start, n_kept
            while low < high:
                middle = (low + high) >> 1
                if _key_cmp(c, kept[middle], price, arrival, count, item_legs, id_hi, id_lo) < 0:
                    high = middle
                else:
                    low = middle + 1
            position = low
            holds = False
            o = position - 1
            while o >= 0:
                s = kept[o]
                if _key_cmp(s, c, price, arrival, count, item_legs, id_hi, id_lo) != 0:
                    break
                same = True
                for m in range(count[c]):
                    if item_legs[s, m] != item_legs[c, m]:
                        same = False
                if same:
                    holds = True
                    break
                o -= 1
            if holds:
                held += 1
                continue
            for p in range(start, position):
                merged[n_items] = kept[p]
                n_items += 1
            merged[n_items] = c
            n_items += 1
            start = position
            if n_items >= depth:
                break
        for p in range(start, n_kept):
            merged[n_items] = kept[p]
            n_items += 1
        # As patch.merge: a stored list stays complete only with fewer than depth entries left.
        complete_now = (
            (stored_complete and n_kept + n_keyed - held < depth) if present[j] else n_keyed < depth
        )
        n_items = min(n_items, depth)
        if present[j] and complete_now == stored_complete and n_items == stored_count:
            same = True
            for p in range(n_items):
                if merged[p] != p:
                    same = False
                    break
            if same:
                status[j] = 0
                continue
        status[j] = 1
        if n_items == 0 and complete_now:
            continue  # b"": the field is deleted
        # Encode: the table in order of first appearance, the body renumbered.
        for t in range(size):
            renumber[t] = -1
        distinct = 0
        for p in range(n_items):
            item = merged[p]
            for m in range(count[item]):
                leg = item_legs[item, m]
                if renumber[leg] < 0:
                    renumber[leg] = distinct
                    slot = position_out + 11 + distinct * _RECORD
                    out[slot : slot + _RECORD] = table[leg]
                    distinct += 1
        body_at = position_out + 11 + distinct * _RECORD
        for p in range(n_items):
            item = merged[p]
            out[body_at] = count[item]
            body_at += 1
            for m in range(count[item]):
                leg = item_legs[item, m]
                out[body_at] = renumber[leg]
                body_at += 1
        worst = price[merged[n_items - 1]] if n_items else 0
        out[position_out] = 1 if complete_now else 0
        out[position_out + 1] = n_items
        out[position_out + 2] = distinct
        for b in range(8):
            out[position_out + 3 + b] = (worst >> (8 * b)) & 0xFF
        spans[j, 1] = body_at
        position_out = body_at
    return 0
