"""The composition root: every process's services, built once (API lifespan, worker, CLI) and
wired together here, so that no domain imports another just to notify it.

Domain modules refer to ``AppContext`` in annotations only (under ``TYPE_CHECKING``); only the
entry points (routers, the worker, the CLI) import this module at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg
import procrastinate

from app.airports import service as airports
from app.booking import group_commit, order_storage
from app.booking import tasks as booking_tasks
from app.booking.group_commit import BookingStore
from app.booking.order_storage import OrderStore
from app.booking.reservation import new_strategy
from app.bulk_import import runner as bulk_runner
from app.bulk_import import tasks as bulk_tasks
from app.flights.events import FlightChange, ScheduleHook, ScheduleMove
from app.flights.inventory import SeatInventory
from app.operations import schedule as operations_schedule
from app.platform.config import Settings
from app.platform.context import Platform
from app.platform.db import create_engine, create_session_factory
from app.platform.events import Topic
from app.platform.jobs import JobQueue, new_app
from app.platform.redis.client import Keys, create_redis
from app.platform.redis.multiplex import Multiplexed
from app.platform.security import PasswordWork, hashing_slots
from app.search import hooks as search_hooks
from app.search import tasks as search_tasks
from app.search.neighbourhood import Neighbourhood
from app.search.timetable import Timetable


@dataclass(kw_only=True)
class AppContext(Platform):
    inventory: SeatInventory
    # The booking hot path's group-commit batchers (on raw connections of the engine's pool).
    booking_store: BookingStore
    # The order hot path's group-commit batchers (insert, confirm).
    order_store: OrderStore
    # Published by flights after each commit that changes flights (one FlightChange per flight).
    flight_changes: Topic[Sequence[FlightChange]]
    # Published by airports when an airport's effective timezone changes (the airport's name).
    timezone_changes: Topic[str]
    # The process's one job-queue app, every domain's tasks registered on it.
    jobs: JobQueue
    # Argon2 hashes and password checks, bounded per process (app.platform.security.PasswordWork).
    password_work: PasswordWork
    # Run inside the transaction that moves flights' times, by the admin PUT and by each bulk import
    # batch, with all of its moves (set by _subscribe; app.flights.events.ScheduleHook).
    schedule_hook: ScheduleHook | None = None
    # Every searchable flight in arrays, kept current by the change feed (filters, sorts, calendar).
    timetable: Timetable = field(default_factory=Timetable)
    # A pinned timetable snapshot for small changes' neighbourhoods (app/search/neighbourhood.py).
    neighbourhood: Neighbourhood = field(default_factory=Neighbourhood)

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        pool_size: int = 20,
        serves_requests: bool = False,
        job_pool_size: int = 1,
    ) -> AppContext:
        """``pool_size``: connections for sessions and the other paths; the booking batches and a
        bulk job get theirs on top, in the same pool. ``serves_requests``: the API (statements
        time out, see app.platform.db)."""
        engine = create_engine(
            settings,
            pool_size=pool_size
            + group_commit.CONNECTIONS
            + order_storage.CONNECTIONS
            + bulk_runner.CONNECTIONS,
            serves_requests=serves_requests,
        )
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
            booking_store=BookingStore(
                settings, engine, redis, keys, inventory, new_strategy(settings, redis, keys)
            ),
            order_store=OrderStore(settings, engine, redis, keys, inventory),
            flight_changes=Topic("flight_changes"),
            timezone_changes=Topic("timezone_changes"),
            jobs=JobQueue(create_jobs_app(settings, max_pool_size=job_pool_size)),
            password_work=PasswordWork(
                hashing_slots(settings.web_concurrency), settings.password_hash_wait_seconds
            ),
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

        async def schedule_changed(conn: asyncpg.Connection, moves: Sequence[ScheduleMove]) -> None:
            await operations_schedule.on_schedule_change(self, conn, moves)

        self.schedule_hook = schedule_changed
        self.flight_changes.subscribe(names_changed)
        self.flight_changes.subscribe(index_flights)
        self.timezone_changes.subscribe(reindex_airport)

    async def close(self) -> None:
        self.password_work.close()
        await self.jobs.close()
        await super().close()


def create_jobs_app(settings: Settings, *, max_pool_size: int = 4) -> procrastinate.App:
    """A job-queue app with every domain's tasks registered (the worker runs one of its own)."""
    app = new_app(settings, max_pool_size=max_pool_size)
    bulk_tasks.register(app)
    booking_tasks.register(app)
    search_tasks.register(app)
    return app
