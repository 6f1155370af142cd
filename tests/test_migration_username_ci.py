"""Migration 0005_username_ci on a database that already holds usernames differing only in case
(issue #12, defect 5): every account is kept, later duplicates are renamed, the index is made;
the downgrade drops the index and loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config

from app.platform.config import to_driver_url
from tests.infra import TestServers

ROOT = Path(__file__).resolve().parent.parent
REVISION = "0005_username_ci"


@pytest.fixture
def empty_database(servers: TestServers) -> Iterator[str]:
    """A database of its own beside the run's (which is at head), removed afterwards."""
    name = f"{servers.database_name}_mig"
    admin = to_driver_url(servers.admin_database_url, "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{servers.admin_database_url.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    config.attributes["database_url"] = database_url
    return config


def usernames(database_url: str) -> list[tuple[str, str]]:
    with psycopg.connect(to_driver_url(database_url, "postgresql")) as conn:
        rows = conn.execute("SELECT id::text, username FROM users ORDER BY created_at, id").fetchall()
    return [(row[0], row[1]) for row in rows]


def test_the_migration_keeps_every_case_duplicate_and_renames_the_later_ones(
    empty_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, f"{REVISION}-1")
    long_name = "L" * 32
    accounts = [
        ("Racer3", "2025-01-01"),
        ("racer3", "2025-01-02"),
        ("RACER3", "2025-01-03"),
        ("racer3-2", "2025-01-04"),  # already taken: the renames skip it
        ("alone", "2025-01-05"),
        (long_name, "2025-01-06"),
        (long_name.lower(), "2025-01-07"),
    ]
    with psycopg.connect(to_driver_url(empty_database, "postgresql"), autocommit=True) as conn:
        for name, created in accounts:
            conn.execute(
                "INSERT INTO users (id, username, hashed_password, created_at)"
                " VALUES (gen_random_uuid(), %s, 'x', %s)",
                (name, created),
            )
    before = usernames(empty_database)

    with caplog.at_level("WARNING"):
        command.upgrade(config, REVISION)

    after = usernames(empty_database)
    assert [user_id for user_id, _ in after] == [user_id for user_id, _ in before]  # nobody deleted
    assert [name for _, name in after] == [
        "Racer3",  # the oldest keeps its name
        "racer3-3",
        "RACER3-4",
        "racer3-2",
        "alone",
        long_name,
        "l" * 30 + "-2",  # cut to stay within 32 characters
    ]
    assert "renamed 'racer3-3'" in caplog.text and "renamed 'RACER3-4'" in caplog.text
    with (
        psycopg.connect(to_driver_url(empty_database, "postgresql")) as conn,
        pytest.raises(psycopg.errors.UniqueViolation),
    ):
        conn.execute("UPDATE users SET username = 'RACER3' WHERE username = 'alone'")

    command.downgrade(config, f"{REVISION}-1")
    assert usernames(empty_database) == after  # the downgrade destroys nothing
    with psycopg.connect(to_driver_url(empty_database, "postgresql")) as conn:
        indexes = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'users'").fetchall()
    assert "uq_users_username_lower" not in {row[0] for row in indexes}
