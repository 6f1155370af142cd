"""The async SQLAlchemy engine and session factory, one per process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.core.config import Settings


def create_engine(
    settings: Settings, *, pool_size: int = 20, command_timeout: float | None = None
) -> AsyncEngine:
    return create_async_engine(
        settings.sqlalchemy_url,
        pool_size=pool_size,
        # A fixed pool: overflow connections opened and closed in bursts cost more than waiting.
        max_overflow=pool_size // 4,
        # No pre-ping (a round trip per checkout): a connection found dead raises a disconnect error,
        # which invalidates the whole pool, answers that one request 503, and the next ones reconnect.
        pool_pre_ping=False,
        pool_timeout=10,
        # asyncpg caches prepared statements per connection; keeps repeated queries cheap.
        connect_args={
            "server_settings": {"application_name": "flightdesk", "timezone": "UTC"},
            # A hung or unreachable server must become a 503, not a request that waits forever.
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": command_timeout,
            **(PGBOUNCER_CONNECT_ARGS if settings.database_pgbouncer else {}),
        },
    )


def _statement_name() -> str:
    # Unique: a name asyncpg reused could meet a statement of that name another client of the
    # same PgBouncer server connection prepared.
    return f"__fd_{uuid.uuid4().hex}__"


# Through PgBouncer in transaction mode: neither asyncpg nor SQLAlchemy's dialect caches prepared
# statements (the next transaction may run on a server connection that does not have them).
PGBOUNCER_CONNECT_ARGS: dict[str, Any] = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": _statement_name,
}


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        yield session
