"""The neighbourhood of a small change set (``incremental.neighbours``' answer: every flight within
two connections of a changed one) from the process's timetable instead of PostgreSQL.

A process pins one timetable snapshot (timetable.py) and indexes it once more, by (destination,
arrival), next to its own (source, departure) order; it is not caught up per change. What
changed since is read from the change feed at each use, under the update lock: every flight
announced after the pinned head is left out of the snapshot's answer, and its current row (read
from PostgreSQL, remembered until the feed announces it again) is used instead.

**Invariant: the pool holds every flight PostgreSQL would return for the same windows**, except
flights that had departed an hour before the pinned snapshot was loaded: those start no
searchable itinerary (every leg departs after the first, and the first after the booking
cut-off), so no answer changes (docs/search.md, "Small change sets"). A change committed but not
yet announced is seen by neither the snapshot nor the feed; its own hook, which runs after, drops
every itinerary through that flight and inserts its new ones (as when PostgreSQL was read first).

Whenever the feed cannot prove what changed (another epoch, entries trimmed past the pin, a
reload announced, too many flights changed since), ``since`` returns None and the caller reads
PostgreSQL; a fresh pin is then taken in the background, from the process's snapshot brought to
the head.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog

from app.search.engine import Rules
from app.search.incremental import Columns, GraphFlight, hulls
from app.search.timetable import Snapshot, announced_after, flight_rows, parse_head, read_head

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()
Array = Any  # numpy arrays

# Flights announced since the pin that a use may carry as rows; more and the pin is renewed (in the
# background: PostgreSQL answers meanwhile).
MAX_CHANGED = 256
_SHIFT = 33  # (airport << 33) | epoch seconds: one sortable int64 (times before 2242)


@dataclass(eq=False)
class _Pin:
    """A snapshot with both of its time orders as sortable keys, and the rows of the flights
    announced after it (None: deleted, cancelled or out of limits), read at feed entry ``read_to``."""

    snapshot: Snapshot
    out_keys: Array  # (source, departure) per slot: the snapshot's own order
    in_keys: Array  # (destination, arrival), ascending
    in_slots: Array  # the slots in that order
    ids: Array  # raw ids as 16-byte voids (tolist gives bytes, trailing zero bytes kept)
    rows: dict[bytes, GraphFlight | None] = field(default_factory=dict)
    read_to: int = 0
    stale: Array = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # their slots, sorted

    def announced(self, raw_ids: set[bytes]) -> None:
        """Slots of these flights are stale from now on (their rows replace them)."""
        if raw_ids:
            slots = self.snapshot.slots_of(raw_ids)
            self.stale = np.union1d(self.stale, np.asarray(slots, dtype=np.int64))

    @classmethod
    def of(cls, snapshot: Snapshot) -> _Pin:
        out_keys = (snapshot.src << _SHIFT) | snapshot.dep
        arriving = (snapshot.dst << _SHIFT) | snapshot.arr
        in_slots = np.argsort(arriving, kind="stable")
        ids = np.frombuffer(snapshot.raw_ids, dtype="V16")
        return cls(snapshot, out_keys, arriving[in_slots], in_slots, ids, read_to=snapshot.seq)


@dataclass(eq=False)
class Since:
    """What one use of the pin found: the pinned snapshot and the current rows of every flight
    announced after it."""

    pin: _Pin
    rows: dict[bytes, GraphFlight | None]
    stale: Array  # the snapshot's slots of those flights, sorted

    def around(self, flights: Sequence[GraphFlight], rules: Rules) -> list[GraphFlight]:
        """incremental.neighbours' pool for ``flights`` (two levels, the same windows: per airport
        the hull of its flights' connection windows). Each flight once: the snapshot's slots are
        one per flight, and a flight announced since is a row, not a slot."""
        return self.pool(flights, rules).flights()

    def pool(self, flights: Sequence[GraphFlight], rules: Rules) -> Columns:
        """``around``'s flights as the snapshot's columns (and the rows announced since): the
        compiled plan reads them without a tuple per flight."""
        levels = min(rules.max_legs, 3) - 1
        if levels < 1 or not flights:
            return self._columns(np.zeros(0, dtype=np.int64), [])
        minimum, maximum = rules.min_connection, rules.max_layover
        snapshot = self.pin.snapshot
        in_slots, in_rows = self._arriving(
            hulls((f.source, f.departure - maximum, f.departure - minimum) for f in flights)
        )
        out_slots, out_rows = self._leaving(
            hulls((f.destination, f.arrival + minimum, f.arrival + maximum) for f in flights)
        )
        slots, rows = [in_slots, out_slots], [*in_rows, *out_rows]
        if levels == 2:
            # Into what connects into them: per airport the hull of those flights' windows.
            windows = _array_hulls(snapshot.airports, snapshot.src[in_slots], snapshot.dep[in_slots])
            windows = hulls(
                [
                    *((a, lo - maximum, hi - minimum) for a, (lo, hi) in windows.items()),
                    *((f.source, f.departure - maximum, f.departure - minimum) for f in in_rows),
                ]
            )
            more_slots, more_rows = self._arriving(windows)
            slots.append(more_slots)
            rows += more_rows
            windows = _array_hulls(snapshot.airports, snapshot.dst[out_slots], snapshot.arr[out_slots])
            windows = hulls(
                [
                    *((a, lo + minimum, hi + maximum) for a, (lo, hi) in windows.items()),
                    *((f.destination, f.arrival + minimum, f.arrival + maximum) for f in out_rows),
                ]
            )
            more_slots, more_rows = self._leaving(windows)
            slots.append(more_slots)
            rows += more_rows
        return self._columns(np.unique(np.concatenate(slots)), list({f.id: f for f in rows}.values()))

    def _arriving(self, windows: dict[str, tuple[int, int]]) -> tuple[Array, list[GraphFlight]]:
        pin = self.pin
        slots = self._current(pin.in_slots[_ranges(pin.in_keys, pin.snapshot.codes, windows)])
        return slots, [
            f
            for f in self.rows.values()
            if f is not None and (w := windows.get(f.destination)) is not None and w[0] <= f.arrival <= w[1]
        ]

    def _leaving(self, windows: dict[str, tuple[int, int]]) -> tuple[Array, list[GraphFlight]]:
        pin = self.pin
        slots = self._current(_ranges(pin.out_keys, pin.snapshot.codes, windows))
        return slots, [
            f
            for f in self.rows.values()
            if f is not None and (w := windows.get(f.source)) is not None and w[0] <= f.departure <= w[1]
        ]

    def _current(self, slots: Array) -> Array:
        """``slots`` without those of flights announced since the pin."""
        return slots[~np.isin(slots, self.stale)] if len(self.stale) else slots

    def _columns(self, slots: Array, rows: list[GraphFlight]) -> Columns:
        """The snapshot's flights at ``slots`` as columns, then ``rows``."""
        snapshot = self.pin.snapshot
        return Columns(
            self.pin.ids[slots].tolist(),
            snapshot.airports,
            snapshot.codes,
            snapshot.src[slots],
            snapshot.dst[slots],
            snapshot.dep[slots],
            snapshot.arr[slots],
            snapshot.cents[slots],
            rows,
        )


