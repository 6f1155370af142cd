"""Small change sets (admin create / update / delete): patch the affected lists in place.

For the changed flights, every itinerary shape through them is enumerated (prefixes of up to
max_legs-1 flights connecting into a changed flight, suffixes connecting out of it, no airport
twice) on a small graph read from PostgreSQL around them: through the old versions to find the
lists that may hold them, through the new versions for what to insert. Each such list loses every
itinerary with a changed flight (what stays is still an exact prefix of the pair's order) and
gains the new ones that rank inside it (a list that is not ``complete`` only takes those ranking
before its last entry; a cut list becomes not complete). All affected fields are read in one
pipeline and written in one, each origin-day conditionally on its generation.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from app.core.context import AppContext
from app.services.search import data, store
from app.services.search.codec import FLIGHT, Records, decode_list, encode_list, header, mentions, order_key
from app.services.search.engine import Rules
from app.services.search.store import BUILT, GEN, OriginDay

# A list cut below this many entries is queued for recomputation (it still answers exactly).
REFILL_BELOW = 30

_NEIGHBOURS = """
SELECT f.id, f.source, f.destination, extract(epoch FROM f.departure_ts)::bigint,
       extract(epoch FROM f.arrival_ts)::bigint, (f.price * 100)::bigint
  FROM flights f JOIN unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS w(airport, lo, hi)
    ON f.destination = w.airport AND f.arrival_ts BETWEEN w.lo AND w.hi
UNION
SELECT f.id, f.source, f.destination, extract(epoch FROM f.departure_ts)::bigint,
       extract(epoch FROM f.arrival_ts)::bigint, (f.price * 100)::bigint
  FROM flights f JOIN unnest($4::text[], $5::timestamptz[], $6::timestamptz[]) AS w(airport, lo, hi)
    ON f.source = w.airport AND f.departure_ts BETWEEN w.lo AND w.hi
"""


@dataclass(frozen=True)
class Node:
    id: uuid.UUID
    source: str
    destination: str
    departure: int
    arrival: int
    cents: int

    @cached_property
    def record(self) -> bytes:
        return FLIGHT.pack(self.id.bytes, self.departure, self.arrival, self.cents)


class Pool:
    """Flights by the airport they leave (sorted by departure) and reach (sorted by arrival)."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes = list({(n.id, n.record, n.source, n.destination): n for n in nodes}.values())
        self.leaving: dict[str, tuple[list[int], list[Node]]] = {}
        self.reaching: dict[str, tuple[list[int], list[Node]]] = {}
        for n in sorted(self.nodes, key=lambda n: n.departure):
            self.leaving.setdefault(n.source, ([], []))[1].append(n)
        for n in sorted(self.nodes, key=lambda n: n.arrival):
            self.reaching.setdefault(n.destination, ([], []))[1].append(n)
        for times, nodes in self.leaving.values():
            times.extend(n.departure for n in nodes)
        for times, nodes in self.reaching.values():
            times.extend(n.arrival for n in nodes)

    def before(self, flight: Node, rules: Rules) -> list[Node]:
        times, nodes = self.reaching.get(flight.source, ([], []))
        lo = bisect_left(times, flight.departure - rules.max_layover)
        return nodes[lo : bisect_right(times, flight.departure - rules.min_connection)]

    def after(self, flight: Node, rules: Rules) -> list[Node]:
        times, nodes = self.leaving.get(flight.destination, ([], []))
        lo = bisect_left(times, flight.arrival + rules.min_connection)
        return nodes[lo : bisect_right(times, flight.arrival + rules.max_layover)]


def through(flight: Node, pool: Pool, rules: Rules) -> list[tuple[Node, ...]]:
    """Every itinerary of 1..max_legs flights through ``flight`` (no airport twice)."""
    # By length: prefixes[k] / suffixes[k] hold the chains of k flights before / after ``flight``.
    prefixes: list[list[tuple[Node, ...]]] = [[()], [], []]
    suffixes: list[list[tuple[Node, ...]]] = [[()], [], []]
    if rules.max_legs >= 2:
        for p in pool.before(flight, rules):
            prefixes[1].append((p,))
            if rules.max_legs >= 3:
                prefixes[2] += [(q, p) for q in pool.before(p, rules)]
        for s in pool.after(flight, rules):
            suffixes[1].append((s,))
            if rules.max_legs >= 3:
                suffixes[2] += [(s, t) for t in pool.after(s, rules)]
    found: list[tuple[Node, ...]] = []
    for before in range(min(rules.max_legs, 3)):
        for after in range(min(rules.max_legs, 3) - before):
            for prefix in prefixes[before]:
                for suffix in suffixes[after]:
                    legs = (*prefix, flight, *suffix)
                    airports = {legs[0].source, *(leg.destination for leg in legs)}
                    if len(airports) == len(legs) + 1:
                        found.append(legs)
    return found


def node_of(row: data.FlightRow) -> Node:
    return Node(row.id, row.source, row.destination, row.departure, row.arrival, row.cents)


