"""The Redis client and the key layout.

Keys of one flight share the hash tag ``{f:<flight id>}`` so that every multi-key operation on a
flight (seat counter, lock) stays in one Redis Cluster slot.
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from app.core.config import Settings


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

    @property
    def epoch(self) -> str:
        """Exists while Redis holds state FlightDesk wrote; its absence means Redis lost its data."""
        return f"{self.prefix}:epoch"

    @property
    def airports(self) -> str:
        return f"{self.prefix}:airports"

    @property
    def seat_sync_dirty(self) -> str:
        """Set of flight ids whose seat count awaits write-back to PostgreSQL."""
        return f"{self.prefix}:seat_sync:dirty"

    @property
    def seat_sync_last_run(self) -> str:
        """Unix time of the last completed write-back."""
        return f"{self.prefix}:seat_sync:last_run"

    def rate_limit_prefix(self) -> str:
        return f"{self.prefix}:ratelimit"

    def pattern(self) -> str:
        return f"{self.prefix}:*"
