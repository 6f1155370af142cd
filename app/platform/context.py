"""The platform's share of a process: settings, the one PostgreSQL pool, Redis and its read
multiplexer. Built once per process (API lifespan, worker, CLI); ``app.context.AppContext`` adds
the domains' services on top."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.platform.config import Settings
from app.platform.redis.client import Keys, close_node_clients
from app.platform.redis.multiplex import Multiplexed

log = structlog.get_logger()


@dataclass(kw_only=True)
class Platform:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    redis: Redis
    keys: Keys
    # The search read path's own pipelined Redis connection (opened on first use); None unless
    # Redis is a plain TCP single node (then the read path uses ``redis``).
    search_reads: Multiplexed | None

    async def close(self) -> None:
        if self.search_reads is not None:
            self.search_reads.close()
        await close_node_clients(self.redis)
        await self.redis.aclose()
        await self.engine.dispose()


async def ensure_epoch(context: Platform) -> bool:
    """Mark Redis as holding FlightDesk state. Returns True when it was empty (first start or data lost)."""
    created = await context.redis.set(context.keys.epoch, secrets.token_hex(8), nx=True)
    if created:
        log.info("redis_epoch_started")
    return bool(created)
