"""PgBouncer in transaction mode in front of PostgreSQL: how API replicas share few server
connections (docs/scaling.md). Debian's pgbouncer (installed by `make test-tools`), run for real.

Through transaction pooling, consecutive transactions of one client run on whichever server
connection is free: a prepared statement cached on one is missing (or another client's) on the
next. DATABASE_PGBOUNCER=true turns the caches off (app/platform/db.py).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.context import AppContext
from app.platform.db import create_engine
from app.platform.embedded import free_port
from tests import infra
from tests.conftest import create_flight, make_settings
from tests.test_booking_support import booking_api, held, statuses, users

PGBOUNCER = shutil.which("pgbouncer") or next((p for p in ("/usr/sbin/pgbouncer",) if Path(p).exists()), None)


@pytest.fixture(scope="module")
def pgbouncer_url(servers: infra.TestServers) -> Iterator[str]:
    if PGBOUNCER is None:
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    target = psycopg.conninfo.conninfo_to_dict(servers.admin_database_url)
    workdir = Path(tempfile.mkdtemp(prefix="fd-pgbouncer-"))
    port = free_port()
    (workdir / "users.txt").write_text('"postgres" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
{servers.database_name} = host={target.get("host", "127.0.0.1")} port={target.get("port", 5432)} \
dbname={servers.database_name} user={target.get("user", "postgres")}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir}/users.txt
pool_mode = transaction
; Few server connections for many clients: every transaction may land on another one.
default_pool_size = 3
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
"""
    )
    command = [PGBOUNCER, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root: as nobody, owning its directory
        nobody = pwd.getpwnam("nobody")
        for path in (workdir, *workdir.iterdir()):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        command = [
            "setpriv",
            f"--reuid={nobody.pw_uid}",
            f"--regid={nobody.pw_gid}",
            "--clear-groups",
            *command,
        ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"postgresql://postgres@127.0.0.1:{port}/{servers.database_name}"
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else b""
            with suppress(psycopg.OperationalError):
                with psycopg.connect(url, connect_timeout=1, prepare_threshold=None) as conn:
                    conn.execute("SELECT 1")
                break
            assert time.monotonic() < deadline, "pgbouncer did not start"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


async def test_bookings_through_pgbouncer_in_transaction_mode_sell_exactly_the_seats(
    servers: infra.TestServers,
    pgbouncer_url: str,
    context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    seats = 20
    flight = await create_flight(client, admin_headers, total_seats=seats)
    buyers = await users(client, 6)
    async with booking_api(servers, database_url=pgbouncer_url, database_pgbouncer=True) as api:
        results = await asyncio.gather(*(api.book(buyers[i % len(buyers)], flight["id"]) for i in range(60)))
        codes = Counter(r.status_code for r in results)
        assert codes == {201: seats, 409: 40}, codes
        # Reads, cancellations, listings: every statement of the API through the pooler.
        listed = await api.http.get("/api/v1/bookings", headers=buyers[0])
        assert listed.status_code == 200, listed.text
        k = next(i for i, r in enumerate(results) if r.status_code == 201)
        cancelled = await api.http.delete(
            f"/api/v1/bookings/{results[k].json()['id']}", headers=buyers[k % len(buyers)]
        )
        assert cancelled.status_code == 200, cancelled.text
    fid = uuid.UUID(flight["id"])
    assert await statuses(context, fid) == {"CONFIRMED": seats - 1, "CANCELLED": 1}
    assert await held(context, fid) == seats - 1


async def _storm(engine: AsyncEngine) -> list[str]:
    """Six connections, each running parametrised statements in its own transactions."""
    errors: list[str] = []

    async def work(i: int) -> None:
        async with engine.connect() as connection:
            for k in range(40):
                try:
                    await connection.execute(text(f"SELECT CAST(:v AS int) + {k % 5}"), {"v": i})
                    await connection.commit()
                except DBAPIError as exc:
                    errors.append(str(exc.orig))
                    await connection.rollback()

    await asyncio.gather(*(work(i) for i in range(6)))
    return errors


async def test_only_with_database_pgbouncer_do_statements_survive_transaction_pooling(
    servers: infra.TestServers, pgbouncer_url: str
) -> None:
    for pgbouncer in (False, True):
        engine = create_engine(
            make_settings(servers, database_url=pgbouncer_url, database_pgbouncer=pgbouncer), pool_size=6
        )
        try:
            errors = await _storm(engine)
        finally:
            await engine.dispose()
        if pgbouncer:
            assert errors == []
        else:  # asyncpg's and SQLAlchemy's statement caches meet other clients' server connections
            assert any("prepared statement" in e for e in errors), errors[:3]
