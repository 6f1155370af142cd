"""`python -m app.cli` on the default path: `make run` with embedded servers under DATA_DIR.

The README's admin step (`make-admin`, run beside a running `make run`) is run as a user would,
as processes against a `python -m app.cli run` of a fresh DATA_DIR; the lock protocol that lets a
command find (or start) the servers of its DATA_DIR is tested in-process with Redis alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from app.platform import embedded
from app.platform.embedded import EmbeddedUnavailable, attached, free_port, serving

ROOT = Path(__file__).resolve().parent.parent


def cli_env(data_dir: Path, port: int) -> dict[str, str]:
    """A developer's shell: no servers configured, no XDG_RUNTIME_DIR (as under sudo or in a container)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "TEST_", "XDG_", "JWT_", "PROMETHEUS_"))
    }
    env.update(
        {
            "DATA_DIR": str(data_dir),
            "PORT": str(port),
            "DEMO_DATA": "0",
            "FRONTEND_DIST": "/nonexistent",
            "REGISTER_RATE_LIMIT": "0",
            "LOGIN_RATE_LIMIT": "0",
            "PAYMENT_LATENCY_MS": "0",
        }
    )
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="flightdesk-cli-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`app.cli run` exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"`app.cli run` did not answer /healthz:\n{log.read_text()[-3000:]}")


def is_admin(database_url: str, username: str) -> bool:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT is_admin FROM users WHERE username = %s", (username,)).fetchone()
    assert row is not None
    return bool(row[0])


def one_line_failure(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_make_admin_uses_the_embedded_servers_of_a_running_make_run_and_its_own_when_none_runs(
    data_dir: Path,
) -> None:
    port = free_port()
    env = cli_env(data_dir, port)
    base_url = f"http://127.0.0.1:{port}"
    log = data_dir / "run.log"
    with log.open("wb") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_healthy(base_url, run, log)
        registered = httpx.post(
            f"{base_url}/api/v1/auth/register", json={"username": "alice", "password": "kite-river9"}
        )
        assert registered.status_code == 201, registered.text

        done = cli(env, "make-admin", "alice")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "alice is now an admin"
        assert done.stderr == ""
        database_url = embedded._published_owner(data_dir).database_url  # type: ignore[union-attr]
        assert database_url is not None
        assert is_admin(database_url, "alice")

        unknown = one_line_failure(cli(env, "make-admin", "nobody"))
        assert unknown == "flightdesk make-admin: No user named 'nobody'"
    finally:
        stop(run)
    assert run.returncode == 0, log.read_text()[-3000:]
    assert "Traceback" not in log.read_text()
    assert "RuntimeDirWarning" not in log.read_text()

    # Nothing runs now: the command starts the servers of DATA_DIR for itself, and stops them.
    done = cli(env, "make-admin", "alice", "--revoke")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "alice is no longer an admin"
    assert done.stderr == ""
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert not (data_dir / embedded.STATE_FILE).exists()
    assert one_line_failure(cli(env, "make-admin", "nobody")).endswith("No user named 'nobody'")


def test_a_command_without_a_database_in_data_dir_fails_in_one_line_and_creates_none(data_dir: Path) -> None:
    env = cli_env(data_dir / "elsewhere", free_port())
    for args in (("make-admin", "alice"), ("rebuild-index",), ("migrate",)):
        line = one_line_failure(cli(env, *args))
        assert "no FlightDesk database in DATA_DIR=" in line, line
    assert not (data_dir / "elsewhere").exists()


def test_cli_failures_are_one_line_without_a_traceback(data_dir: Path) -> None:
    env = cli_env(data_dir, free_port())
    unreachable = {**env, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"}
    unreachable["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    assert "cannot reach PostgreSQL" in one_line_failure(cli(unreachable, "make-admin", "alice"))
    assert one_line_failure(cli(env, "make-admin")).startswith("flightdesk make-admin: ")  # no username
    assert "invalid setting PORT" in one_line_failure(cli({**env, "PORT": "eighty"}, "make-admin", "alice"))
    assert "needs DATABASE_URL and REDIS_URL" in one_line_failure(cli(env, "worker"))


def test_the_embedded_postgres_binaries_are_found_without_a_runtime_dir_warning() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    check = (
        "import sys\n"
        "from app.platform.embedded import postgres_bin\n"
        "assert (postgres_bin() / 'postgres').is_file()\n"
        "assert 'embedded_postgres' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", check], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


# --- the lock protocol, in-process, with Redis alone (no PostgreSQL to wait for) -----------------


def test_a_command_waits_for_a_starting_make_run_then_uses_its_servers(data_dir: Path) -> None:
    found: list[str | None] = []
    with serving(data_dir, postgres=False, redis=True) as owner:
        assert owner.redis_url is not None
        command = threading.Thread(target=lambda: found.append(_attached_redis(data_dir)))
        command.start()
        time.sleep(0.5)
        assert found == []  # not yet published: `make run` is still preparing (migrations)
        owner.publish()
        command.join(timeout=30)
        assert found == [owner.redis_url]
        assert redis.Redis.from_url(owner.redis_url).ping()
    assert not (data_dir / embedded.STATE_FILE).exists()


def test_a_command_with_no_make_run_starts_its_own_servers_and_stops_them(data_dir: Path) -> None:
    with attached(data_dir, postgres=False, redis=True) as session:
        assert session.servers is not None and session.redis_url is not None
        assert redis.Redis.from_url(session.redis_url).ping()
        process = session.servers.processes[0]
        # A `make run` starting meanwhile waits for the command instead of sharing its data files.
        with (
            pytest.raises(EmbeddedUnavailable, match="still being started or used"),
            serving(data_dir, postgres=False, redis=True, cancelled=lambda: True),
        ):
            pass
    assert process.poll() is not None


def test_a_second_make_run_on_the_same_data_dir_is_refused(data_dir: Path) -> None:
    with serving(data_dir, postgres=False, redis=True) as owner:
        owner.publish()
        with (
            pytest.raises(EmbeddedUnavailable, match="already running"),
            serving(data_dir, postgres=False, redis=True),
        ):
            pass


def _attached_redis(data_dir: Path) -> str | None:
    with attached(data_dir, postgres=False, redis=True) as session:
        assert session.servers is None  # used, not owned
        return session.redis_url