async def neighbours(context: AppContext, flights: Sequence[Node], rules: Rules) -> list[Node]:
    """Every flight that can precede or follow ``flights`` within max_legs-1 connections."""
    found: dict[tuple[uuid.UUID, int], Node] = {}
    into, out = list(flights), list(flights)
    for _ in range(rules.max_legs - 1):
        if not into and not out:
            break
        windows_in = _windows(
            (f.source, f.departure - rules.max_layover, f.departure - rules.min_connection) for f in into
        )
        windows_out = _windows(
            (f.destination, f.arrival + rules.min_connection, f.arrival + rules.max_layover) for f in out
        )
        async with context.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            records = await driver.fetch(_NEIGHBOURS, *windows_in, *windows_out)
        before = {n.source for n in into}
        after = {n.destination for n in out}
        into, out = [], []
        for r in records:
            node = Node(*r)
            if (node.id, node.departure) in found:
                continue
            found[node.id, node.departure] = node
            if node.destination in before:
                into.append(node)
            if node.source in after:
                out.append(node)
    return list(found.values())


def _windows(items: Iterable[tuple[str, int, int]]) -> list[list[Any]]:
    merged: dict[str, tuple[int, int]] = {}
    for airport, lo, hi in items:
        old = merged.get(airport)
        merged[airport] = (lo, hi) if old is None else (min(lo, old[0]), max(hi, old[1]))
    return [
        list(merged),
        [datetime.fromtimestamp(lo, UTC) for lo, _ in merged.values()],
        [datetime.fromtimestamp(hi, UTC) for _, hi in merged.values()],
    ]


@dataclass
class Plan:
    """Per origin-day and destination: what to remove (any changed id) and the candidates to add."""

    removals: dict[OriginDay, set[str]]
    inserts: dict[OriginDay, dict[str, set[Records]]]


def plan(old: Sequence[Node], new: Sequence[Node], pool: list[Node], zones: data.Zones, rules: Rules) -> Plan:
    removals: dict[OriginDay, set[str]] = {}
    inserts: dict[OriginDay, dict[str, set[Records]]] = {}
    changed = {n.id for n in old} | {n.id for n in new}
    current = Pool([n for n in pool if n.id not in changed] + list(new))
    everything = Pool([*pool, *old, *new])
    dates: dict[tuple[str, int], Any] = {}

    def origin_day(first: Node) -> OriginDay:
        day = dates.get((first.source, first.departure))
        if day is None:
            day = dates[first.source, first.departure] = zones.local_date(first.source, first.departure)
        return first.source, day

    for flight in old:
        for legs in through(flight, everything, rules):
            removals.setdefault(origin_day(legs[0]), set()).add(legs[-1].destination)
    for flight in new:
        for legs in through(flight, current, rules):
            per_day = inserts.setdefault(origin_day(legs[0]), {})
            per_day.setdefault(legs[-1].destination, set()).add(tuple(leg.record for leg in legs))
    return Plan(removals, inserts)


def merge(blob: bytes | None, gone: set[bytes], candidates: set[Records], depth: int) -> bytes | None:
    """The list's new value ('' to delete the field), or None when it does not change."""
    if blob is None:
        items: list[Records] = []
        complete = True
    else:
        complete, count, worst = header(blob)
        removing = mentions(blob, gone)
        if not removing:
            full = count >= depth or not complete
            candidates = {c for c in candidates if not full or _price(c) <= worst}
            if not candidates:
                return None
        items, complete = decode_list(blob)
        if removing:
            items = [it for it in items if not any(r[:16] in gone for r in it)]
    present = set(items)
    fresh = [c for c in candidates if c not in present]
    if not complete:
        last = order_key(items[-1]) if items else None
        fresh = [c for c in fresh if last is not None and order_key(c) < last]
    if not fresh and blob is not None and len(items) == header(blob)[1]:
        return None
    merged = sorted(items + fresh, key=order_key)
    if len(merged) > depth:
        merged, complete = merged[:depth], False
    if not merged and complete:
        return b""
    return encode_list(merged, complete)


def _price(itinerary: Records) -> int:
    return sum(FLIGHT.unpack(r)[3] for r in itinerary)


async def apply(
    context: AppContext, zones: data.Zones, plan_: Plan, gone: set[bytes]
) -> tuple[list[OriginDay], list[OriginDay]]:
    """Patch the planned lists. Returns (days to invalidate, days to queue for a refill)."""
    days = sorted(set(plan_.removals) | set(plan_.inserts))
    if not days:
        return [], []
    tag = data.format_tag(context.settings).encode()
    fields = {d: sorted(plan_.removals.get(d, set()) | set(plan_.inserts.get(d, {}))) for d in days}
    pipe = context.redis.pipeline(transaction=False)
    for origin, day in days:
        pipe.hmget(store.day_key(context, origin, day), [BUILT, GEN, *fields[origin, day]])
    replies = await pipe.execute()
    stale: list[OriginDay] = []
    refill: list[OriginDay] = []
    writes: list[tuple[OriginDay, bytes, list[Any]]] = []
    for d, values in zip(days, replies, strict=True):
        if values[0] != tag:
            stale.append(d)
            continue
        args: list[Any] = []
        candidates = plan_.inserts.get(d, {})
        for destination, blob in zip(fields[d], values[2:], strict=True):
            value = merge(blob, gone, candidates.get(destination, set()), data.DEPTH)
            if value is None:
                continue
            args += [destination, value]
            if value and not header(value)[0] and header(value)[1] < REFILL_BELOW:
                refill.append(d)
        if args:
            writes.append((d, values[1] or b"0", args))
    if writes:
        script = context.redis.register_script(store.PATCH)
        pipe = context.redis.pipeline(transaction=False)
        for (origin, day), gen, args in writes:
            await script(keys=[store.day_key(context, origin, day)], args=[gen, tag, *args], client=pipe)
        results = await pipe.execute()
        stale += [d for (d, _, _), ok in zip(writes, results, strict=True) if not ok]
    return stale, refill
