"""Migration 0006_airport_spellings on a database whose flights and airports name one place in
several spellings (issue #14): each place ends with one spelling, no flight is lost, the newest
timezone of merged airports rows is kept."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from alembic import command

from app.platform.config import to_driver_url
from tests.infra import TestServers
from tests.test_migration_username_ci import alembic_config

REVISION = "0006_airport_spellings"


@pytest.fixture
def empty_database(servers: TestServers) -> Iterator[str]:
    name = f"{servers.database_name}_mig6"
    admin = to_driver_url(servers.admin_database_url, "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{servers.admin_database_url.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


FLIGHTS = [
    ("F1", "Mumbai", "Delhi"),
    ("F2", "mumbai", "DEL"),
    ("F3", "BOM", "new delhi"),
    ("F4", "Foo Town", "jfk"),
    ("F5", "foo town", "JFK"),
    ("F6", "foo  town", "Delhi"),
    ("F7", "FOO TOWN", "Mumbai"),
    ("F8", "Delhi", "DEL"),  # both ends one place: kept as written
    ("F9", "Foo Town", "LHR"),  # the spelling most flights use wins
]


def test_the_migration_merges_every_spelling_of_a_place_into_one(
    empty_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, f"{REVISION}-1")
    url = to_driver_url(empty_database, "postgresql")
    with psycopg.connect(url) as conn:
        for n, (number, source, destination) in enumerate(FLIGHTS):
            conn.execute(
                "INSERT INTO flights (id, flight_number, source, destination, departure_ts, arrival_ts,"
                " total_seats, available_seats, price) VALUES (gen_random_uuid(), %s, %s, %s,"
                " '2027-01-01T00:00Z'::timestamptz + %s * interval '1 hour',"
                " '2027-01-01T02:00Z'::timestamptz + %s * interval '1 hour', 10, 10, 100)",
                (number, source, destination, n, n),
            )
        conn.execute(
            "INSERT INTO airports (name, timezone, updated_at) VALUES"
            " ('foo town', 'Asia/Dubai', '2026-01-01'), ('Foo Town', 'Asia/Muscat', '2026-02-01'),"
            " ('bom', 'Asia/Kolkata', '2026-01-01')"
        )
    command.upgrade(config, REVISION)
    with psycopg.connect(url) as conn:
        flights = dict(
            conn.execute("SELECT flight_number, source || ' > ' || destination FROM flights").fetchall()
        )
        airports = dict(conn.execute("SELECT name, timezone FROM airports").fetchall())
    assert flights == {
        "F1": "Mumbai > Delhi",
        "F2": "Mumbai > Delhi",
        "F3": "Mumbai > Delhi",
        "F4": "Foo Town > JFK",
        "F5": "Foo Town > JFK",
        "F6": "Foo Town > Delhi",
        "F7": "Foo Town > Mumbai",
        "F8": "Delhi > DEL",
        "F9": "Foo Town > LHR",
    }
    # The seed's Bengaluru row joins Bangalore's: no airport is listed twice.
    assert "Bengaluru" not in airports and airports["Bangalore"] == "Asia/Kolkata"
    assert airports["Foo Town"] == "Asia/Muscat" and "foo town" not in airports and "bom" not in airports
    assert "both ends are one place" in caplog.text
    command.downgrade(config, f"{REVISION}-1")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM flights").fetchone() == (len(FLIGHTS),)
