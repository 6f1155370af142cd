"""Telling search about a job's committed batches, off the import's critical path.

The search update of a batch costs mostly per call, not per flight, and it runs on the same event
loop as the import. So the announcer runs one call at a time in the background, and each call takes
every batch committed since the previous one began: while search is slow, the calls grow and
become fewer instead of the import waiting for each batch's own call.

Recovery bound: before a batch commits, fewer than ``LAG`` committed batches may still be waiting
for (or in) a search update, so a resumed job re-announces the last ``LAG`` committed batches and no
change is ever left unannounced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import asyncpg

from app.bulk_import.upsert import Key, existing_flights, record_snapshot
from app.flights.events import FlightChange, flights_changed

if TYPE_CHECKING:
    from app.context import AppContext

# Committed batches (~10,000 rows each) whose search update may not have happened yet, at most.
LAG = 4


class Announcer:
    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.seconds = 0.0
        self.calls = 0
        self._queued: list[FlightChange] = []
        self._queued_batches = 0
        self._unannounced = 0  # committed batches queued or in the running call
        self._task: asyncio.Task[None] | None = None
        self._failed: Exception | None = None

    async def before_commit(self) -> None:
        """Called before a batch commits: make room so that, once it has, fewer than LAG are
        unannounced; raises if a search update failed (the batch then rolls back)."""
        if self._failed is not None or self._unannounced >= LAG - 1:
            await self.wait()

    def committed(self, changes: list[FlightChange]) -> None:
        self._queued += changes
        self._queued_batches += 1
        self._unannounced += 1
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            while self._queued_batches:
                changes, self._queued = self._queued, []
                batches, self._queued_batches = self._queued_batches, 0
                started = time.monotonic()
                await flights_changed(self.context, changes)
                self.seconds += time.monotonic() - started
                self.calls += 1
                self._unannounced -= batches
        except Exception as exc:
            self._failed = exc  # raised by the next wait, inside the importer's flow
        finally:
            self._task = None

    async def wait(self) -> None:
        """Until every committed batch is announced (raises what a search update raised)."""
        while self._task is not None:
            await asyncio.shield(self._task)
        if self._failed is not None:
            raise self._failed

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def reannounce(context: AppContext, conn: asyncpg.Connection, keys: Iterable[Key]) -> None:
    """Search update for batches committed before this job was interrupted (their own update may
    not have happened); counters need nothing: a missing one is rebuilt from PostgreSQL on use."""
    existing = await existing_flights(conn, list(dict.fromkeys(keys)))
    snapshots = [record_snapshot(r) for r in existing.values()]
    await flights_changed(context, [FlightChange(s, s) for s in snapshots])
