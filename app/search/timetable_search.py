"""Searches answered from the process's timetable (timetable.py) by the compiled scan (scan.py):
filtered and sorted searches, the price-sorted search of a day the index has not built, and the
month calendar. Each returns None when the process has no current snapshot (loading): the caller
then answers from PostgreSQL.

One round trip per scan: the feed's head (the answer counts only if it is the snapshot's, else the
snapshot catches up and the scan runs again) with the seat counters and cards of the scanned
itineraries' flights. Seats are not in the timetable: a scan takes ``need`` itineraries plus a
few more; those with a flight short of seats are dropped, and when fewer than ``need`` remain of
a full scan, the scan runs again with those flights excluded (the first ``need`` of the rest are
then exact: every itinerary the scan did not return ranks after all it did).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np

from app.platform.redis.multiplex import encode
from app.search import build, data, render, scan
from app.search.filters import Filters
from app.search.schemas import SearchSort
from app.search.timetable import Head, Snapshot, parse_head

if TYPE_CHECKING:
    from app.context import AppContext

# Extra itineraries scanned past those needed, so that a sold-out flight rarely costs a rescan
# (one for the calendar's single answer per day: a smaller k prunes sooner).
SLACK = 4
# Catch-ups followed within one search before it gives up on the timetable (changes keep coming).
_ATTEMPTS = 3
_SORTS = {
    SearchSort.price: scan.SORT_PRICE,
    SearchSort.duration: scan.SORT_DURATION,
    SearchSort.departure: scan.SORT_DEPARTURE,
    SearchSort.arrival: scan.SORT_ARRIVAL,
}
_NO_FILTERS = Filters()


@dataclass
class Found:
    """Per window (day), the chosen itineraries as timetable slots; the counters and cards read."""

    snapshot: Snapshot
    chosen: list[Sequence[scan.Itinerary]]
    counts: dict[int, int]
    cards: dict[int, bytes | None]
    short: set[int]  # flights read with too few seats
    # The last counters read: their slots and MGET (a calendar remembering the same reads keeps it).
    last_read: tuple[list[int], bytes | None]


async def search(
    context: AppContext,
    sources: Sequence[str],
    destinations: Sequence[str],
    day: date,
    seats: int,
    cutoff: float,
    filters: Filters | None,
    results: int,
) -> bytes | None:
    """The /search answer between every source and every destination (the JSON bytes)."""
    found = await _best(
        context, sources, destinations, [day], seats, cutoff, filters or _NO_FILTERS, results, cards=True
    )
    if found is None:
        return None
    snapshot, chosen = found.snapshot, found.chosen[0]
    cards = found.cards  # every chosen flight's was read (None: no card in Redis)
    missing = (
        sorted({f for legs, _, _, _ in chosen for f in legs if cards[f] is None})
        if None in cards.values()
        else []
    )
    if missing:
        cards = dict(cards)
        loaded = await build.load_cards(context, [uuid.UUID(bytes=snapshot.raw_id(f)) for f in missing])
        for f in missing:
            cards[f] = loaded.get(uuid.UUID(bytes=snapshot.raw_id(f)))
        if any(cards[f] is None for f in missing):
            return None  # deleted since the snapshot's head: PostgreSQL answers
    # Tails from the scan's own values: no read of the snapshot per itinerary.
    return render.scanned(chosen, cast("dict[int, bytes]", cards), found.counts)


class _Remembered(NamedTuple):
    """A calendar answer and what it rests on: the snapshot (the head), the seat counters of the
    flights of each day's chosen itinerary (still enough seats) and of the flights found short
    (still short: one with seats again could make an earlier itinerary the answer)."""

    body: bytes
    read: bytes  # the MGET of those counters, encoded once
    enough: tuple[bool, ...]  # per counter read: True must hold seats, False must not


async def first_prices(
    context: AppContext,
    sources: Sequence[str],
    destinations: Sequence[str],
    days: Sequence[date],
    seats: int,
    cutoff: float,
    body_of: Callable[[dict[date, tuple[int, int] | None]], bytes],
) -> bytes | None:
    """Per day, /search's first result as (price in cents, stops), None where nothing flies,
    given to ``body_of`` for the response. A repeated calendar is answered from its remembered
    body when one round trip shows its grounds unchanged (``_Remembered``)."""
    snapshot = context.timetable.usable(context)
    if snapshot is None:
        return None
    day_starts, _ = snapshot.windows(tuple(s for s in sources if s in snapshot.codes), tuple(days))
    key = (
        "calendar",
        tuple(sources),
        tuple(destinations),
        tuple(day.toordinal() for day in days),
        seats,
        _opening(day_starts, cutoff),
    )
    remembered: _Remembered | None = snapshot.answers.get(key)
    if remembered is not None and context.search_reads is not None:
        head, values = await context.search_reads.execute_many(_head_command(context), remembered.read)
        if snapshot.matches(parse_head(head)) and all(
            v is not None and (int(v) >= seats) == enough
            for v, enough in zip(values, remembered.enough, strict=True)
        ):
            return remembered.body
    found = await _best(context, sources, destinations, days, seats, cutoff, _NO_FILTERS, 1, cards=False)
    if found is None:
        return None
    body = body_of(
        {
            day: (chosen[0][1], len(chosen[0][0]) - 1) if chosen else None
            for day, chosen in zip(days, found.chosen, strict=True)
        }
    )
    needed = sorted({f for chosen in found.chosen if chosen for f in chosen[0][0]})
    grounds = needed + sorted(found.short)
    if grounds and found.snapshot is snapshot:
        slots, read = found.last_read
        snapshot.remember_answer(
            key,
            _Remembered(
                body,
                read if read is not None and slots == grounds else snapshot.mget(grounds, context.keys.seats),
                (True,) * len(needed) + (False,) * len(found.short),
            ),
        )
    return body


def _opening(day_starts: Any, cutoff: float) -> int:
    """The booking cut-off as far as these days see it: only a day it falls in moves an answer."""
    first = int(cutoff) + 1
    return first if day_starts.size and first > min(day_starts.ravel().tolist()) else 0


def _head_command(context: AppContext) -> bytes:
    return _head_read(context.keys.search_timetable_head)


@functools.lru_cache(maxsize=16)
def _head_read(key: str) -> bytes:
    return encode("HMGET", key, b"epoch", b"seq")


async def _best(
    context: AppContext,
    sources: Sequence[str],
    destinations: Sequence[str],
    days: Sequence[date],
    seats: int,
    cutoff: float,
    filters: Filters,
    need: int,
    *,
    cards: bool,
) -> Found | None:
    timetable = context.timetable
    snapshot = timetable.usable(context)
    for _ in range(_ATTEMPTS):
        if snapshot is None:
            return None
        outcome = await _scan(
            context, snapshot, sources, destinations, days, seats, cutoff, filters, need, cards
        )
        if isinstance(outcome, Found):
            return outcome
        snapshot = await timetable.confirm(context, outcome)
    return None


async def _scan(
    context: AppContext,
    snapshot: Snapshot,
    sources: Sequence[str],
    destinations: Sequence[str],
    days: Sequence[date],
    seats: int,
    cutoff: float,
    filters: Filters,
    need: int,
    with_cards: bool,
) -> Found | Head:
    """The scan verified against the head (the head instead when it is not the snapshot's)."""
    source_names = [s for s in sources if s in snapshot.codes]
    dest_codes = sorted({snapshot.codes[d] for d in destinations if d in snapshot.codes})
    rules = data.rules_of(context.settings)
    max_legs = rules.max_legs if filters.max_stops is None else min(rules.max_legs, filters.max_stops + 1)
    first = int(cutoff) + 1
    day_starts, ends = snapshot.windows(tuple(source_names), tuple(days))
    starts = np.maximum(day_starts, first)
    clocks = _clocks(snapshot, source_names, days) if filters.needs_zone else None
    k = need + (SLACK if need > 1 else 1)
    banned = snapshot.banned  # never written: a rescan gets its own copy
    short: set[int] = set()  # the same flights, for Python's checks (a numpy read costs more)
    counts: dict[int, int] = {}
    cards: dict[int, bytes | None] = {}
    checked = False
    last_read: tuple[list[int], bytes | None] = ([], None)
    # A scan without exclusions depends only on the snapshot and this key: memoised with it.
    # (The shape too: with no known source the windows' bytes are empty for any number of days.)
    memo_key = (
        tuple(source_names),
        tuple(dest_codes),
        starts.shape,
        starts.tobytes(),
        ends.tobytes(),
        max_legs,
        (filters.max_stops, filters.after, filters.before, filters.max_duration, filters.sort.value),
        k,
    )
    while True:
        found = snapshot.scans.get(memo_key) if banned is snapshot.banned else None
        if found is None:
            found = (
                scan.itineraries(
                    snapshot,
                    banned,
                    np.asarray([snapshot.codes[s] for s in source_names], dtype=np.int64),
                    starts,
                    ends,
                    clocks,
                    np.asarray(dest_codes, dtype=np.int64),
                    max_legs=max_legs,
                    min_conn=rules.min_connection,
                    max_lay=rules.max_layover,
                    after=filters.after or 0,
                    before=23 * 60 + 59 if filters.before is None else filters.before,
                    longest=None if filters.max_duration is None else (filters.max_duration + 1) * 60,
                    sort=_SORTS[filters.sort],
                    k=k,
                )
                if source_names and dest_codes
                else [() for _ in days]
            )
            if banned is snapshot.banned:  # (tuples of ints, as scan.itineraries returns them)
                snapshot.remember_scan(memo_key, found)
        while True:  # read the counters of what would be answered until it all holds
            chosen: list[Sequence[scan.Itinerary]] = []
            rescan = False
            if short:
                for window in found:
                    kept = [it for it in window if short.isdisjoint(it[0])]
                    # Fewer than needed of a full scan: what it did not return may rank next.
                    rescan |= len(kept) < need and len(window) == k
                    chosen.append(kept[:need])
            else:  # nothing dropped: each window's first (k > need, so no rescan)
                chosen = [window[:need] for window in found]
            wanted = sorted({f for window in chosen for it in window for f in it[0]} - counts.keys())
            if checked and not wanted:
                break
            head, values, card_values, seat_read = await _read(context, snapshot, wanted, with_cards)
            last_read = (wanted, seat_read)
            if not snapshot.matches(head):
                return head
            checked = True
            if None in values:  # a counter not loaded yet (a bulk-imported flight): from PostgreSQL
                absent = [f for f, v in zip(wanted, values, strict=True) if v is None]
                rebuilt = await context.inventory.rebuild(
                    [uuid.UUID(bytes=snapshot.raw_id(f)) for f in absent]
                )
                for f, v in zip(wanted, values, strict=True):
                    counts[f] = (
                        int(v) if v is not None else rebuilt.get(uuid.UUID(bytes=snapshot.raw_id(f)), 0)
                    )
            else:  # the usual case: every counter read, converted at once
                counts.update(zip(wanted, map(int, values), strict=True))
            cards.update(zip(wanted, card_values, strict=True))
            lacking = [f for f in wanted if counts[f] < seats]
            if lacking:
                if banned is snapshot.banned:
                    banned = banned.copy()
                banned[lacking] = True
                short.update(lacking)
        if not rescan:
            return Found(snapshot, chosen, counts, cards, short, last_read)


async def _read(
    context: AppContext, snapshot: Snapshot, slots: list[int], with_cards: bool
) -> tuple[Head, list[Any], list[Any], bytes | None]:
    """The feed's head, and the counters (and cards) of ``slots``, in one round trip (and the
    counters' MGET, when the read path's own connection sent one)."""
    keys = context.keys
    head_key = keys.search_timetable_head
    reads = context.search_reads
    if reads is not None:
        commands = [_head_command(context)]
        seat_read = snapshot.mget(slots, keys.seats) if slots else None
        if seat_read is not None:
            commands.append(seat_read)
            if with_cards:
                commands.append(snapshot.mget(slots, keys.flight_card))
        replies = await reads.execute_many(*commands)
        counters = replies[1] if slots else []
        card_values = replies[2] if slots and with_cards else [None] * len(slots)
        return parse_head(replies[0]), counters, card_values, seat_read
    names = [snapshot.name(f) for f in slots]
    pipe = context.redis.pipeline(transaction=False)
    pipe.hmget(head_key, [b"epoch", b"seq"])
    for name in names:  # one GET per key: on Cluster the counters live in different slots
        pipe.get(keys.seats(name))
    if with_cards:
        for name in names:
            pipe.get(keys.flight_card(name))
    replies = await pipe.execute()
    counters = replies[1 : 1 + len(names)]
    card_values = replies[1 + len(names) :] if with_cards else [None] * len(names)
    return parse_head(replies[0]), counters, card_values, None


def _clocks(snapshot: Snapshot, sources: Sequence[str], days: Sequence[date]) -> tuple[Any, Any, Any]:
    """Per window and source: when the local clock changes during the day (at most once) and the
    UTC offsets before and after, for the local departure minute."""
    shape = (len(days), len(sources))
    switch, before, after = (np.zeros(shape, dtype=np.int64) for _ in range(3))
    for w, day in enumerate(days):
        for si, name in enumerate(sources):
            switch[w, si], before[w, si], after[w, si] = snapshot.clock(name, day)
    return switch, before, after
