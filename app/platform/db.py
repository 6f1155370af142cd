"""The process's one PostgreSQL pool: SQLAlchemy's async engine over asyncpg.

Every path into PostgreSQL takes its connections from this pool: ORM sessions and Core through the
engine, and the hot paths that speak asyncpg directly (the booking group commit, the bulk import,
search's loads) through ``raw_connection``. So one pool size, one timeout policy and one outage->503
mapping (``app.platform.errors``) cover them all. The one exception is the job queue
(``app.platform.jobs``): procrastinate's connectors are psycopg's, it keeps a small pool of its own.

The timeout policy, for every connection of the pool: connecting gives up after
``DB_CONNECT_TIMEOUT_SECONDS``; in a process that answers requests (the API) a statement gives up
after ``DB_COMMAND_TIMEOUT_SECONDS``, so a frozen database answers 503 instead of a request that
hangs; in the worker and the CLI no statement does (a bulk import's statements are long by design).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import greenlet_spawn

from app.platform.config import Settings


def command_timeout(settings: Settings, *, serves_requests: bool) -> float | None:
    """The statement timeout of every connection of a process's pool (see the module doc)."""
    return settings.db_command_timeout_seconds if serves_requests else None


def create_engine(settings: Settings, *, pool_size: int = 20, serves_requests: bool = False) -> AsyncEngine:
    return create_async_engine(
        settings.sqlalchemy_url,
        pool_size=pool_size,
        # A fixed pool: overflow connections opened and closed in bursts cost more than waiting.
        max_overflow=pool_size // 4,
        # No pre-ping (a round trip per checkout): a connection found dead raises a disconnect error,
        # which invalidates the whole pool, answers that one request 503, and the next ones reconnect.
        pool_pre_ping=False,
        pool_timeout=10,
        # asyncpg caches prepared statements per connection; keeps repeated queries cheap (not
        # through PgBouncer: DATABASE_PGBOUNCER, see PGBOUNCER_CONNECT_ARGS).
        connect_args={
            "server_settings": {"application_name": "flightdesk", "timezone": "UTC"},
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": command_timeout(settings, serves_requests=serves_requests),
            **(PGBOUNCER_CONNECT_ARGS if settings.database_pgbouncer else {}),
        },
    )


def _statement_name() -> str:
    # Unique: a name asyncpg reused could meet a statement of that name another client of the
    # same PgBouncer server connection prepared.
    return f"__fd_{uuid.uuid4().hex}__"


# Through PgBouncer in transaction mode: neither asyncpg nor SQLAlchemy's dialect caches prepared
# statements (the next transaction may run on a server connection that does not have them). Every
# connection of the pool, the raw ones too (the booking group commit, the bulk runner, search's
# loads): they are the engine's.
PGBOUNCER_CONNECT_ARGS: dict[str, Any] = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": _statement_name,
}


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def driver_of(session: AsyncSession | AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under a session's (or Core connection's) transaction, for code that
    speaks asyncpg and must run in that transaction (it begins one if none has begun yet)."""
    connection = await session.connection() if isinstance(session, AsyncSession) else session
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    return driver


@asynccontextmanager
async def raw_connection(
    engine: AsyncEngine, *, session_state: bool = False
) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the engine's pool as asyncpg's own, back to the pool when the block ends.

    A thin checkout, for the hot paths: the pool's own checkout and checkin (~25 µs of CPU), not an
    ``AsyncConnection`` around them (~57 µs, about asyncpg's own pool's 18 µs three times). Returning
    it costs no round trip: the pool's reset rolls back only a transaction SQLAlchemy began, and
    the block's ``connection.transaction()`` ended with the block. So the block leaves no session
    state behind (its settings and advisory locks are the transaction's). A block that does
    (``session_state=True``: a session advisory lock) clears it before it ends normally; if it
    raises, the connection is closed instead, which clears it. A connection the driver found
    closed (server restarted, network lost) is never put back.
    """
    pooled = await greenlet_spawn(engine.sync_engine.raw_connection)
    driver = cast(asyncpg.Connection, pooled.driver_connection)
    clean = False
    try:
        yield driver
        clean = True
    finally:
        if (clean or not session_state) and not driver.is_closed():
            # Puts it back without waiting on anything: a cancellation cannot cut it short.
            await greenlet_spawn(pooled.close)
        else:
            await _to_completion(greenlet_spawn(pooled.invalidate))


async def _to_completion(cleanup: Coroutine[Any, Any, None]) -> None:
    """Finish ``cleanup`` even if the caller is cancelled meanwhile (the cancellation is re-raised
    after): a connection abandoned halfway out of the pool would shrink it for good."""
    task = asyncio.ensure_future(cleanup)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as exc:
            cancelled = exc
    task.result()
    if cancelled is not None:
        raise cancelled
