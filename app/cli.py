"""flightdesk command line: ``python -m app.cli <command>``.

run           everything `make run` starts: embedded servers if needed, migrations, API, worker
api           the API server only (production: one process per container)
worker        the background worker only
migrate       apply Alembic migrations
make-admin    grant admin rights to a user
rebuild-index rebuild the search index from PostgreSQL

Without DATABASE_URL / REDIS_URL, migrate, make-admin and rebuild-index use the embedded servers
of DATA_DIR: those of the `make run` running there, else their own for the command's duration.
A failure is one line on stderr and exit code 1 (--traceback shows the whole traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn

import pydantic
import redis.exceptions

from app.platform.config import Settings, get_settings
from app.platform.embedded import attached, serving
from app.platform.errors import DomainError

ROOT = Path(__file__).resolve().parent.parent


def migrate(database_url: str | None = None) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    if database_url:
        config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


def api_command(settings: Settings) -> list[str]:
    # granian over uvicorn: bench/server.py measured ~1.8x the req/s on /healthz (server overhead);
    # on /api/v1/airports (app-bound) the two were within the noise of a shared machine.
    return [
        sys.executable,
        "-m",
        "granian",
        "app.asgi:create",
        "--factory",
        "--interface",
        "asgi",
        "--host",
        settings.host,
        "--port",
        str(settings.port),
        "--workers",
        str(settings.web_concurrency),
        "--loop",
        "uvloop",
        "--no-access-log",
        "--respawn-failed-workers",
        "--workers-kill-timeout",
        "10",
    ]


def run(settings: Settings) -> int:
    """Start the whole system in the foreground; Ctrl-C or SIGTERM stops everything it started."""
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    env = dict(os.environ)
    started = time.monotonic()
    with serving(
        settings.data_dir,
        postgres=not settings.database_url,
        redis=not settings.redis_url,
        cancelled=lambda: stopping,
    ) as embedded:
        if embedded.database_url:
            print(f"embedded PostgreSQL: {embedded.database_url} (data in {settings.data_dir}/postgres)")
        if embedded.redis_url:
            print(f"embedded Redis: {embedded.redis_url} (data in {settings.data_dir}/redis)")
        env["DATABASE_URL"] = embedded.database_url or settings.require_database_url()
        env["REDIS_URL"] = embedded.redis_url or settings.require_redis_url()
        migrate(env["DATABASE_URL"])
        embedded.publish()  # from now on `python -m app.cli <command>` uses these servers
        child_settings = Settings(database_url=env["DATABASE_URL"], redis_url=env["REDIS_URL"])
        env["JWT_SECRET"] = child_settings.resolved_jwt_secret()
        worker = [sys.executable, "-m", "app.cli", "worker"]
        try:
            for command in (*[worker] * settings.worker_processes, api_command(settings)):
                if stopping:
                    break
                children.append(subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True))
            print(
                f"FlightDesk starting at http://{settings.host}:{settings.port} "
                f"(set-up took {time.monotonic() - started:.1f}s); Ctrl-C stops it"
            )
            while not stopping:
                if any(child.poll() is not None for child in children):
                    print("a FlightDesk process exited; stopping everything", file=sys.stderr)
                    return_code = 1
                    break
                time.sleep(0.2)
            else:
                return_code = 0
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()
    return return_code


@contextmanager
def servers_for(settings: Settings, *, redis: bool = True) -> Iterator[Settings]:
    """``settings`` with the servers a one-off command uses: the configured ones, else the
    embedded ones of DATA_DIR (the running `make run`'s, or started for the command)."""
    with attached(
        settings.data_dir, postgres=not settings.database_url, redis=redis and not settings.redis_url
    ) as embedded:
        found = {"database_url": embedded.database_url, "redis_url": embedded.redis_url}
        yield settings.model_copy(update={name: url for name, url in found.items() if url})


def serve_api(settings: Settings) -> int:
    from app.platform.observability import prepare_metrics_dir

    _require_configured_servers(settings, "api")
    prepare_metrics_dir(settings)  # before the server forks its workers
    # Resolved once here, so worker processes never race to generate different development secrets.
    os.environ["JWT_SECRET"] = settings.resolved_jwt_secret()
    os.execv(sys.executable, api_command(settings))  # noqa: S606 - replaces this process by design


def run_worker(settings: Settings) -> int:
    from app.workers.main import main as worker_main

    _require_configured_servers(settings, "worker")
    asyncio.run(worker_main(settings))
    return 0


def _require_configured_servers(settings: Settings, command: str) -> None:
    # A long-running process must not own embedded servers (`make run` does, and starts these).
    if not settings.database_url or not settings.redis_url:
        raise CommandFailed(
            f"`{command}` needs DATABASE_URL and REDIS_URL; `make run` (python -m app.cli run) "
            "starts embedded servers and this process with them"
        )


def make_admin(settings: Settings, username: str, revoke: bool) -> int:
    from app.accounts.users import set_admin
    from app.context import AppContext

    async def go() -> int:
        context = AppContext.create(settings, pool_size=1)
        try:
            await set_admin(context, username, not revoke)
        finally:
            await context.close()
        print(f"{username} is {'no longer' if revoke else 'now'} an admin")
        return 0

    return asyncio.run(go())


def rebuild_index(settings: Settings) -> int:
    from app.context import AppContext
    from app.search import index

    async def go() -> int:
        context = AppContext.create(settings, pool_size=2)
        try:
            started = time.monotonic()
            await index.rebuild(context)
            print(f"search index rebuilt in {time.monotonic() - started:.1f}s")
        finally:
            await context.close()
        return 0

    return asyncio.run(go())


class CommandFailed(Exception):
    """A failure whose message is the whole story for the user."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's usage block and message: one line instead, with where to find the usage.
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(
        prog="flightdesk", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--traceback", action="store_true", help="show the whole traceback of a failure")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the whole system")
    commands.add_parser("api", help="start the API server")
    commands.add_parser("worker", help="start the background worker")
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("rebuild-index", help="rebuild the search index from PostgreSQL")
    admin = commands.add_parser("make-admin", help="grant admin rights to a user")
    admin.add_argument("username")
    admin.add_argument("--revoke", action="store_true", help="take admin rights away instead")
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        print(f"flightdesk {args.command}: {describe(exc)}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.command == "run":
        return run(settings)
    if args.command == "api":
        return serve_api(settings)
    if args.command == "worker":
        return run_worker(settings)
    if args.command == "migrate":
        with servers_for(settings, redis=False) as configured:
            migrate(configured.require_database_url())
        return 0
    if args.command == "rebuild-index":
        with servers_for(settings) as configured:
            return rebuild_index(configured)
    if args.command == "make-admin":
        with servers_for(settings) as configured:
            return make_admin(configured, args.username, args.revoke)
    raise CommandFailed(f"unknown command {args.command}")


def describe(exc: BaseException) -> str:
    """One line saying what went wrong, for a person (no traceback, no SQL, no library internals)."""
    if isinstance(exc, DomainError):
        return str(exc.detail)
    if isinstance(exc, pydantic.ValidationError):
        error = exc.errors()[0]
        name = "_".join(str(part) for part in error["loc"]).upper()
        return f"invalid setting {name}: {error['msg']}" if name else f"invalid settings: {error['msg']}"
    cause = exc
    while cause.__cause__ is not None:  # SQLAlchemy's and redis-py's wrappers: the driver's error
        cause = cause.__cause__
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    text = lines[0] if lines else type(cause).__name__
    if isinstance(exc, CommandFailed | RuntimeError):
        return text
    if isinstance(cause, OSError | redis.exceptions.ConnectionError):  # asyncpg's is a bare OSError
        return f"cannot reach {_server_of(cause)}: {text}"
    if type(cause).__name__ == "UndefinedTableError":
        return f"{text} (the database lacks FlightDesk's tables: python -m app.cli migrate)"
    return f"{type(cause).__name__}: {text}"


def _server_of(exc: BaseException) -> str:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        for package, server in (("asyncpg", "PostgreSQL"), ("psycopg", "PostgreSQL"), ("redis", "Redis")):
            if f"{os.sep}{package}{os.sep}" in frame.filename:
                return server
    return "a server"


if __name__ == "__main__":
    sys.exit(main())
