"""Taking and giving back seats in the Redis counters: two strategies behind one interface.

``lua``: one atomic script checks and decrements. ``lock-watch`` (the seed's): a per-flight redis-py
``Lock``, then a WATCH/MULTI check-and-decrement. Both return a ``Hold`` carrying the counter's
generation, and both give seats back only to the generation they were taken from, so seats are
never returned to a counter that was rebuilt from PostgreSQL in between (it already counts them).
No lock outlives the reservation itself: the payment runs without any.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol

from redis.asyncio import Redis
from redis.exceptions import LockError, NoScriptError, WatchError

from app.flights.inventory import CounterMissing
from app.platform.batching import MicroBatcher, RunAlone
from app.platform.config import Settings
from app.platform.errors import Conflict, NotFound, ServiceUnavailable
from app.platform.redis.client import Keys, node_client
from app.platform.redis.scripts import lua_source

if TYPE_CHECKING:
    from app.context import AppContext

_RESERVE = lua_source("app.booking", "reserve")
_RELEASE = lua_source("app.booking", "release")

# The seed's lock: held only for the check-and-decrement, so a few milliseconds at most. Waiters
# poll (redis-py's Lock has no queue): too short an interval floods the event loop and Redis.
LOCK_TIMEOUT_SECONDS = 5.0
LOCK_RETRY_SECONDS = 0.005
LOCK_WAIT_SECONDS = 30.0
_POLLS_PER_CHECK = 4
REBUILD_ATTEMPTS = 3


class SoldOut(Conflict):
    def __init__(self, available: int) -> None:
        super().__init__("Not enough seats available")
        self.available = available


@dataclass(frozen=True, slots=True)
class Hold:
    """Seats taken from one flight's counter of one generation."""

    flight_id: uuid.UUID
    seats: int
    generation: bytes


class ReservationStrategy(Protocol):
    name: str

    async def reserve(self, flight_id: uuid.UUID, seats: int) -> Hold:
        """Take seats or raise SoldOut / CounterMissing."""

    async def release(self, flight_id: uuid.UUID, seats: int, generation: bytes) -> bool:
        """Give seats back if the counter is still of that generation; True if it was."""


class LuaStrategy:
    name = "lua"

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.keys = keys
        self._reserve = redis.register_script(_RESERVE)
        self._release = redis.register_script(_RELEASE)

    async def reserve(self, flight_id: uuid.UUID, seats: int) -> Hold:
        keys = [self.keys.seats(flight_id), self.keys.seat_generation(flight_id)]
        status, left, generation = await self._reserve(keys=keys, args=[seats, secrets.token_hex(8)])
        if status == -1:
            raise CounterMissing(flight_id)
        if status == -2:
            raise SoldOut(int(left))
        return Hold(flight_id, seats, _as_bytes(generation))

    async def release(self, flight_id: uuid.UUID, seats: int, generation: bytes) -> bool:
        keys = [self.keys.seats(flight_id), self.keys.seat_generation(flight_id)]
        return int(await self._release(keys=keys, args=[seats, generation])) >= 0


