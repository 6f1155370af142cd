"""One batch of validated rows into ``flights``: COPY to a staging table, one INSERT ... ON CONFLICT.

Seat rule (the admin PUT's, one function: ``SeatInventory.shift_totals``): a changed ``total_seats``
shifts the Redis counter first (it also counts reservations in flight), refusing to go below the
seats held; the row then takes that counter as ``available_seats``. An unchanged total keeps
``available_seats``.

Concurrency is optimistic: the upsert only updates a row still carrying the id and version read
before, so a flight changed by a PUT meanwhile is reported as a row error, never overwritten.

A row identical to the flight already stored counts as updated but writes nothing (no new row
version, no search change): re-uploading a schedule only pays for what changed.

Schedule rule (the admin PUT's, one implementation: ``context.schedule_hook``, the operations
domain's): the updated flights whose departure or arrival moved go to the hook together, inside
the batch's transaction after the upsert, so each affected order's ``schedule_changed`` notice and
``needs_attention`` commit with the batch's new times or not at all. A batch that moves no flight
never calls it; one that moves only unbooked flights pays one query (index probes by flight).

Flights the batch does not find are COPied straight into ``flights`` (PostgreSQL's bulk insert
path, as fast as a raw COPY), in a savepoint: if another request inserted one of them since the
read, the unique index refuses the COPY and those rows take the upsert like the others.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg
from asyncpg.pgproto.pgproto import UUID as PgUUID

from app.airports.service import canonical_spellings
from app.bulk_import.rows import Row
from app.flights.events import FlightChange, FlightSnapshot, ScheduleMove, times_moved

if TYPE_CHECKING:
    from app.context import AppContext

STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS bulk_stage (
    id uuid, line integer, flight_number text, source text, destination text,
    departure_ts timestamptz, arrival_ts timestamptz, total_seats integer, price numeric(10, 2),
    available_seats integer, version bigint
) ON COMMIT DELETE ROWS
"""
STAGE_DROP = "DROP TABLE IF EXISTS pg_temp.bulk_stage"
STAGE_COLUMNS = (
    "id",
    "line",
    "flight_number",
    "source",
    "destination",
    "departure_ts",
    "arrival_ts",
    "total_seats",
    "price",
    "available_seats",
    "version",
)
# One index probe per key (LATERAL ... LIMIT 1 keeps the planner from hashing the whole table, which
# it does for a plain join with 10,000 keys: a scan of every flight per batch, O(table) each time).
EXISTING_SQL = """
SELECT f.id, f.flight_number, f.source, f.destination, f.departure_ts, f.arrival_ts, f.total_seats,
       f.price, f.version
  FROM unnest($1::text[], $2::timestamptz[]) AS k(flight_number, departure_ts)
 CROSS JOIN LATERAL (
       SELECT * FROM flights f
        WHERE f.flight_number = k.flight_number AND f.departure_ts = k.departure_ts
        LIMIT 1) AS f
"""
FLIGHT_COLUMNS = (
    "id",
    "flight_number",
    "source",
    "destination",
    "departure_ts",
    "arrival_ts",
    "total_seats",
    "price",
    "available_seats",
)
# EXCLUDED.id / EXCLUDED.version carry the id and version read before: a row changed since is left alone.
UPSERT_SQL = """
INSERT INTO flights AS f (id, flight_number, source, destination, departure_ts, arrival_ts,
                          total_seats, available_seats, price, version)
SELECT id, flight_number, source, destination, departure_ts, arrival_ts,
       total_seats, available_seats, price, version
  FROM bulk_stage
ON CONFLICT (flight_number, departure_ts) DO UPDATE SET
    source = EXCLUDED.source,
    destination = EXCLUDED.destination,
    arrival_ts = EXCLUDED.arrival_ts,
    total_seats = EXCLUDED.total_seats,
    price = EXCLUDED.price,
    available_seats = CASE WHEN f.total_seats = EXCLUDED.total_seats
                           THEN f.available_seats ELSE EXCLUDED.available_seats END,
    version = f.version + 1,
    updated_at = now()
  WHERE f.id = EXCLUDED.id AND f.version = EXCLUDED.version
RETURNING f.id, (f.xmax = 0) AS inserted
"""
CHANGED_MEANWHILE = "the flight was changed by another request during the import; upload this row again"

Key = tuple[str, datetime]


@dataclass
class BatchOutcome:
    inserted: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    changes: list[FlightChange] = field(default_factory=list)


def latest_per_flight(rows: Sequence[Row]) -> tuple[list[Row], int]:
    """The last row of each (flight_number, departure_ts), and how many earlier rows it superseded."""
    latest: dict[Key, Row] = {}
    for row in rows:
        latest[(row.flight_number, row.departure_ts)] = row
    return list(latest.values()), len(rows) - len(latest)


def snapshot(row: Row, flight_id: uuid.UUID) -> FlightSnapshot:
    return FlightSnapshot(
        flight_id, row.flight_number, row.source, row.destination, row.departure_ts, row.arrival_ts,
        row.total_seats, row.price,
    )  # fmt: skip


def record_snapshot(record: asyncpg.Record) -> FlightSnapshot:
    # EXISTING_SQL's first eight columns are a snapshot's fields, in order.
    return FlightSnapshot(*record[:8])