class Neighbourhood:
    """The process's pin (one per process, on the AppContext) and its renewal."""

    def __init__(self) -> None:
        self._pin: _Pin | None = None
        self._pinning: asyncio.Task[None] | None = None

    async def since(self, context: AppContext) -> Since | None:
        """The pin and what changed after it, read now (call it holding the update lock, after the
        change's own announcement); None when the feed cannot prove it (then read PostgreSQL)."""
        pin = self._pin
        if pin is None:
            self._renew(context)
            return None
        keys = context.keys
        pipe = context.redis.pipeline(transaction=False)
        pipe.hmget(keys.search_timetable_head, [b"epoch", b"seq"])
        pipe.xrange(keys.search_timetable_feed, min=f"{pin.read_to + 1}-0", max="+")
        head_reply, entries = await pipe.execute()
        head = parse_head(head_reply)
        found = announced_after(entries, pin.read_to, head)
        if head[0] != pin.snapshot.epoch or found is None:
            self._pin = None
            self._renew(context)
            return None
        announced, seq = found
        if announced:
            if len(pin.rows.keys() | announced) > MAX_CHANGED:
                # A bulk batch, or many changes since the pin: PostgreSQL answers until a fresh
                # pin is taken (re-reading thousands of rows here would cost more than the query).
                self._pin = None
                self._renew(context)
                return None
            fresh = await flight_rows(context, announced)
            pin.announced(announced - pin.rows.keys())
            for raw in announced:
                pin.rows[raw] = None
            for row in fresh:
                pin.rows[row[0]] = GraphFlight._make(row)
            pin.read_to = seq
        return Since(pin, dict(pin.rows), pin.stale)

    async def warm_up(self, context: AppContext) -> None:
        """Pin the process's timetable now, at the head (the bench's hook process; the API pins on
        its first change)."""
        snapshot = await context.timetable.ready(context)
        self._pin = await asyncio.to_thread(_Pin.of, snapshot)

    def _renew(self, context: AppContext) -> None:
        if self._pinning is None or self._pinning.done():
            self._pinning = asyncio.get_running_loop().create_task(self._renewed(context))

    async def _renewed(self, context: AppContext) -> None:
        snapshot = context.timetable.current()
        if snapshot is None:  # no timetable in this process (a worker): PostgreSQL answers
            return
        with contextlib.suppress(Exception):
            head = await read_head(context)
            current = await context.timetable.confirm(context, head)
            if current is not None:
                self._pin = await asyncio.to_thread(_Pin.of, current)
                return
        log.info("search_neighbourhood_not_pinned")


def _array_hulls(airports: list[str], codes: Array, times: Array) -> dict[str, tuple[int, int]]:
    """Per airport code in ``codes``, the earliest and latest of its ``times``, by name."""
    if not len(codes):
        return {}
    order = np.lexsort((times, codes))
    codes, times = codes[order], times[order]
    firsts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    lasts = np.append(firsts[1:], len(codes)) - 1
    return {
        airports[a]: (lo, hi)
        for a, lo, hi in zip(
            codes[firsts].tolist(), times[firsts].tolist(), times[lasts].tolist(), strict=True
        )
    }


def _ranges(keys: Array, codes: dict[str, int], windows: dict[str, tuple[int, int]]) -> Array:
    """Positions in ``keys`` (sorted (airport, time) keys) within each airport's [lo, hi]."""
    known = [(codes[a], lo, hi) for a, (lo, hi) in windows.items() if a in codes]
    if not known:
        return np.zeros(0, dtype=np.int64)
    airport, lo, hi = (np.asarray(column, dtype=np.int64) for column in zip(*known, strict=True))
    starts = np.searchsorted(keys, (airport << _SHIFT) | np.maximum(lo, 0), "left")
    ends = np.searchsorted(keys, (airport << _SHIFT) | np.maximum(hi, 0), "right")
    lengths = np.maximum(ends - starts, 0)
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    # Each range's positions: its start repeated, plus 0.. within it.
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return offsets + np.arange(total, dtype=np.int64)
