"""A realistic schedule generator: hubs and spokes over real Indian airports (airportsdata).

Shared: the search and bulk benchmarks import it. ``generate(...)`` returns plain rows (one dict per
flight with the CSV's columns); ``write_csv`` and ``copy_rows`` put them in a file or in PostgreSQL.

Shape (defaults: 100 airports, ~3,000 flights a day): the 6 busiest cities are hubs linked to each
other many times a day; every other airport (a spoke) has flights to a few hubs and, rarely, to a
nearby spoke. Departures are spread over 05:00-23:30 local time with morning and evening peaks;
durations and prices follow the great-circle distance, prices with fare noise.
"""

from __future__ import annotations

import csv
import io
import math
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

COLUMNS = ("flight_number", "source", "destination", "departure_ts", "arrival_ts", "total_seats", "price")
HUB_CITIES = ("Delhi", "Mumbai", "Bangalore", "Hyderabad", "Chennai", "Kolkata")
MAIN_CODES = frozenset({"DEL", "BOM", "BLR", "HYD", "MAA", "CCU"})
CARRIERS = ("AI", "6E", "UK", "SG", "QP", "IX")


@dataclass(frozen=True)
class Airport:
    name: str
    lat: float
    lon: float
    tz: str


def airports(count: int = 100) -> list[Airport]:
    """The hubs first, then other Indian airports with distinct city names, deterministic order."""
    import airportsdata

    table = airportsdata.load("IATA")
    by_city: dict[str, Airport] = {}
    # Main airports first, so a city with two airports gets its main one (BOM, DEL before others).
    for code in sorted(table, key=lambda c: (c not in MAIN_CODES, c)):
        entry = table[code]
        if entry["country"] != "IN" or not entry["city"]:
            continue
        city = {"New Delhi": "Delhi", "Bengaluru": "Bangalore"}.get(entry["city"], entry["city"])
        if city in by_city or not (2 <= len(city) <= 64):
            continue
        by_city[city] = Airport(city, float(entry["lat"]), float(entry["lon"]), entry["tz"] or "Asia/Kolkata")
    hubs = [by_city[c] for c in HUB_CITIES if c in by_city]
    others = [a for name, a in sorted(by_city.items()) if name not in HUB_CITIES]
    return (hubs + others)[:count]


def distance_km(a: Airport, b: Airport) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(h))


def _routes(ports: Sequence[Airport], rng: random.Random, hubs: int) -> list[tuple[Airport, Airport, float]]:
    """Directed routes with a relative daily frequency weight."""
    routes: list[tuple[Airport, Airport, float]] = []
    hub_list, spokes = ports[:hubs], ports[hubs:]
    for a in hub_list:
        for b in hub_list:
            if a is not b:
                routes.append((a, b, 12.0))
    for s in spokes:
        nearest = sorted(hub_list, key=lambda h: distance_km(s, h))
        linked = nearest[:2] + rng.sample(nearest[2:], k=min(len(nearest) - 2, rng.randint(0, 2)))
        for h in linked:
            weight = rng.uniform(1.0, 3.0)
            routes.append((s, h, weight))
            routes.append((h, s, weight))
        if rng.random() < 0.3 and len(spokes) > 1:
            other = min((o for o in spokes if o is not s), key=lambda o: distance_km(s, o))
            routes.append((s, other, 0.7))
            routes.append((other, s, 0.7))
    return routes


def _departure_minute(rng: random.Random) -> int:
    # Morning and evening banks, as at real hubs.
    centre = rng.choice((7 * 60 + 30, 10 * 60, 13 * 60, 17 * 60, 19 * 60 + 30, 21 * 60))
    minute = int(rng.gauss(centre, 70))
    return max(5 * 60, min(23 * 60 + 30, minute)) // 5 * 5


def generate(
    *,
    airport_count: int = 100,
    flights_per_day: int = 3000,
    days: int = 90,
    start: date | None = None,
    hubs: int = 6,
    seed: int = 7,
) -> list[dict[str, Any]]:
    """Rows with the CSV's columns (timestamps as aware UTC datetimes, price as a 2-decimal float)."""
    rng = random.Random(seed)
    ports = airports(airport_count)
    routes = _routes(ports, rng, min(hubs, len(ports)))
    total_weight = sum(w for _, _, w in routes)
    start = start or (datetime.now(UTC) + timedelta(days=1)).date()
    numbers: dict[tuple[str, str], str] = {}
    rows: list[dict[str, Any]] = []
    for day_offset in range(days):
        day = start + timedelta(days=day_offset)
        for source, destination, weight in routes:
            expected = flights_per_day * weight / total_weight
            count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            km = distance_km(source, destination)
            for k in range(count):
                minute = _departure_minute(rng)
                local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=ZoneInfo(source.tz))
                departure = local.astimezone(UTC)
                duration = int(35 + km / 12.5) // 5 * 5
                base = 1800 + km * 4.2
                price = round(base * rng.uniform(0.6, 1.8), 2)
                key = (source.name, destination.name)
                prefix = numbers.setdefault(key, f"{rng.choice(CARRIERS)}-{len(numbers) * 10 % 9000 + 100}")
                rows.append(
                    {
                        "flight_number": f"{prefix}{k}",
                        "source": source.name,
                        "destination": destination.name,
                        "departure_ts": departure,
                        "arrival_ts": departure + timedelta(minutes=duration),
                        "total_seats": rng.choice((120, 150, 180, 186, 220)),
                        "price": price,
                    }
                )
    return _unique(rows)


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """(flight_number, departure_ts) is unique in the schema: drop the rare generated clash."""
    seen: set[tuple[str, datetime]] = set()
    unique = []
    for row in rows:
        key = (row["flight_number"], row["departure_ts"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def seed_like(*, start: date | None = None, seed: int = 11) -> list[dict[str, Any]]:
    """About 1,000 flights between 15 Indian cities over 30 days, like the seed's flights.csv."""
    return generate(airport_count=15, flights_per_day=34, days=30, start=start, hubs=4, seed=seed)


def write_csv(rows: Iterable[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(_csv_values(row))


def _csv_values(row: dict[str, Any]) -> list[str]:
    return [
        row["flight_number"],
        row["source"],
        row["destination"],
        row["departure_ts"].isoformat(),
        row["arrival_ts"].isoformat(),
        str(row["total_seats"]),
        f"{row['price']:.2f}",
    ]


def copy_rows(psycopg_url: str, rows: Sequence[dict[str, Any]]) -> None:
    """Load rows into ``flights`` with COPY (fast; no HTTP, no per-row INSERT)."""
    import psycopg

    buffer = io.StringIO()
    for row in rows:
        values = [str(uuid.uuid4()), *_csv_values(row), str(row["total_seats"])]
        buffer.write("\t".join(values) + "\n")
    columns = "id, flight_number, source, destination, departure_ts, arrival_ts, total_seats, price, "
    columns += "available_seats"
    with psycopg.connect(psycopg_url) as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY flights ({columns}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        conn.commit()


def timezones(rows: Iterable[dict[str, Any]], count: int = 100) -> dict[str, str]:
    names = {r["source"] for r in rows} | {r["destination"] for r in rows}
    return {a.name: a.tz for a in airports(max(count, 200)) if a.name in names}


if __name__ == "__main__":
    import sys

    generated = generate(days=int(sys.argv[1]) if len(sys.argv) > 1 else 90)
    print(f"{len(generated)} flights")
