"""A realistic schedule among the seed's ten Indian cities, and the demo data loaded from it.

``schedule`` is deterministic for a seed: scripts/generate_flights.py writes flights.csv from it
(fixed start date), and with DEMO_DATA=1 the API loads it from today onward into an empty database,
through the bulk import itself.
"""

from __future__ import annotations

import csv
import io
import math
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import text

from app.bulk_import.intake import store_csv
from app.bulk_import.runner import run_job

if TYPE_CHECKING:
    from app.context import AppContext


log = structlog.get_logger()

COLUMNS = ("flight_number", "source", "destination", "departure_ts", "arrival_ts", "total_seats", "price")
IST = ZoneInfo("Asia/Kolkata")
# name: (latitude, longitude)
CITIES: dict[str, tuple[float, float]] = {
    "Ahmedabad": (23.0772, 72.6347),
    "Bangalore": (13.1986, 77.7066),
    "Chennai": (12.9941, 80.1709),
    "Delhi": (28.5562, 77.1000),
    "Hyderabad": (17.2403, 78.4294),
    "Jaipur": (26.8242, 75.8122),
    "Kolkata": (22.6547, 88.4467),
    "Lucknow": (26.7606, 80.8893),
    "Mumbai": (19.0896, 72.8656),
    "Pune": (18.5822, 73.9197),
}
# Carrier: (flight-number prefix, seats of its usual aircraft)
CARRIERS = (("6E", (186, 232)), ("AI", (162, 256)), ("UK", (158, 188)), ("SG", (189, 212)), ("QP", (186,)))
DEMO_LOCK = 0x0DE30DA7A
DEMO_DAYS = 30
DEMO_FLIGHTS = 1000


def distance_km(a: str, b: str) -> float:
    (lat1, lon1), (lat2, lon2) = CITIES[a], CITIES[b]
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def schedule(start: date, days: int, count: int, seed: int = 2027) -> list[dict[str, str]]:
    """``count`` flights departing over ``days`` days from ``start`` (IST), as CSV rows."""
    rng = random.Random(seed)
    routes = [(a, b) for a in CITIES for b in CITIES if a != b]
    rows: list[dict[str, str]] = []
    used: set[tuple[str, datetime]] = set()
    while len(rows) < count:
        source, destination = rng.choice(routes)
        prefix, seat_options = rng.choice(CARRIERS)
        km = distance_km(source, destination)
        # Taxi, climb and descent take about 40 minutes; cruise at ~780 km/h; rounded to 5 minutes.
        minutes = int(round((40 + km / 780 * 60) / 5) * 5)
        day = start + timedelta(days=rng.randrange(days))
        local = datetime.combine(day, time(rng.randrange(5, 23), rng.choice((0, 10, 15, 20, 30, 40, 45, 50))))
        departure = local.replace(tzinfo=IST).astimezone(UTC)
        number = f"{prefix}-{rng.randrange(100, 9999)}"
        if (number, departure) in used:
            continue
        used.add((number, departure))
        # Fares grow with distance; early mornings and late evenings sell cheaper than the peaks.
        peak = 1.25 if local.hour in (7, 8, 9, 17, 18, 19, 20) else (0.85 if local.hour < 7 else 1.0)
        price = (1500 + km * 4.2) * peak * rng.uniform(0.85, 1.3)
        rows.append(
            {
                "flight_number": number,
                "source": source,
                "destination": destination,
                "departure_ts": departure.isoformat(),
                "arrival_ts": (departure + timedelta(minutes=minutes)).isoformat(),
                "total_seats": str(rng.choice(seat_options)),
                "price": f"{price:.2f}",
            }
        )
    rows.sort(key=lambda r: (r["departure_ts"], r["flight_number"]))
    return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


async def load_if_empty(context: AppContext) -> bool:
    """Load the demo schedule (today onward) into an empty flights table; True if this process did.

    A transaction-level advisory lock makes concurrent starters wait, then find the table filled.
    """

    async with context.engine.begin() as connection:
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEMO_LOCK})
        if await connection.scalar(text("SELECT EXISTS (SELECT 1 FROM flights)")):
            return False
        today = datetime.now(IST).date()
        data = to_csv(schedule(today, DEMO_DAYS, DEMO_FLIGHTS, seed=today.toordinal())).encode()
        job_id = await store_csv(context, data, filename="demo-schedule.csv")
        await run_job(context, job_id)
    log.info("demo_data_loaded", flights=DEMO_FLIGHTS, job_id=str(job_id))
    return True
