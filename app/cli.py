"""flightdesk command line: ``python -m app.cli <command>``.

run           everything `make run` starts: embedded servers if needed, migrations, API, worker
api           the API server only (production: one process per container)
worker        the background worker only
migrate       apply Alembic migrations
make-admin    grant admin rights to a user
rebuild-index rebuild the search index from PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from app.core.config import Settings, get_settings

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
    from app.core.embedded import EmbeddedServers

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    embedded = EmbeddedServers(settings.data_dir)
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    env = dict(os.environ)
    try:
        started = time.monotonic()
        if not settings.database_url:
            env["DATABASE_URL"] = embedded.start_postgres()
            print(f"embedded PostgreSQL: {env['DATABASE_URL']} (data in {settings.data_dir}/postgres)")
        if not settings.redis_url:
            env["REDIS_URL"] = embedded.start_redis()
            print(f"embedded Redis: {env['REDIS_URL']} (data in {settings.data_dir}/redis)")
        migrate(env["DATABASE_URL"])
        child_settings = Settings(database_url=env["DATABASE_URL"], redis_url=env["REDIS_URL"])
        env["JWT_SECRET"] = child_settings.resolved_jwt_secret()
        worker = [sys.executable, "-m", "app.cli", "worker"]
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
        embedded.stop()
    return return_code


def serve_api(settings: Settings) -> int:
    from app.core.observability import prepare_metrics_dir

    prepare_metrics_dir(settings)  # before the server forks its workers
    # Resolved once here, so worker processes never race to generate different development secrets.
    os.environ["JWT_SECRET"] = settings.resolved_jwt_secret()
    os.execv(sys.executable, api_command(settings))  # noqa: S606 - replaces this process by design


def run_worker(settings: Settings) -> int:
    from app.workers.main import main as worker_main

    asyncio.run(worker_main(settings))
    return 0


def make_admin(settings: Settings, username: str, revoke: bool) -> int:
    from app.core.context import AppContext
    from app.core.errors import NotFound
    from app.services.users import set_admin

    async def go() -> int:
        context = AppContext.create(settings, pool_size=1)
        try:
            await set_admin(context, username, not revoke)
        except NotFound as exc:
            print(exc.detail, file=sys.stderr)
            return 1
        finally:
            await context.close()
        print(f"{username} is {'no longer' if revoke else 'now'} an admin")
        return 0

    return asyncio.run(go())


def rebuild_index(settings: Settings) -> int:
    from app.core.context import AppContext
    from app.services.search import index

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="flightdesk", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
    settings = get_settings()
    if args.command == "run":
        return run(settings)
    if args.command == "api":
        return serve_api(settings)
    if args.command == "worker":
        return run_worker(settings)
    if args.command == "migrate":
        migrate()
        return 0
    if args.command == "rebuild-index":
        return rebuild_index(settings)
    if args.command == "make-admin":
        return make_admin(settings, args.username, args.revoke)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