class BatchedLuaStrategy(LuaStrategy):
    """The same script, but the reservations of concurrent requests share one pipelined round trip."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys)
        self.redis = redis
        self._batcher: MicroBatcher[tuple[uuid.UUID, int], Hold] = MicroBatcher(
            self._reserve_batch, self._reserve_alone
        )

    async def reserve(self, flight_id: uuid.UUID, seats: int) -> Hold:
        return await self._batcher.submit((flight_id, seats))

    async def _reserve_alone(self, item: tuple[uuid.UUID, int]) -> Hold:
        return await LuaStrategy.reserve(self, *item)

    async def _reserve_batch(self, items: Sequence[tuple[uuid.UUID, int]]) -> list[Hold | BaseException]:
        pipe = self.redis.pipeline(transaction=False)
        for flight_id, seats in items:
            keys = [self.keys.seats(flight_id), self.keys.seat_generation(flight_id)]
            # EVALSHA without redis-py's per-execute SCRIPT EXISTS check; NOSCRIPT runs each alone,
            # through the Script object, which loads it.
            # execute_command: a cluster pipeline refuses pipe.evalsha, not the command itself.
            pipe.execute_command("EVALSHA", self._reserve.sha, 2, *keys, seats, secrets.token_hex(8))
        replies = await pipe.execute(raise_on_error=False)
        if any(isinstance(reply, NoScriptError) for reply in replies):
            raise RunAlone("script not loaded")
        holds: list[Hold | BaseException] = []
        for (flight_id, seats), reply in zip(items, replies, strict=True):
            if isinstance(reply, BaseException):
                holds.append(reply)
                continue
            status, left, generation = reply
            if status == -1:
                holds.append(CounterMissing(flight_id))
            elif status == -2:
                holds.append(SoldOut(int(left)))
            else:
                holds.append(Hold(flight_id, seats, _as_bytes(generation)))
        return holds


class LockWatchStrategy:
    name = "lock-watch"

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def reserve(self, flight_id: uuid.UUID, seats: int) -> Hold:
        seats_key, gen_key = self.keys.seats(flight_id), self.keys.seat_generation(flight_id)
        node = await node_client(self.redis, seats_key)
        await self._refuse_if_sold_out(node, seats_key, seats)
        leave_if_sold_out = partial(self._refuse_if_sold_out, node, seats_key, seats)
        async with self._locked(node, flight_id, leave_if_sold_out), node.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(seats_key, gen_key)
                    current, generation = await pipe.mget(seats_key, gen_key)
                    if current is None:
                        raise CounterMissing(flight_id)
                    if int(current) < seats:
                        raise SoldOut(int(current))
                    pipe.multi()  # type: ignore[no-untyped-call]
                    if generation is None:
                        generation = secrets.token_hex(8).encode()
                        pipe.set(gen_key, generation)
                    pipe.decrby(seats_key, seats)
                    await pipe.execute()
                    return Hold(flight_id, seats, _as_bytes(generation))
                except WatchError:
                    continue  # a release or an admin change slipped in between: read again

    async def release(self, flight_id: uuid.UUID, seats: int, generation: bytes) -> bool:
        seats_key, gen_key = self.keys.seats(flight_id), self.keys.seat_generation(flight_id)
        node = await node_client(self.redis, seats_key)
        async with self._locked(node, flight_id), node.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(seats_key, gen_key)
                    current, current_generation = await pipe.mget(seats_key, gen_key)
                    if current is None or current_generation != generation:
                        await pipe.unwatch()  # type: ignore[no-untyped-call]
                        return False
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.incrby(seats_key, seats)
                    await pipe.execute()
                    return True
                except WatchError:
                    continue

    async def _refuse_if_sold_out(self, node: Redis, seats_key: str, seats: int) -> None:
        # Sold out needs no lock: a count only grows again by a cancellation, and this read is as
        # good as one a moment later. The decisive check is the one under the lock.
        current = await node.get(seats_key)
        if current is not None and int(current) < seats:
            raise SoldOut(int(current))

    def _locked(
        self, node: Redis, flight_id: uuid.UUID, while_waiting: Callable[[], Awaitable[None]] | None = None
    ) -> _FlightLock:
        return _FlightLock(node, self.keys.flight_lock(flight_id), while_waiting)


class _FlightLock:
    """redis-py's Lock, with a failure to get it within LOCK_WAIT_SECONDS turned into a 503.

    ``while_waiting`` runs every few polls and may end the wait by raising (a reservation stops
    queueing for a flight that sold out meanwhile instead of waiting its turn for a 409: on a hot
    flight, hundreds of pollers otherwise kept the holder and Redis busy long after the last seat).
    """

    def __init__(
        self, redis: Redis, name: str, while_waiting: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.lock = redis.lock(name, timeout=LOCK_TIMEOUT_SECONDS, sleep=LOCK_RETRY_SECONDS)
        self.while_waiting = while_waiting

    async def __aenter__(self) -> None:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        polls = 0
        while not await self.lock.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise ServiceUnavailable("The flight is busy; please retry")
            polls += 1
            if self.while_waiting is not None and polls % _POLLS_PER_CHECK == 0:
                await self.while_waiting()
            await asyncio.sleep(LOCK_RETRY_SECONDS)

    async def __aexit__(self, *_: object) -> None:
        # LockError: expired after LOCK_TIMEOUT_SECONDS; the WATCH still kept the counter safe.
        with contextlib.suppress(LockError):
            await self.lock.release()


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def strategy_for(context: AppContext) -> ReservationStrategy:
    """The process's strategy (one per context, so concurrent requests share its batching)."""
    return context.booking_store.strategy


def new_strategy(settings: Settings, redis: Redis, keys: Keys) -> ReservationStrategy:
    if settings.seat_reservation == "lock-watch":
        return LockWatchStrategy(redis, keys)
    return BatchedLuaStrategy(redis, keys)


async def reserve_all(
    context: AppContext, strategy: ReservationStrategy, flight_ids: Sequence[uuid.UUID], seats: int
) -> list[Hold]:
    """Take seats on every flight or on none, in sorted id order so concurrent itineraries agree."""
    holds: list[Hold] = []
    try:
        for flight_id in sorted(set(flight_ids)):
            holds.append(await _reserve_one(context, strategy, flight_id, seats))
    except BaseException:
        await release_all(strategy, holds)
        raise
    return holds


async def reserve_at_once(
    context: AppContext, strategy: ReservationStrategy, flight_ids: Sequence[uuid.UUID], seats: int
) -> list[Hold]:
    """``reserve_all``'s answer, with every flight asked at once (one pipelined round trip through
    the batched Lua strategy, instead of one per flight). All or none as well: taken seats are given
    back on any refusal. Asked at once, two requests can each take one flight the other needs and
    both be refused while one could have had both: a refusal is therefore asked again in
    ``reserve_all``'s order, whose answer is the one given."""
    ids = sorted(set(flight_ids))
    outcomes = await asyncio.gather(
        *(_reserve_one(context, strategy, fid, seats) for fid in ids), return_exceptions=True
    )
    holds = [outcome for outcome in outcomes if isinstance(outcome, Hold)]
    if len(holds) == len(ids):
        return holds
    await release_all(strategy, holds)
    failures = [outcome for outcome in outcomes if not isinstance(outcome, Hold)]
    if all(isinstance(failure, SoldOut) for failure in failures):
        return await reserve_all(context, strategy, ids, seats)
    raise failures[0]


async def _reserve_one(
    context: AppContext, strategy: ReservationStrategy, flight_id: uuid.UUID, seats: int
) -> Hold:
    for _ in range(REBUILD_ATTEMPTS):
        try:
            return await strategy.reserve(flight_id, seats)
        except CounterMissing:
            if not await context.inventory.rebuild([flight_id]):
                raise NotFound("Flight not found") from None
    raise ServiceUnavailable("Seat counters are being rebuilt; please retry")


async def release_all(strategy: ReservationStrategy, holds: Sequence[Hold]) -> None:
    for hold in reversed(holds):
        await strategy.release(hold.flight_id, hold.seats, hold.generation)
