"""Demo data: a realistic schedule loaded once into an empty database, through the bulk import."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

from sqlalchemy import func, select

from app.bulk_import.demo_data import CITIES, DEMO_FLIGHTS, IST, distance_km, load_if_empty, schedule
from app.context import AppContext
from app.models import BulkJob, Flight


def test_schedule_is_deterministic_realistic_and_unique() -> None:
    rows = schedule(date(2027, 1, 1), 30, 1000)
    assert rows == schedule(date(2027, 1, 1), 30, 1000)
    assert len({(r["flight_number"], r["departure_ts"]) for r in rows}) == 1000
    assert {r["source"] for r in rows} == set(CITIES)
    assert {r["flight_number"][:2] for r in rows} == {"6E", "AI", "UK", "SG", "QP"}
    for r in rows:
        departure, arrival = (
            datetime.fromisoformat(r["departure_ts"]),
            datetime.fromisoformat(r["arrival_ts"]),
        )
        assert departure.astimezone(IST).date() >= date(2027, 1, 1)
        minutes = (arrival - departure).total_seconds() / 60
        # Longer routes take longer: at least the cruise time, at most it plus an hour.
        km = distance_km(r["source"], r["destination"])
        assert km / 780 * 60 <= minutes <= km / 780 * 60 + 60
        assert float(r["price"]) > 0


def test_flights_csv_at_the_repo_root_is_the_generated_file() -> None:
    from pathlib import Path

    from app.bulk_import.demo_data import to_csv

    root = Path(__file__).resolve().parent.parent
    assert (root / "flights.csv").read_text() == to_csv(schedule(date(2027, 1, 1), 30, 1000))


async def test_demo_data_loads_once_even_when_processes_start_together(context: AppContext) -> None:
    results = await asyncio.gather(load_if_empty(context), load_if_empty(context))
    assert sorted(results) == [False, True]
    async with context.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Flight)) == DEMO_FLIGHTS
        job = (await session.scalars(select(BulkJob))).one()
        first = await session.scalar(select(func.min(Flight.departure_ts)))
    assert job.status == "COMPLETED" and job.inserted == DEMO_FLIGHTS
    assert first is not None and first.astimezone(IST).date() >= datetime.now(IST).date()
    assert await load_if_empty(context) is False
