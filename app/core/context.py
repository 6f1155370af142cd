"""Process-wide resources (settings, database, Redis), shared by the API and the workers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.database import create_engine, create_session_factory
from app.core.redis_client import Keys, close_node_clients, create_redis

if TYPE_CHECKING:
    from app.services.booking.store import BookingStore
    from app.services.search.multiplex import Multiplexed
    from app.services.seat_inventory import SeatInventory


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    redis: Redis
    keys: Keys

    @classmethod
    def create(
        cls, settings: Settings, *, pool_size: int = 20, command_timeout: float | None = None
    ) -> AppContext:
        engine = create_engine(settings, pool_size=pool_size, command_timeout=command_timeout)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=create_session_factory(engine),
            redis=create_redis(settings),
            keys=Keys(settings.redis_key_prefix),
        )

    @cached_property
    def inventory(self) -> SeatInventory:
        from app.services.seat_inventory import SeatInventory

        return SeatInventory(self.redis, self.keys, self.session_factory)

    @cached_property
    def booking_store(self) -> BookingStore:
        """The booking hot path's own asyncpg pool and group-commit batchers (opened on first use)."""
        from app.services.booking.reservation import new_strategy
        from app.services.booking.store import BookingStore

        return BookingStore(self.settings, self.redis, self.keys, self.inventory, new_strategy(self))

    @cached_property
    def search_reads(self) -> Multiplexed | None:
        """The search read path's own pipelined Redis connection (opened on first use); None
        unless Redis is a plain TCP single node (then the read path uses ``redis``)."""
        from app.services.search.multiplex import Multiplexed

        return Multiplexed.for_client(self.redis)

    async def close(self) -> None:
        if "booking_store" in self.__dict__:
            await self.booking_store.close()
        if (reads := self.__dict__.get("search_reads")) is not None:
            reads.close()
        await close_node_clients(self.redis)
        await self.redis.aclose()
        await self.engine.dispose()
