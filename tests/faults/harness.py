"""Real processes for fault tests: private PostgreSQL and Redis, the API and the worker.

Every server here is a child process this test run owns, so the tests may kill -9, SIGSTOP or
restart it. The machine's shared PostgreSQL (5432) and Redis (6379) are never touched.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from app.cli import migrate
from app.platform.config import to_driver_url
from app.platform.embedded import EmbeddedServers, free_port

ROOT = Path(__file__).resolve().parents[2]
API_PORT = free_port()
JWT_SECRET = "fault-test-secret-" + "z" * 40


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _children(parent: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may hold spaces or parentheses: the fields we want follow the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return found


@dataclass
class PrivatePostgres:
    """One embedded PostgreSQL for the whole fault run; each test gets its own database in it."""

    servers: EmbeddedServers
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        url = self.servers.start_postgres(port=self.port or None)
        self.port = int(url.rsplit(":", 1)[1].split("/")[0])
        self.process = self.servers.processes[-1]

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self) -> str:
        name = f"fault_{secrets.token_hex(4)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = self.database_url(name)
        migrate(url)
        return url

    def stop(self) -> None:
        """Fast shutdown (SIGINT): open connections are cut, new ones refused."""
        assert self.process is not None
        _stop(self.process, signal.SIGINT, timeout=30)
        self.servers.processes.remove(self.process)
        self.process = None

    def _signal_all(self, sig: int) -> None:
        # Backends call setsid(), so the postmaster's process group does not reach them.
        assert self.process is not None
        for pid in (self.process.pid, *_children(self.process.pid)):
            with suppress(ProcessLookupError):
                os.kill(pid, sig)

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: a hung database, connections open but mute."""
        self._signal_all(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal_all(signal.SIGCONT)


@dataclass
class PrivateRedis:
    """A redis-server of our own, killable with -9 and restartable empty on the same port."""

    base_dir: Path
    port: int = 0
    servers: EmbeddedServers | None = None
    process: subprocess.Popen[bytes] | None = None
    generation: int = 0

    def start(self) -> str:
        # A fresh directory each time: a restarted Redis has lost everything.
        self.generation += 1
        self.servers = EmbeddedServers(self.base_dir / f"redis-{self.generation}")
        self.servers.data_dir.mkdir(parents=True, exist_ok=True)
        url = self.servers.start_redis(port=self.port or None)
        self.port = int(url.rsplit(":", 1)[1].split("/")[0])
        self.process = self.servers.processes[-1]
        return url

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None


@dataclass
class AppProcess:
    """`python -m app.cli <command>` as a child process with its own environment and log file."""

    command: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", self.command],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def kill(self) -> None:
        """kill -9: no shutdown hook runs, exactly like a crash or an OOM kill."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Stack:
    """API + worker against a private database and Redis; `base_url` is the API."""

    postgres: PrivatePostgres
    redis: PrivateRedis
    database_url: str
    work_dir: Path
    overrides: dict[str, str] = field(default_factory=dict)
    api: AppProcess | None = None
    worker: AppProcess | None = None
    port: int = API_PORT

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
        env.update(
            {
                "APP_ENV": "test",
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis.url,
                "REDIS_KEY_PREFIX": "fdf",
                "SEAT_UPDATES_CHANNEL": "fdf:seat_updates",
                "JWT_SECRET": JWT_SECRET,
                "DATA_DIR": str(self.work_dir / "data"),
                "DEMO_DATA": "0",
                "PAYMENT_LATENCY_MS": "20",
                "PAYMENT_SUCCESS_RATE": "1.0",
                "LOGIN_RATE_LIMIT": "0",
                "LOGIN_CLIENT_RATE_LIMIT": "0",
                "REGISTER_RATE_LIMIT": "0",
                "FRONTEND_DIST": "/nonexistent",
                "LOG_LEVEL": "INFO",
                "DB_COMMAND_TIMEOUT_SECONDS": "3",
            }
        )
        env.update(self.overrides)
        return env

    def start_api(self, timeout: float = 60) -> None:
        self.api = AppProcess("api", self.env(), self.work_dir / "api.log")
        self.api.start()
        self.wait_until_live(timeout)

    def start_worker(self) -> None:
        self.worker = AppProcess("worker", self.env(), self.work_dir / "worker.log")
        self.worker.start()

    def wait_until_live(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.api is not None and self.api.process is not None
            if self.api.process.poll() is not None:
                raise RuntimeError(f"API exited:\n{self.api.log_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"API did not start:\n{self.api.log_text()[-3000:] if self.api else ''}")

    def sql(self, query: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(to_driver_url(self.database_url, "postgresql"), autocommit=True) as conn:
            cursor = conn.execute(query, params or {})  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def unhandled_errors(self) -> list[str]:
        """Lines where a process logged a 500 (an unhandled error): each one is a bug."""
        lines: list[str] = []
        for process in (self.api, self.worker):
            if process is not None:
                lines += [ln for ln in process.log_text().splitlines() if "unhandled_error" in ln]
        return lines

    def shutdown(self) -> None:
        for process in (self.api, self.worker):
            if process is not None:
                process.stop()


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    base = Path(tempfile.mkdtemp(prefix="flightdesk-faults-pg-"))
    servers = EmbeddedServers(base)
    postgres = PrivatePostgres(servers)
    postgres.start()
    try:
        yield postgres
    finally:
        if postgres.process is not None and postgres.process.poll() is None:
            postgres.thaw()
        servers.stop()


@contextmanager
def stack(postgres: PrivatePostgres, **overrides: str) -> Iterator[Stack]:
    work_dir = Path(tempfile.mkdtemp(prefix="flightdesk-faults-"))
    redis = PrivateRedis(work_dir)
    redis.start()
    running = Stack(postgres, redis, postgres.create_database(), work_dir, overrides)
    try:
        yield running
    finally:
        running.shutdown()
        redis.stop()
