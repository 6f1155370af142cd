"""Every searchable flight as arrays in each API process (a ``Snapshot``), kept current through a
change feed in Redis, for the compiled scan (scan.py) that answers filtered and sorted searches and
the month calendar.

**The invariant: an answer is computed from a snapshot known to be current.** Every committed
flight change is announced after its commit (hooks.py, as the index is) by appending the changed
flights' ids to a Redis stream whose head (a hash: ``epoch``, ``seq``) numbers the entries; a
snapshot remembers the head it has caught up to. A search reads the head in the same round trip as
its seat counters and uses its answer only when the head is the snapshot's; otherwise the snapshot
catches up (the feed's new entries, then those flights' rows re-read from PostgreSQL, which
hold at least what was announced) and the search runs again on the result.

A snapshot of another epoch (Redis lost the head: a fresh epoch is taken by the next writer or
reader, so a missing head never matches), behind a trimmed feed, or told to reload (an airport's
timezone change, a full index rebuild) is dropped and reloaded in the background; until then
searches answer from PostgreSQL (ordered.py). A load reads the head *before* PostgreSQL, so any
change it might miss is in the feed after it. A change made behind the application's back (SQL by
hand) is seen after ``python -m app.cli rebuild-index`` (which announces a reload) or the
periodic reload (``REFRESH_SECONDS``), as a process that dies between a commit and its hook.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import time
import uuid
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog

from app.models import flight_times
from app.platform.redis.scripts import lua_source
from app.search import incremental, scan
from app.search.data import Zones

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

# A snapshot older than this is reloaded in the background (it keeps answering meanwhile).
REFRESH_SECONDS = 600
# Feed entries kept (approximately): a reader further behind reloads. An entry holds one change
# set's ids (a bulk batch: up to ~5,000, 80 KB).
FEED_LENGTH = 512
# Entries a snapshot memoises (local days, clock changes) before starting over: a bounded memo keeps
# the garbage collector's work per collection bounded too.
_MEMO_LIMIT = 20_000
_FEW = 16
# Airports the merge's packed route keys hold (14 bits of destination); more: a full re-sort.
_MERGE_AIRPORTS = 1 << 14
# A failed load is tried again by the first search after this pause (PostgreSQL answers meanwhile).
_RETRY_SECONDS = 5
_READY_ATTEMPTS = 5
# Scans and answers kept per snapshot (each a few hundred bytes to a few KB).
_ANSWER_LIMIT = 8192

_PUBLISH = lua_source("app.search", "timetable_publish")
_HEAD = lua_source("app.search", "timetable_head")
_ROWS = f"""SELECT uuid_send(id), source, destination, extract(epoch FROM departure_ts)::bigint,
  extract(epoch FROM arrival_ts)::bigint, (price * 100)::bigint
