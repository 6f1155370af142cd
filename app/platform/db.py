"""The async SQLAlchemy engine and session factory, one per process."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.platform.config import Settings


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
        },
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
