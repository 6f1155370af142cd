"""The composition root: every process's services, built once (API lifespan, worker, CLI) and
wired together here, so that no domain imports another just to notify it.

Domain modules refer to ``AppContext`` in annotations only (under ``TYPE_CHECKING``); only the
entry points (routers, the worker, the CLI) import this module at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import procrastinate

from app.airports import service as airports
from app.booking.group_commit import BookingStore
from app.booking.reservation import new_strategy
from app.bulk_import import tasks as bulk_tasks
from app.flights.events import FlightChange
from app.flights.inventory import SeatInventory
from app.platform.config import Settings
from app.platform.context import Platform
from app.platform.db import create_engine, create_session_factory
from app.platform.events import Topic
from app.platform.jobs import JobQueue, new_app
from app.platform.redis.client import Keys, create_redis
from app.platform.redis.multiplex import Multiplexed
from app.search import hooks as search_hooks
from app.search import tasks as search_tasks


@dataclass(kw_only=True)
class AppContext(Platform):
    inventory: SeatInventory
    # The booking hot path's group-commit batchers (its connections are taken on first use).
    booking_store: BookingStore
    # Published by flights after each commit that changes flights (one FlightChange per flight).
    flight_changes: Topic[Sequence[FlightChange]]
    # Published by airports when an airport's effective timezone changes (the airport's name).
    timezone_changes: Topic[str]
    # The process's one job-queue app, every domain's tasks registered on it.
    jobs: JobQueue

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        pool_size: int = 20,
        command_timeout: float | None = None,
        job_pool_size: int = 1,
    ) -> AppContext:
        engine = create_engine(settings, pool_size=pool_size, command_timeout=command_timeout)
        session_factory = create_session_factory(engine)
        redis = create_redis(settings)
        keys = Keys(settings.redis_key_prefix)
        inventory = SeatInventory(redis, keys, session_factory)
        context = cls(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            redis=redis,
            keys=keys,
            search_reads=Multiplexed.for_client(redis),
            inventory=inventory,
            booking_store=BookingStore(settings, redis, keys, inventory, new_strategy(settings, redis, keys)),
            flight_changes=Topic("flight_changes"),
            timezone_changes=Topic("timezone_changes"),
            jobs=JobQueue(create_jobs_app(settings, max_pool_size=job_pool_size)),
        )
        context._subscribe()
        return context

    def _subscribe(self) -> None:
        async def names_changed(_: object) -> None:
            await airports.invalidate_names(self)

        async def index_flights(changes: Sequence[FlightChange]) -> None:
            await search_hooks.on_flights_changed(self, changes)

        async def reindex_airport(airport: str) -> None:
            await search_hooks.on_airport_timezone_changed(self, airport)

        self.flight_changes.subscribe(names_changed)
        self.flight_changes.subscribe(index_flights)
        self.timezone_changes.subscribe(reindex_airport)

    async def close(self) -> None:
        await self.jobs.close()
        await self.booking_store.close()
        await super().close()


def create_jobs_app(settings: Settings, *, max_pool_size: int = 4) -> procrastinate.App:
    """A job-queue app with every domain's tasks registered (the worker runs one of its own)."""
    app = new_app(settings, max_pool_size=max_pool_size)
    bulk_tasks.register(app)
    search_tasks.register(app)
    return app
