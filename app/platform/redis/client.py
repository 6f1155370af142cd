"""The Redis client and the key layout.

Keys of one flight share the hash tag ``{f:<flight id>}`` so that every multi-key operation on a
flight (seat counter, lock) stays in one Redis Cluster slot.
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from app.platform.config import Settings


def create_redis(settings: Settings, *, max_connections: int = 200) -> Redis:
    return Redis.from_url(
        settings.require_redis_url(),
        decode_responses=False,
        max_connections=max_connections,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
    )


class Keys:
    """Names of every Redis key FlightDesk writes, under one configurable prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def flight_tag(self, flight_id: uuid.UUID | str) -> str:
        return f"{self.prefix}:{{f:{flight_id}}}"

    def seats(self, flight_id: uuid.UUID | str) -> str:
        return f"{self.flight_tag(flight_id)}:seats"

    def flight_lock(self, flight_id: uuid.UUID | str) -> str:
        return f"{self.flight_tag(flight_id)}:lock"

    def seat_generation(self, flight_id: uuid.UUID | str) -> str:
        """Random token, renewed whenever the seat counter is recreated from PostgreSQL."""
        return f"{self.flight_tag(flight_id)}:gen"

    @property
    def epoch(self) -> str:
        """Exists while Redis holds state FlightDesk wrote; its absence means Redis lost its data."""
        return f"{self.prefix}:epoch"

    @property
    def airports(self) -> str:
        # :2: spellings merged by migration 0006 (a list cached before it would name both).
        return f"{self.prefix}:airports:2"

    @property
    def seat_sync_dirty(self) -> str:
        """Set of flight ids whose seat count awaits write-back to PostgreSQL."""
        return f"{self.prefix}:seat_sync:dirty"

    @property
    def seat_sync_last_run(self) -> str:
        """Unix time of the last completed write-back."""
        return f"{self.prefix}:seat_sync:last_run"

    def flight_card(self, flight_id: uuid.UUID | str) -> str:
        """Search: the flight's pre-serialised JSON, without its live available_seats."""
        return f"{self.flight_tag(flight_id)}:card"

    def search_day(self, origin: str, day: str) -> str:
        """Search: hash destination -> best itineraries from ``origin`` on local date ``day``."""
        return f"{self.prefix}:search:{{o:{origin}}}:{day}"

    @property
    def search_format(self) -> str:
        """Search: the index format and rules it was built with; absent while (re)building."""
        return f"{self.prefix}:search:format"

    @property
    def search_lock(self) -> str:
        """Search: held (short TTL, renewed) while a full rebuild runs, so only one runs at a time."""
        return f"{self.prefix}:search:lock"

    @property
    def search_update_lock(self) -> str:
        """Search: serialises the incremental updates of small flight changes (short TTL)."""
        return f"{self.prefix}:search:update_lock"

    @property
    def search_dirty(self) -> str:
        """Search: set of "origin<TAB>date" origin-days awaiting recomputation by the worker."""
        return f"{self.prefix}:search:dirty"

    @property
    def search_origins(self) -> str:
        """Search: set of the airports the index holds origin-days for."""
        return f"{self.prefix}:search:origins"

    @property
    def search_requested(self) -> str:
        """Search: short-lived marker debouncing the read path's reindex requests."""
        return f"{self.prefix}:search:requested"

    @property
    def search_max_duration(self) -> str:
        """Search: seconds of the longest flight ever indexed (only raised), bounding invalidation."""
        return f"{self.prefix}:search:max_duration"

    def pattern(self) -> str:
        return f"{self.prefix}:*"
