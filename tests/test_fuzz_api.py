"""Schemathesis fuzzing of every operation in the OpenAPI schema, against a real API process.

Contract (General): "A 5xx is always a bug: no input may produce one." Each operation gets valid
and invalid inputs (bounded: FUZZ_EXAMPLES per operation and mode), as a user and as an admin, and
every answer must be a non-5xx whose body matches the schema for its status.

Documented-status checking is left out on purpose: FastAPI documents only the success and 422
answers, so the contract's 401/403/404/409 would all count as undocumented.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)
from schemathesis.generation.modes import GenerationMode

from app.cli import migrate
from app.main import create_app
from app.platform.config import Settings, to_driver_url
from app.platform.embedded import free_port
from tests.conftest import flight_body
from tests.infra import TestServers

ROOT = Path(__file__).resolve().parent.parent
PORT = free_port()
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]

# The schema as the app publishes it; building the app does not touch PostgreSQL or Redis.
schema = schemathesis.openapi.from_dict(
    create_app(
        Settings(
            database_url="postgresql://unused@127.0.0.1:1/unused",
            redis_url="redis://127.0.0.1:1/0",
            jwt_secret="schema-only-" + "x" * 40,
            frontend_dist=Path("/nonexistent"),
        )
    ).openapi()
)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=FUZZ_EXAMPLES
)
user_operations = schema.exclude(path_regex="^/admin")


@dataclass
class FuzzTarget:
    base_url: str
    user: dict[str, str]
    admin: dict[str, str]
    log: Path


def _register(http: httpx.Client, name: str) -> dict[str, str]:
    assert (
        http.post("/api/v1/auth/register", json={"username": name, "password": "kite-river9"}).status_code
        == 201
    )
    token = http.post("/api/v1/auth/token", data={"username": name, "password": "kite-river9"}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


@pytest.fixture(scope="module")
def target(servers: TestServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """The API as `python -m app.cli api` runs it, on a database of its own."""
    name = f"fd_fuzz_{uuid.uuid4().hex[:8]}"
    admin_url = to_driver_url(servers.admin_database_url, "postgresql")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = servers.admin_database_url.rsplit("/", 1)[0] + f"/{name}"
    migrate(database_url)
    log = tmp_path_factory.mktemp("fuzz") / "api.log"
    env = {
        **os.environ,
        "APP_ENV": "test",
        "HOST": "127.0.0.1",
        "PORT": str(PORT),
        "DATABASE_URL": database_url,
        "REDIS_URL": servers.redis_url,
        "REDIS_KEY_PREFIX": f"{servers.redis_prefix}_fuzz",
        "SEAT_UPDATES_CHANNEL": f"{servers.redis_prefix}_fuzz:seat_updates",
        "JWT_SECRET": "fuzz-secret-" + "f" * 40,
        "DEMO_DATA": "0",
        "PAYMENT_LATENCY_MS": "0",
        "LOGIN_RATE_LIMIT": "0",
        "LOGIN_CLIENT_RATE_LIMIT": "0",
        "REGISTER_RATE_LIMIT": "0",
        "FRONTEND_DIST": "/nonexistent",
        "MAX_UPLOAD_MB": "1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "api"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{PORT}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        with httpx.Client(base_url=base_url, timeout=30) as http:
            user = _register(http, "fuzz_user")
            admin = _register(http, "fuzz_admin")
            with psycopg.connect(to_driver_url(database_url, "postgresql"), autocommit=True) as conn:
                conn.execute("UPDATE users SET is_admin = true WHERE username = 'fuzz_admin'")
            # Something real to find, book and change.
            for i in range(3):
                body = flight_body(flight_number=f"FZ-{i}", departure=None, total_seats=500)
                assert http.post("/admin/flights", json=body, headers=admin).status_code == 201
        yield FuzzTarget(base_url, user, admin, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


FUZZ_SETTINGS = settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@user_operations.parametrize()
@FUZZ_SETTINGS
def test_no_input_from_a_user_makes_a_5xx_or_breaks_the_schema(
    case: schemathesis.Case, target: FuzzTarget
) -> None:
    case.call_and_validate(base_url=target.base_url, headers=target.user, checks=CHECKS, timeout=30)


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_from_an_admin_makes_a_5xx_or_breaks_the_schema(
    case: schemathesis.Case, target: FuzzTarget
) -> None:
    case.call_and_validate(base_url=target.base_url, headers=target.admin, checks=CHECKS, timeout=30)


def test_the_fuzzed_server_logged_no_unhandled_error(target: FuzzTarget) -> None:
    unhandled = [
        line for line in target.log.read_text(errors="replace").splitlines() if "unhandled_error" in line
    ]
    assert unhandled == []
