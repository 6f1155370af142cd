"""Migrations run for real on a database of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic import command
from alembic.config import Config

from app.cli import ROOT, migrate
from app.platform.config import to_driver_url
from tests.infra import TestServers


@pytest.fixture
def database(servers: TestServers) -> Iterator[str]:
    name = f"fd_migrations_{uuid.uuid4().hex[:8]}"
    admin_url = to_driver_url(servers.admin_database_url, "postgresql")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield servers.admin_database_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_downgrading_the_job_queue_keeps_users_and_flights(database: str) -> None:
    migrate(database)
    url = to_driver_url(database, "postgresql")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, username, hashed_password, is_admin, created_at)"
            " VALUES (gen_random_uuid(), 'alice', 'x', false, now())"
        )
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    config.attributes["database_url"] = database
    command.downgrade(config, "0001")
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT username FROM users").fetchall() == [("alice",)]
        assert conn.execute("SELECT to_regclass('flights') IS NOT NULL").fetchone() == (True,)
        left = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'procrastinate%'"
            " UNION ALL SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%'"
        ).fetchall()
        assert left == [(0,), (0,)]
    migrate(database)  # and up again