def new_ids(count: int) -> list[uuid.UUID]:
    """Random (version 4) UUIDs, built by asyncpg's C UUID type: ``uuid.uuid4()`` costs ~6 µs each,
    a noticeable share of a row's import."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])
    data = bytes(raw)
    return [PgUUID(data[i : i + 16]) for i in range(0, 16 * count, 16)]


def _unchanged(row: Row, before: asyncpg.Record) -> bool:
    return bool(
        row.price == before["price"]
        and row.total_seats == before["total_seats"]
        and row.arrival_ts == before["arrival_ts"]
        and row.source == before["source"]
        and row.destination == before["destination"]
    )


async def existing_flights(conn: asyncpg.Connection, keys: Sequence[Key]) -> dict[Key, asyncpg.Record]:
    records = await conn.fetch(EXISTING_SQL, [k[0] for k in keys], [k[1] for k in keys])
    return {(r["flight_number"], r["departure_ts"]): r for r in records}


async def _copy_fresh(conn: asyncpg.Connection, fresh: list[FlightSnapshot]) -> bool:
    """COPY new flights straight into ``flights``; False (nothing written) if one exists by now."""
    # FLIGHT_COLUMNS are a snapshot's fields then available_seats (all seats, for a new flight).
    records = [(*s, s.total_seats) for s in fresh]
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("flights", records=records, columns=FLIGHT_COLUMNS)
    except asyncpg.UniqueViolationError:
        return False
    return True


async def upsert_batch(
    conn: asyncpg.Connection,
    context: AppContext,
    rows: Sequence[Row],
    record_progress: Callable[[BatchOutcome], Awaitable[None]],
) -> BatchOutcome:
    """Upsert the rows and record progress in one transaction; counters and search follow the commit."""
    outcome = BatchOutcome()
    # Names no data set knows take the spelling already in use for them, whatever its case.
    spelled = await canonical_spellings(context, {r.source for r in rows} | {r.destination for r in rows})
    for row in rows:
        row.source, row.destination = spelled[row.source], spelled[row.destination]
    latest, superseded = latest_per_flight(rows)
    outcome.updated += superseded
    existing = await existing_flights(conn, [(r.flight_number, r.departure_ts) for r in latest])
    deltas = {
        existing[key]["id"]: row.total_seats - existing[key]["total_seats"]
        for row in latest
        if (key := (row.flight_number, row.departure_ts)) in existing
        and row.total_seats != existing[key]["total_seats"]
    }
    async with context.inventory.shift_totals(deltas) as shift:
        staged: list[tuple[object, ...]] = []
        fresh: list[FlightSnapshot] = []  # new flights, and their rows below
        fresh_rows: list[Row] = []
        planned: dict[uuid.UUID, tuple[Row, asyncpg.Record | None]] = {}
        ids = iter(new_ids(len(latest) - len(existing)))
        for row in latest:
            before = existing.get((row.flight_number, row.departure_ts))
            if before is None:
                fresh.append(snapshot(row, next(ids)))
                fresh_rows.append(row)
                continue
            if _unchanged(row, before):
                # Nothing to write and nothing for search: as if applied at the moment it was read.
                outcome.updated += 1
                continue
            fid, version = before["id"], before["version"]
            if fid in shift.refused:
                outcome.errors.append((row.line, str(shift.refused[fid].detail)))
                continue
            available = shift.counts.get(fid, row.total_seats)
            planned[fid] = (row, before)
            staged.append(
                (fid, row.line, row.flight_number, row.source, row.destination, row.departure_ts,
                 row.arrival_ts, row.total_seats, row.price, available, version)
            )  # fmt: skip

        # New flights get no Redis counter: a missing counter is rebuilt from PostgreSQL on first use
        # (booking, search, listing), so writing one per inserted flight would only slow the import.
        async with conn.transaction():
            done: dict[uuid.UUID, bool] = {}
            moves: list[ScheduleMove] = []  # updated flights whose departure or arrival changed
            if fresh and await _copy_fresh(conn, fresh):
                outcome.inserted += len(fresh)
                outcome.changes += [FlightChange(None, s) for s in fresh]
            else:
                for s, r in zip(fresh, fresh_rows, strict=True):
                    planned[s.id] = (r, None)
                    staged.append(
                        (s.id, r.line, r.flight_number, r.source, r.destination, r.departure_ts,
                         r.arrival_ts, r.total_seats, r.price, r.total_seats, 1)
                    )  # fmt: skip
            if staged:
                await conn.copy_records_to_table("bulk_stage", records=staged, columns=STAGE_COLUMNS)
                done.update({r["id"]: r["inserted"] for r in await conn.fetch(UPSERT_SQL)})
            for fid, (row, before) in planned.items():
                if fid not in done:
                    outcome.errors.append((row.line, CHANGED_MEANWHILE))
                    continue
                after = snapshot(row, fid)
                if done[fid]:
                    outcome.inserted += 1
                    outcome.changes.append(FlightChange(None, after))
                else:
                    outcome.updated += 1
                    assert before is not None
                    previous = record_snapshot(before)
                    outcome.changes.append(FlightChange(previous, after))
                    if times_moved(previous, after):
                        moves.append((previous, after))
            if moves and context.schedule_hook is not None:
                # The PUT's rule, in this transaction: notices and needs_attention commit with the
                # batch's new times or not at all. A batch that moves no flight skips it entirely.
                await context.schedule_hook(conn, moves)
            outcome.errors.sort()
            await record_progress(outcome)
        shift.keep(done)
    return outcome
