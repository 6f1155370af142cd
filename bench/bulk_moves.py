"""A bulk batch that moves flights' times, in-process: the schedule hook's cost, on vs off.

    .venv/bin/python bench/bulk_moves.py [--flights 100000] [--booked 20000] [--batch 10000] [--rounds 7]

Its own database and Redis key prefix (tests.infra, removed afterwards): ``--flights`` flights, and
an order of two legs on each pair of the first ``--booked`` flights (bookings by flight, order
and id are what the hook probes). Each round upserts (``upsert_batch``, the bulk runner's own
call) one batch of ``--batch`` unbooked flights and one of booked flights with every arrival
moved (5 minutes later, then back), once with ``context.schedule_hook`` as wired and once with it
None (what the import did before: no work), in alternating order. Prints the median wall and
process CPU seconds per batch (PostgreSQL's work shows in wall time only).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.bulk_import.rows import Row  # noqa: E402
from app.bulk_import.upsert import STAGE_DDL, STAGE_DROP, BatchOutcome, upsert_batch  # noqa: E402
from app.cli import migrate  # noqa: E402
from app.context import AppContext  # noqa: E402
from app.platform.config import Settings, to_driver_url  # noqa: E402
from app.platform.db import raw_connection  # noqa: E402
from tests.infra import test_servers  # noqa: E402

START = datetime(2027, 6, 1, tzinfo=UTC)
SEED = """
INSERT INTO users (id, username, hashed_password)
VALUES ('00000000-0000-0000-0000-000000000001', 'bench', 'x');
INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts, total_seats,
                     available_seats, price)
SELECT gen_random_uuid(), 'BM-' || i, 'Delhi', 'Mumbai', %(start)s + i * interval '1 minute',
       %(start)s + i * interval '1 minute' + interval '2 hours', 180, 180, 100
  FROM generate_series(0, %(flights)s - 1) i;
CREATE TEMP TABLE pairs AS
SELECT gen_random_uuid() AS order_id, i FROM generate_series(0, %(booked)s / 2 - 1) i;
INSERT INTO orders (id, reference, user_id, status, total_price, contact_email, first_departure_ts)
SELECT order_id, lpad(translate(to_hex(i), '0123456789abcdef', 'ABCDEFGHJKLMNPQR'), 6, 'Z'),
       '00000000-0000-0000-0000-000000000001', 'CONFIRMED', 200, 'a@example.com', %(start)s
  FROM pairs;
INSERT INTO bookings (id, user_id, flight_id, seats, status, order_id, slice_index, leg_index)
SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000001', f.id, 1, 'CONFIRMED', p.order_id,
       0, leg
  FROM pairs p CROSS JOIN generate_series(0, 1) leg
  JOIN flights f ON f.flight_number = 'BM-' || (2 * p.i + leg);
ANALYZE;
"""


def rows(first: int, count: int, later: int) -> list[Row]:
    out = []
    for i in range(first, first + count):
        dep = START + timedelta(minutes=i)
        out.append(
            Row(i + 2, f"BM-{i}", "Delhi", "Mumbai", dep, dep + timedelta(hours=2, minutes=later), 180,
                Decimal("100.00"))
        )  # fmt: skip
    return out


async def run(settings: Settings, args: argparse.Namespace) -> None:
    context = AppContext.create(settings, pool_size=4)
    wired = context.schedule_hook
    timings: dict[tuple[str, str], list[tuple[float, float]]] = {}

    async def progress(_: BatchOutcome) -> None:
        return None

    try:
        async with raw_connection(context.engine) as conn:
            await conn.execute(STAGE_DDL)
            later = {"unbooked": 0, "booked": 0}  # each batch moves its flights' stored arrival
            for round_ in range(args.rounds):
                order = ("on", "off") if round_ % 2 == 0 else ("off", "on")
                for hook in order:
                    for kind, first in (("unbooked", args.booked), ("booked", 0)):
                        later[kind] = 5 - later[kind]
                        batch = rows(first, args.batch, later[kind])
                        context.schedule_hook = wired if hook == "on" else None
                        wall, cpu = time.perf_counter(), time.process_time()
                        outcome = await upsert_batch(conn, context, batch, progress)
                        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                        assert outcome.updated == args.batch and not outcome.errors, outcome.errors[:3]
                        timings.setdefault((kind, hook), []).append((wall, cpu))
            await conn.execute(STAGE_DROP)
    finally:
        context.schedule_hook = wired
        await context.close()
    for kind in ("unbooked", "booked"):
        for hook in ("off", "on"):
            got = timings[(kind, hook)]
            wall = statistics.median(w for w, _ in got)
            cpu = statistics.median(c for _, c in got)
            print(f"{kind:>8} batch of {args.batch:,}, hook {hook:>3}: wall {wall * 1000:7.1f} ms, "
                  f"CPU {cpu * 1000:7.1f} ms (median of {len(got)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flights", type=int, default=100_000)
    parser.add_argument("--booked", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    assert args.booked >= args.batch and args.booked + args.batch <= args.flights
    with test_servers() as servers:
        migrate(servers.database_url)
        with psycopg.connect(to_driver_url(servers.database_url, "postgresql"), autocommit=True) as conn:
            values = {"start": START, "flights": args.flights, "booked": args.booked}
            for statement in filter(str.strip, SEED.split(";")):
                conn.execute(statement, {k: v for k, v in values.items() if f"%({k})s" in statement})
        settings = Settings(
            database_url=servers.database_url,
            redis_url=servers.redis_url,
            redis_key_prefix=servers.redis_prefix,
            jwt_secret="bench-secret-" + "x" * 40,
            demo_data=False,
        )
        asyncio.run(run(settings, args))


if __name__ == "__main__":
    main()
