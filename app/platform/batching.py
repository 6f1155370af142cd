"""Group commit: concurrent callers in one process share one round trip to PostgreSQL or Redis.

A caller submits its item and awaits its own result. While fewer than ``lanes`` batches are in
flight, an item starts one at once (no added latency when idle); items that arrive while every lane
is busy wait for the next free lane, so batches grow exactly as fast as the database is slower than
the arrivals. More than one lane keeps a stage from turning into a convoy: with one, a request
waits for the whole previous batch at each of the booking's four steps even while PostgreSQL has
capacity to spare. When a whole batch fails, each of its items runs alone, so one bad row cannot
fail the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from app.platform.errors import is_outage

T = TypeVar("T")
R = TypeVar("R")


class RunAlone(Exception):
    """Raised by a batch function when its items must be retried one by one (not an error)."""


class MicroBatcher(Generic[T, R]):
    def __init__(
        self,
        run_batch: Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]],
        run_one: Callable[[T], Awaitable[R]],
        *,
        max_size: int = 256,
        lanes: int = 1,
    ) -> None:
        self._run_batch = run_batch
        self._run_one = run_one
        self._max_size = max_size
        self._lanes = lanes
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._drainers: set[asyncio.Task[None]] = set()

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if len(self._drainers) < self._lanes:
            self._drainers.add(asyncio.get_running_loop().create_task(self._drain()))
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_size]
                del self._waiting[: self._max_size]
                await self._settle(batch)
        except asyncio.CancelledError:
            # Only when this task itself was cancelled (shutdown): nobody will run the rest.
            for _, future in self._waiting:
                if not future.done():
                    future.cancel()
            self._waiting.clear()
            raise
        finally:
            # No await between the empty check and leaving the set: a submit either came before
            # (and is in this loop's next batch) or sees a free lane.
            self._drainers.discard(asyncio.current_task())

    async def _settle(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        outcomes: Sequence[R | BaseException]
        try:
            if len(items) == 1:
                outcomes = [await self._run_one(items[0])]
            else:
                outcomes = await self._run_batch(items)
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            # An outage would only fail again once per row.
            if len(items) == 1 or (not isinstance(exc, RunAlone) and is_outage(exc)):
                outcomes = [exc] * len(items)
            else:
                outcomes = await asyncio.gather(
                    *(self._run_one(item) for item in items), return_exceptions=True
                )
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
