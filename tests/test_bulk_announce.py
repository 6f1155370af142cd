"""Search updates of a bulk job: batches committed while search is busy share its next call, at
most LAG committed batches are ever unannounced, and a failed update stops the job's next commit."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.bulk_import import announce, intake, runner
from app.bulk_import.announce import LAG, Announcer
from app.context import AppContext
from app.flights.events import FlightChange
from tests.bulk_helpers import BASE, csv_text, row


class SlowSearch:
    """Stands in for the search update: records each call and finishes it when told to."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.release = asyncio.Event()
        self.fail = False

    async def __call__(self, context: AppContext, changes: Sequence[FlightChange]) -> None:
        self.calls.append(len(changes))
        await self.release.wait()
        self.release.clear()
        if self.fail:
            raise RuntimeError("search is down")


def batch(size: int) -> list[FlightChange]:
    return [FlightChange(None, None)] * size


@pytest.fixture
def search(monkeypatch: pytest.MonkeyPatch) -> SlowSearch:
    slow = SlowSearch()
    monkeypatch.setattr(announce, "flights_changed", slow)
    return slow


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_batches_committed_during_a_call_share_the_next_one(search: SlowSearch) -> None:
    announcer = Announcer(context=None)  # type: ignore[arg-type]
    announcer.committed(batch(3))
    await settle()
    announcer.committed(batch(2))
    announcer.committed(batch(4))
    await settle()
    assert search.calls == [3]

    search.release.set()
    await settle()
    assert search.calls == [3, 6]
    search.release.set()
    await announcer.wait()
    assert announcer.calls == 2


async def test_a_commit_waits_while_lag_batches_would_be_unannounced(search: SlowSearch) -> None:
    announcer = Announcer(context=None)  # type: ignore[arg-type]
    for _ in range(LAG - 2):
        await announcer.before_commit()  # room: returns at once
        announcer.committed(batch(1))
    await settle()
    await announcer.before_commit()
    announcer.committed(batch(1))  # LAG - 1 unannounced now

    waiting = asyncio.create_task(announcer.before_commit())
    await settle()
    assert not waiting.done()
    search.release.set()  # the first call ends; the batch committed since is a second call
    await settle()
    assert not waiting.done()
    search.release.set()
    await asyncio.wait_for(waiting, timeout=5)
    assert search.calls == [LAG - 2, 1]


async def test_a_failed_search_update_is_raised_before_the_next_commit(search: SlowSearch) -> None:
    announcer = Announcer(context=None)  # type: ignore[arg-type]
    announcer.committed(batch(1))
    search.fail = True
    search.release.set()
    await settle()
    with pytest.raises(RuntimeError, match="search is down"):
        await announcer.before_commit()


async def test_a_resumed_job_announces_every_flight_the_interrupted_run_may_not_have(
    context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    announced: set[str] = set()

    async def record(context: AppContext, changes: Sequence[FlightChange]) -> None:
        await asyncio.sleep(0.05)  # slower than the import: batches pile up behind each call
        announced.update(c.after.flight_number for c in changes if c.after is not None)

    monkeypatch.setattr(announce, "flights_changed", record)
    monkeypatch.setattr(intake, "CHUNK_BYTES", 2 << 10)  # ~20 rows a batch
    lines = [row(f"AI-{i}", departure=BASE + timedelta(minutes=i)) for i in range(600)]
    job_id = await intake.store_csv(context, csv_text(*lines).encode(), filename="f.csv")

    interrupted = asyncio.create_task(runner.run_job(context, job_id))
    while await processed(context, job_id) < 200:
        await asyncio.sleep(0.01)
    interrupted.cancel()  # as a shutdown or a killed worker would, mid-job
    with contextlib.suppress(asyncio.CancelledError):
        await interrupted
    assert 200 <= await processed(context, job_id) < 600

    await runner.run_job(context, job_id)
    assert await processed(context, job_id) == 600
    assert announced == {f"AI-{i}" for i in range(600)}


async def processed(context: AppContext, job_id: uuid.UUID) -> int:
    async with context.engine.connect() as connection:
        value = await connection.scalar(
            text("SELECT processed_rows FROM bulk_jobs WHERE id = :id"), {"id": job_id}
        )
    return int(value)
