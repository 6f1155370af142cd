"""What the flight-time limits cost (issue 12, defect 1), as ratios within one run.

    .venv/bin/python -m bench.flight_times [--days 90] [--flights-per-day 3000] [--rounds 7]

1. The full rebuild's read of flights (data.fetch, ``departure_ts >= cutoff``), which carries the
   limits as an SQL condition and reads a row outside them without its times, against the same
   SELECT without the condition: alternated ``--rounds`` times on the national-scale network
   (own database, loaded with COPY), medians compared.
2. The CSV fast path (rows.to_row) per row, and the limits check alone (flight_times.allowed) on
   the same rows: the check's share of the fast path's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from types import SimpleNamespace
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import create_async_engine

from app.bulk_import.rows import to_row
from app.cli import migrate
from app.flights.events import FlightSnapshot
from app.models import flight_times
from app.platform.config import to_driver_url
from app.search import build, data
from bench import datagen
from bench.search import ADMIN_URL

_PLAIN = (
    "SELECT id, flight_number, source, destination, departure_ts, arrival_ts, total_seats, price FROM flights"
)


async def read_times(database_url: str, rounds: int) -> tuple[list[float], list[float], int]:
    engine = create_async_engine(to_driver_url(database_url, "postgresql+asyncpg"), pool_size=1)
    context: Any = SimpleNamespace(engine=engine)
    cutoff = build.cutoff()
    with_limits: list[float] = []
    plain: list[float] = []
    count = 0
    try:
        await data.fetch(context, "departure_ts >= $1", cutoff)  # warm the cache and the pool
        for _ in range(rounds):
            started = time.perf_counter()
            count = len(await data.fetch(context, "departure_ts >= $1", cutoff))
            with_limits.append(time.perf_counter() - started)
            started = time.perf_counter()
            async with engine.connect() as connection:
                raw = await connection.get_raw_connection()
                driver: Any = raw.driver_connection
                records = await driver.fetch(f"{_PLAIN} WHERE departure_ts >= $1", cutoff)
            [FlightSnapshot._make(record) for record in records]
            plain.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return with_limits, plain, count


def fast_path_times(rows: list[dict[str, Any]], rounds: int) -> tuple[float, float]:
    fields = [datagen._csv_values(r) for r in rows]
    positions = list(range(7))
    parsed = [(r["departure_ts"], r["arrival_ts"]) for r in rows]
    whole, check = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for line, values in enumerate(fields):
            to_row(line, values, positions)
        whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        for departure, arrival in parsed:
            flight_times.allowed(departure, arrival)
        check.append(time.perf_counter() - started)
    return statistics.median(whole) / len(rows), statistics.median(check) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--flights-per-day", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rows = datagen.generate(flights_per_day=args.flights_per_day, days=args.days)
    name = f"fd_bench_{secrets.token_hex(4)}"
    database_url = f"{ADMIN_URL.rpartition('/')[0]}/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        migrate(database_url)
        datagen.copy_rows(database_url, rows)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("ANALYZE flights")
        with_limits, plain, count = asyncio.run(read_times(database_url, args.rounds))
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    limited, bare = statistics.median(with_limits), statistics.median(plain)
    print(
        f"rebuild read of {count} flights: {limited * 1000:.0f} ms with the limits, {bare * 1000:.0f} ms"
        f" without (medians of {args.rounds}, alternated): ratio {limited / bare:.2f}"
    )
    print(
        "  rounds (ms, with / without): "
        + ", ".join(f"{a * 1000:.0f}/{b * 1000:.0f}" for a, b in zip(with_limits, plain, strict=True))
    )
    per_row, per_check = fast_path_times(rows[:100_000], args.rounds)
    print(
        f"CSV fast path: {per_row * 1e6:.2f} us per row, of which the limits check {per_check * 1e6:.2f} us"
        f" ({per_check / per_row:.0%})"
    )


if __name__ == "__main__":
    main()