FROM flights WHERE status <> 'CANCELLED' AND {flight_times.SQL} AND """  # noqa: S608 (constant text)
# Flights that departed cannot be in any searchable itinerary (every leg departs after the first,
# which departs after the booking cut-off); an hour of margin for clocks.
_UPCOMING = "departure_ts > now() - interval '1 hour'"

Head = tuple[bytes | None, int]
Row = tuple[bytes, str, str, int, int, int]


@dataclass(eq=False)
class Snapshot:
    """The flights at one head of the feed, sorted by (source, departure): per airport its
    departures form one range (``out_ptr``); routes (source, destination) list their flights by
    departure through ``r_flight`` / ``r_dep`` (and ``r_arr``, ``r_cents``: the scan walks a route's
    flights in a connection window through these contiguous copies, not through ``r_flight``'s
    scattered slots: cache misses were ~40% of a cold scan), ranges ``rk_lo``..``rk_hi`` found per source
    through ``rk_ptr`` / ``rk_dst``, with their cheapest price and shortest duration."""

    epoch: bytes
    seq: int
    zones: Zones
    airports: list[str]
    codes: dict[str, int]
    src: Any
    dst: Any
    dep: Any
    arr: Any
    cents: Any
    idh: Any  # raw id, first 8 bytes, big-endian: comparing (idh, idl) compares the raw ids
    idl: Any
    out_ptr: Any
    r_flight: Any
    r_dep: Any
    r_arr: Any
    r_cents: Any
    rk_ptr: Any
    rk_dst: Any
    rk_lo: Any
    rk_hi: Any
    rk_minc: Any
    rk_mindur: Any
    raw_ids: bytes = b""  # every flight's raw id, 16 bytes per slot
    texts: bytes = b""  # every flight's id as text (the Redis keys' spelling), 36 bytes per slot
    # No flight excluded, for scans that exclude none; never written (a search that must exclude
    # flights short of seats scans with its own copy).
    banned: Any = None
    loaded_at: float = field(default_factory=time.monotonic)
    _bounds: dict[tuple[str, date], tuple[int, int]] = field(default_factory=dict)
    _clocks: dict[tuple[str, date], tuple[int, int, int]] = field(default_factory=dict)
    _windows: dict[tuple[tuple[str, ...], tuple[date, ...]], tuple[Any, Any]] = field(default_factory=dict)
    # Scan results by query (timetable_search): a snapshot never changes, so neither do they.
    scans: dict[Hashable, list[tuple[scan.Itinerary, ...]]] = field(default_factory=dict)
    answers: dict[Hashable, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Sequence[Row], zones: Zones, head: Head) -> Snapshot:
        airports = sorted({r[1] for r in rows} | {r[2] for r in rows})
        codes = {name: k for k, name in enumerate(airports)}
        raw = np.frombuffer(b"".join(r[0] for r in rows), dtype=">u8").reshape(len(rows), 2)
        return cls._arranged(
            head,
            zones,
            airports,
            codes,
            np.fromiter((codes[r[1]] for r in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((codes[r[2]] for r in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((r[3] for r in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((r[4] for r in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((r[5] for r in rows), dtype=np.int64, count=len(rows)),
            raw[:, 0].astype(np.uint64),
            raw[:, 1].astype(np.uint64),
        )

    def replaced(self, changed: set[bytes], rows: Sequence[Row], seq: int) -> Snapshot:
        """This snapshot with the flights ``changed`` replaced by their current ``rows`` (a changed
        flight without a row was deleted, cancelled or moved out of the limits). The kept flights
        stay in order and the new ones are merged in (linear: a re-sort cost ~70 ms at 270k)."""
        keep = np.ones(len(self.dep), dtype=bool)
        keep[self.slots_of(changed)] = False
        airports, codes = list(self.airports), dict(self.codes)
        for r in rows:
            for name in (r[1], r[2]):
                if name not in codes:
                    codes[name] = len(airports)
                    airports.append(name)
        if len(airports) > _MERGE_AIRPORTS:  # the merge's packed keys would overflow: sort afresh
            columns = (x[keep].tolist() for x in (self.src, self.dst, self.dep, self.arr, self.cents))
            current = [
                (self.raw_id(f), self.airports[s], self.airports[d], t, a, c)
                for f, s, d, t, a, c in zip(np.flatnonzero(keep).tolist(), *columns, strict=True)
            ]
            replaced = Snapshot.of([*current, *rows], self.zones, (self.epoch, seq))
            replaced.loaded_at = self.loaded_at
            return self._with_local_days(replaced)
        m = len(rows)
        raw = np.frombuffer(b"".join(r[0] for r in rows), dtype=">u8").reshape(m, 2)
        added = {
            "src": np.fromiter((codes[r[1]] for r in rows), dtype=np.int64, count=m),
            "dst": np.fromiter((codes[r[2]] for r in rows), dtype=np.int64, count=m),
            "dep": np.fromiter((r[3] for r in rows), dtype=np.int64, count=m),
            "arr": np.fromiter((r[4] for r in rows), dtype=np.int64, count=m),
            "cents": np.fromiter((r[5] for r in rows), dtype=np.int64, count=m),
            "idh": raw[:, 0].astype(np.uint64),
            "idl": raw[:, 1].astype(np.uint64),
        }
        by_departure = np.lexsort((added["dep"], added["src"]))
        added = {name: column[by_departure] for name, column in added.items()}
        kept = {name: getattr(self, name)[keep] for name in added}
        # Where each new flight goes among the kept ones, in (source, departure) order.
        at = np.searchsorted(
            _out_key(kept["src"], kept["dep"]), _out_key(added["src"], added["dep"]), "right"
        )
        merged = {name: np.insert(kept[name], at, added[name]) for name in added}
        # The ids' texts carried over the same way (computing all of them afresh tripled the cost
        # of a catch-up at 270k flights).
        texts = np.insert(
            np.frombuffer(self.texts, dtype="S36")[keep],
            at,
            np.frombuffer(_text_rows(raw[by_departure].tobytes()).tobytes(), dtype="S36"),
        ).tobytes()
        # The route order: the kept flights' order carried over to their new slots, the new ones
        # merged in by (source, destination, departure).
        rank = np.cumsum(keep) - 1
        moved = np.arange(int(keep.sum())) + np.searchsorted(at, np.arange(int(keep.sum())), side="right")
        routes = self.r_flight[keep[self.r_flight]]
        routes = moved[rank[routes]]
        fresh = at + np.arange(m)
        fresh = fresh[np.argsort(_route_key(merged, fresh), kind="stable")]
        into = np.searchsorted(_route_key(merged, routes), _route_key(merged, fresh), side="right")
        replaced = self._indexed(
            (self.epoch, seq),
            self.zones,
            airports,
            codes,
            merged,
            np.insert(routes, into, fresh).astype(np.int64),
            texts,
        )
        replaced.loaded_at = self.loaded_at  # the age of the full load: it bounds a lost change
        return self._with_local_days(replaced)

    def _with_local_days(self, replaced: Snapshot) -> Snapshot:
        """``replaced`` sharing this snapshot's memos of local days (windows, clock changes): they
        depend on the zones alone, which a catch-up keeps (a timezone change reloads), so a
        stream of changes does not make every search compute its windows afresh."""
        replaced._bounds, replaced._clocks, replaced._windows = self._bounds, self._clocks, self._windows
        return replaced

    @classmethod
    def _arranged(
        cls,
        head: Head,
        zones: Zones,
        airports: list[str],
        codes: dict[str, int],
        src: Any,
        dst: Any,
        dep: Any,
        arr: Any,
        cents: Any,
        idh: Any,
        idl: Any,
    ) -> Snapshot:
        order = np.lexsort((dep, src))
        columns = {"src": src, "dst": dst, "dep": dep, "arr": arr, "cents": cents, "idh": idh, "idl": idl}
        columns = {name: column[order] for name, column in columns.items()}
        r_flight = np.lexsort((columns["dep"], columns["dst"], columns["src"])).astype(np.int64)
        return cls._indexed(head, zones, airports, codes, columns, r_flight)

    @classmethod
    def _indexed(
        cls,
        head: Head,
        zones: Zones,
        airports: list[str],
        codes: dict[str, int],
        columns: dict[str, Any],
        r_flight: Any,
        texts: bytes | None = None,
    ) -> Snapshot:
        """The snapshot of flights sorted by (source, departure), ``r_flight`` their order by
        (source, destination, departure): the per-airport and per-route indexes (``texts``: the
        ids' texts in that order when the caller has them)."""
        src, dst, dep, arr, cents = (columns[n] for n in ("src", "dst", "dep", "arr", "cents"))
        idh, idl = columns["idh"], columns["idl"]
        n_airports = len(airports)
        out_ptr = np.searchsorted(src, np.arange(n_airports + 1), side="left").astype(np.int64)
        route = src[r_flight] * max(n_airports, 1) + dst[r_flight]
        if len(route):
            rk_lo = np.concatenate([[0], np.flatnonzero(np.diff(route)) + 1]).astype(np.int64)
            rk_minc = np.minimum.reduceat(cents[r_flight], rk_lo)
            rk_mindur = np.minimum.reduceat((arr - dep)[r_flight], rk_lo)
        else:
            rk_lo = rk_minc = rk_mindur = np.zeros(0, dtype=np.int64)
        rk_hi = np.append(rk_lo[1:], len(route)).astype(np.int64)
        rk_src = src[r_flight][rk_lo] if len(route) else rk_lo
        raw_ids = np.stack([idh, idl], axis=1).astype(">u8").tobytes() if len(dep) else b""
        return cls(
            epoch=head[0] or b"",
            seq=head[1],
            zones=zones,
            airports=airports,
            codes=codes,
            src=src,
            dst=dst,
            dep=dep,
            arr=arr,
            cents=cents,
            idh=idh,
            idl=idl,
            out_ptr=out_ptr,
            r_flight=r_flight,
            r_dep=dep[r_flight],
            r_arr=arr[r_flight],
            r_cents=cents[r_flight],
            rk_ptr=np.searchsorted(rk_src, np.arange(n_airports + 1), side="left").astype(np.int64),
            rk_dst=dst[r_flight][rk_lo] if len(route) else rk_lo,
            rk_lo=rk_lo,
            rk_hi=rk_hi,
            rk_minc=rk_minc.astype(np.int64),
            rk_mindur=rk_mindur.astype(np.int64),
            banned=np.zeros(len(dep), dtype=np.bool_),
            raw_ids=raw_ids,
            texts=_text_rows(raw_ids).tobytes() if texts is None else texts,
        )

    def slots_of(self, raw_ids: set[bytes]) -> list[int]:
        """The slots of the flights with these raw ids (those the snapshot holds)."""
        if not raw_ids:
            return []
        wanted = np.frombuffer(b"".join(raw_ids), dtype=">u8").reshape(len(raw_ids), 2).astype(np.uint64)
        if len(raw_ids) <= _FEW:  # a comparison per id beats isin's sorts of 270k values
            hits = np.zeros(len(self.dep), dtype=bool)
            for high in wanted[:, 0]:
                hits |= self.idh == high
        else:
            hits = np.isin(self.idh, wanted[:, 0])
        return [slot for slot in np.flatnonzero(hits).tolist() if self.raw_id(slot) in raw_ids]

    def raw_id(self, slot: int) -> bytes:
        return self.raw_ids[slot * 16 : slot * 16 + 16]

    # The memos below look up first and build only on a miss (``_kept``: bounded, so that a
    # client walking every airport and date cannot grow them without end).

    def name(self, slot: int) -> str:
        """The flight's id as text, as the Redis keys spell it."""
        return self.texts[slot * 36 : slot * 36 + 36].decode()

    def mget(self, slots: Iterable[int], key: Callable[[str], str]) -> bytes:
        """The MGET of ``key(name)`` for the flights at ``slots``, encoded (multiplex.encode's
        bytes): each key's RESP spelled from the slot's text between a fixed head and end."""
        head, end = _key_template(key)
        texts = self.texts
        parts = [texts[f * 36 : f * 36 + 36] for f in slots]  # one slice per key, one join
        if not parts:
            return b"*1\r\n$4\r\nMGET\r\n"
        return b"*%d\r\n$4\r\nMGET\r\n%s%s%s" % (len(parts) + 1, head, (end + head).join(parts), end)

    def windows(self, sources: tuple[str, ...], days: tuple[date, ...]) -> tuple[Any, Any]:
        """Per day and source, the local day's start and end (two arrays; memoised)."""
        found = self._windows.get((sources, days))
        if found is None:
            bounds = np.asarray(
                [[self.bounds(name, day) for name in sources] for day in days], dtype=np.int64
            ).reshape(len(days), len(sources), 2)
            both = (np.ascontiguousarray(bounds[:, :, 0]), np.ascontiguousarray(bounds[:, :, 1]))
            found = _kept(self._windows, (sources, days), both)
        return found

    def remember_answer(self, key: Hashable, answer: Any) -> None:
        """Keep a computed answer with what it rests on (timetable_search: checked before use)."""
        _kept(self.answers, key, answer, _ANSWER_LIMIT)

    def remember_scan(self, key: Hashable, found: list[tuple[scan.Itinerary, ...]]) -> None:
        """Keep a scan's result (without exclusions: it depends on this snapshot and the key only)."""
        _kept(self.scans, key, found, _ANSWER_LIMIT)

    def bounds(self, airport: str, day: date) -> tuple[int, int]:
        """The airport's local day as [start, end) epochs (memoised: the zones are the snapshot's)."""
        found = self._bounds.get((airport, day))
        if found is None:
            found = _kept(self._bounds, (airport, day), self.zones.bounds(airport, day))
        return found

    def clock(self, airport: str, day: date) -> tuple[int, int, int]:
        """When the airport's clock changes during its local day (the day's end if it does not),
        and its UTC offsets in seconds before and after (memoised)."""
        found = self._clocks.get((airport, day))
        if found is None:
            start, end = self.bounds(airport, day)
            zone = self.zones.zone(airport)
            before, after = _offset(zone, start), _offset(zone, end - 1)
            low, high = start, end - 1
            if before == after:  # no change (a day holds at most one): no search for it
                low = high = end
            while high - low > 1:  # offset(low) == before, offset(high) == after
                middle = (low + high) // 2
                if _offset(zone, middle) == before:
                    low = middle
                else:
                    high = middle
            found = _kept(self._clocks, (airport, day), (high, before, after))
        return found

    def matches(self, head: Head) -> bool:
        return head[0] is not None and head[0] == self.epoch and head[1] == self.seq


class Timetable:
    """The process's current snapshot, its loading and its catching up (one of each at a time)."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._loading: asyncio.Task[None] | None = None
        self._catching_up = asyncio.Lock()
        self._failed_at: float | None = None

    def usable(self, context: AppContext) -> Snapshot | None:
        """The snapshot to search, not yet checked against the head (None while none is loaded:
        a load is started)."""
        snapshot = self._snapshot
        if snapshot is None or time.monotonic() - snapshot.loaded_at > REFRESH_SECONDS:
            self._start_loading(context)
        return snapshot

    def current(self) -> Snapshot | None:
        """The snapshot as it is, unchecked; never starts a load (a process that searches nothing
        keeps none)."""
        return self._snapshot

    async def ready(self, context: AppContext) -> Snapshot:
        """A snapshot at the current head, loading or catching up as needed (startup, tests)."""
        for _ in range(_READY_ATTEMPTS):
            snapshot = self._snapshot
            if snapshot is not None:
                current = await self.confirm(context, await read_head(context))
                if current is not None:
                    return current
            self._failed_at = None  # a caller waiting for it: no pause between attempts
            self._start_loading(context)
            assert self._loading is not None
            await asyncio.shield(self._loading)
        raise RuntimeError("the search timetable could not be loaded (search_timetable_load_failed)")

    async def confirm(self, context: AppContext, head: Head) -> Snapshot | None:
        """The snapshot brought to ``head`` (read by the caller with its counters), or None when
        it must be reloaded (the reload is started; answer from PostgreSQL meanwhile)."""
        snapshot = self._snapshot
        if snapshot is not None and snapshot.matches(head):
            return snapshot
        async with self._catching_up:
            snapshot = self._snapshot
            if snapshot is None:
                self._start_loading(context)
                return None
            if snapshot.matches(head) or (snapshot.epoch == head[0] and snapshot.seq > head[1]):
                return snapshot  # another search caught up past this head meanwhile
            caught_up = await self._caught_up(context, snapshot, head)
            if caught_up is None:
                self._snapshot = None
                self._start_loading(context)
                return None
            self._snapshot = caught_up
            return caught_up

    async def _caught_up(self, context: AppContext, snapshot: Snapshot, head: Head) -> Snapshot | None:
        if head[0] != snapshot.epoch:
            return None
        entries: Any = await context.redis.xrange(
            context.keys.search_timetable_feed, min=f"{snapshot.seq + 1}-0", max="+"
        )
        found = announced_after(entries, snapshot.seq, head)
        if found is None:
            return None
        changed, seq = found
        rows = await flight_rows(context, changed)
        return await asyncio.to_thread(snapshot.replaced, changed, rows, seq)

    def _start_loading(self, context: AppContext) -> None:
        if self._failed_at is not None and time.monotonic() - self._failed_at < _RETRY_SECONDS:
            return
        if self._loading is None or self._loading.done():
            self._loading = asyncio.get_running_loop().create_task(self._load(context))

    async def _load(self, context: AppContext) -> None:
        started = time.monotonic()
        try:
            head = await ensure_head(context)
            rows = await _rows(context, _UPCOMING)
            zones = await incremental.zones(context)
            snapshot = await asyncio.to_thread(_prepared, rows, zones, head)
        except Exception:
            # Searches answer from PostgreSQL meanwhile; the next one after the pause tries again.
            log.warning("search_timetable_load_failed", exc_info=True)
            self._failed_at = time.monotonic()
            return
        async with self._catching_up:
            current = self._snapshot
            if current is None or current.epoch != snapshot.epoch or current.seq <= snapshot.seq:
                self._snapshot = snapshot
            else:  # the old one caught up past this load's head meanwhile: keep it, refreshed
                current.loaded_at = time.monotonic()
        log.info("search_timetable_loaded", flights=len(rows), seconds=round(time.monotonic() - started, 2))


def _prepared(rows: Sequence[Row], zones: Zones, head: Head) -> Snapshot:
    snapshot = Snapshot.of(rows, zones, head)
    scan.warm_up()  # once per process: the first search must not pay for it
    return snapshot


async def publish(context: AppContext, ids: Iterable[uuid.UUID] | None) -> None:
    """Announce committed changes to these flights (None: every reader reloads)."""
    payload = b"" if ids is None else b"".join(i.bytes for i in ids)
    await context.redis.eval(
        _PUBLISH,
        2,
        context.keys.search_timetable_head,
        context.keys.search_timetable_feed,
        secrets.token_hex(8),
        payload,
        FEED_LENGTH,
    )


async def ensure_head(context: AppContext) -> Head:
    reply: Any = await context.redis.eval(
        _HEAD, 2, context.keys.search_timetable_head, context.keys.search_timetable_feed, secrets.token_hex(8)
    )
    return reply[0], int(reply[1] or 0)


async def read_head(context: AppContext) -> Head:
    reply: Any = await context.redis.hmget(context.keys.search_timetable_head, [b"epoch", b"seq"])
    return parse_head(reply)


def parse_head(reply: Sequence[Any]) -> Head:
    return reply[0], int(reply[1] or 0)


def announced_after(entries: Any, seq: int, head: Head) -> tuple[set[bytes], int] | None:
    """The flights the feed's entries after ``seq`` announce (XRANGE's reply from ``seq + 1``), and
    the last entry's number; None when the feed cannot tell: an entry trimmed, a reload announced
    (an entry without ids), or the head counting entries the feed lost (Redis lost them)."""
    changed: set[bytes] = set()
    expected = seq + 1
    for entry_id, fields in entries:
        payload = fields.get(b"ids", b"")
        if int(entry_id.split(b"-")[0]) != expected or not payload:
            return None
        changed.update(payload[k : k + 16] for k in range(0, len(payload), 16))
        expected += 1
    if expected - 1 < head[1]:
        return None
    return changed, expected - 1


async def flight_rows(context: AppContext, raw_ids: Iterable[bytes]) -> list[Row]:
    """The current rows of these flights, as a snapshot holds them (none for a flight deleted,
    cancelled or out of the time limits)."""
    return await _rows(context, "id = ANY($1::uuid[])", [uuid.UUID(bytes=raw) for raw in raw_ids])


async def _rows(context: AppContext, where: str, *args: Any) -> list[Row]:
    async with context.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        records = await driver.fetch(_ROWS + where, *args)
    return [tuple(r) for r in records]


def _kept(store: dict[Any, Any], key: Any, value: Any, limit: int = _MEMO_LIMIT) -> Any:
    """Store ``value`` in a memo, which starts over when full; returns the value."""
    if len(store) >= limit:
        store.clear()
    store[key] = value
    return value


def _text_rows(raw_ids: bytes) -> Any:
    """Each id's text, str(uuid.UUID(bytes=raw)), as a row of 36 bytes (vectorised: a uuid.UUID
    per flight named costs ~2 us in every search naming it)."""
    digits = np.frombuffer(raw_ids.hex().encode(), dtype=np.uint8).reshape(-1, 32)
    text = np.empty((len(digits), 36), dtype=np.uint8)
    for into, start, end in ((0, 0, 8), (9, 8, 12), (14, 12, 16), (19, 16, 20), (24, 20, 32)):
        text[:, into : into + end - start] = digits[:, start:end]
    text[:, [8, 13, 18, 23]] = ord("-")
    return text


@functools.lru_cache(maxsize=64)
def _key_template(key: Callable[[str], str]) -> tuple[bytes, bytes]:
    """A key function's RESP bulk string around a flight's 36-byte text: its head (length and
    the key's start) and its end (the key's rest and CRLF)."""
    marker = "#" * 36
    start, rest = key(marker).encode().split(marker.encode())
    return b"$%d\r\n%s" % (len(start) + 36 + len(rest), start), rest + b"\r\n"


def _out_key(src: Any, dep: Any) -> Any:
    """(source, departure) as one int64 (departures before 2100 fit in 33 bits)."""
    return (src << 33) | dep


def _route_key(columns: dict[str, Any], slots: Any) -> Any:
    """(source, destination, departure) of ``slots`` as one int64 (up to 16,384 airports)."""
    return (columns["src"][slots] << 47) | (columns["dst"][slots] << 33) | columns["dep"][slots]


def _offset(zone: Any, epoch: int) -> int:
    found = datetime.fromtimestamp(epoch, zone).utcoffset()
    return 0 if found is None else int(found.total_seconds())
