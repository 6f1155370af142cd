"""Group commit: concurrent bookings share round trips, yet each gets its own exact answer.

A batch that cannot commit as a whole (a deleted flight, a rebuilt counter, one Idempotency-Key
twice) runs its requests one by one, so one bad row never fails the others.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from app.booking.group_commit import Confirm, FlightWithSeats, Pending
from app.booking.ledger import Claim, FlightGone
from app.booking.reservation import BatchedLuaStrategy, Hold, SoldOut
from app.context import AppContext
from app.platform.batching import MicroBatcher
from tests.conftest import create_flight, register_and_login
from tests.test_booking_support import counter, statuses


async def _user_id(client: httpx.AsyncClient) -> uuid.UUID:
    me = await client.get("/api/v1/auth/me", headers=await register_and_login(client))
    return uuid.UUID(me.json()["id"])


async def _flight(
    context: AppContext, client: httpx.AsyncClient, admin: dict[str, str], seats: int
) -> FlightWithSeats:
    created = await create_flight(
        client, admin, total_seats=seats, flight_number=f"BT-{uuid.uuid4().hex[:6]}"
    )
    _, flights = await context.booking_store.reads.submit((uuid.uuid4(), [uuid.UUID(created["id"])]))
    return flights[uuid.UUID(created["id"])]


def _pending(user_id: uuid.UUID, flight: FlightWithSeats, hold: Hold, claim: Claim | None = None) -> Pending:
    booking_ids = claim.booking_ids if claim else [uuid.uuid4()]
    return Pending(user_id, booking_ids, None, [flight], hold.seats, [hold], datetime.now(UTC), claim)


async def test_concurrent_submissions_share_one_batch_and_each_gets_its_own_result() -> None:
    batches: list[Sequence[int]] = []

    async def double_all(items: Sequence[int]) -> list[int | BaseException]:
        batches.append(items)
        return [item * 2 for item in items]

    async def double(item: int) -> int:
        return item * 2

    batcher: MicroBatcher[int, int] = MicroBatcher(double_all, double)
    assert await asyncio.gather(*(batcher.submit(i) for i in range(10))) == [i * 2 for i in range(10)]
    assert batches == [list(range(10))]


async def test_a_failed_batch_runs_each_item_alone_so_one_bad_item_fails_only_itself() -> None:
    async def refuse(items: Sequence[int]) -> list[int | BaseException]:
        raise ValueError("one row is bad")

    async def one(item: int) -> int:
        if item == 3:
            raise ValueError("bad")
        return item

    batcher: MicroBatcher[int, int] = MicroBatcher(refuse, one)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(5)), return_exceptions=True)
    assert results[:3] == [0, 1, 2] and results[4] == 4
    assert isinstance(results[3], ValueError)


async def test_a_batch_with_a_deleted_flight_still_books_the_others(
    client: httpx.AsyncClient, context: AppContext, admin_headers: dict[str, str]
) -> None:
    store = context.booking_store
    user_id = await _user_id(client)
    flights = [await _flight(context, client, admin_headers, 5) for _ in range(3)]
    holds = [await store.strategy.reserve(f.id, 1) for f in flights]
    gone = flights[0]._replace(id=uuid.uuid4())
    items = [_pending(user_id, f, h) for f, h in zip(flights, holds, strict=True)]
    items.append(_pending(user_id, gone, Hold(gone.id, 1, b"none")))
    results = await asyncio.gather(*(store.pending.submit(i) for i in items), return_exceptions=True)
    assert results[:3] == [set(), set(), set()]
    assert isinstance(results[3], FlightGone)
    for flight in flights:
        assert await statuses(context, flight.id) == {"PENDING": 1}


async def test_a_batch_with_a_rebuilt_counter_refuses_only_the_requests_that_reserved_from_it(
    client: httpx.AsyncClient, context: AppContext, admin_headers: dict[str, str]
) -> None:
    store = context.booking_store
    user_id = await _user_id(client)
    kept, rebuilt = [await _flight(context, client, admin_headers, 5) for _ in range(2)]
    good = await store.strategy.reserve(kept.id, 2)
    old = await store.strategy.reserve(rebuilt.id, 2)
    await context.inventory.reconcile([rebuilt.id])  # new generation: the reservation is not counted
    results = await asyncio.gather(
        store.pending.submit(_pending(user_id, kept, good)),
        store.pending.submit(_pending(user_id, rebuilt, old)),
    )
    assert results == [set(), {rebuilt.id}]
    assert await statuses(context, kept.id) == {"PENDING": 1}
    assert await statuses(context, rebuilt.id) == {}
    assert await counter(context, rebuilt.id) == 5


async def test_one_idempotency_key_twice_in_a_batch_is_claimed_once(
    client: httpx.AsyncClient, context: AppContext, admin_headers: dict[str, str]
) -> None:
    store = context.booking_store
    user_id = await _user_id(client)
    flight = await _flight(context, client, admin_headers, 5)
    items = []
    for _ in range(2):
        claim = Claim(user_id, "same-key", "hash", [uuid.uuid4()], None)
        items.append(_pending(user_id, flight, await store.strategy.reserve(flight.id, 1), claim))
    results = await asyncio.gather(*(store.pending.submit(i) for i in items), return_exceptions=True)
    # The batch's requests then run alone and concurrently: either may be the one that claims it.
    assert sorted(type(r).__name__ for r in results) == ["IdempotencyKeyTaken", "set"]
    assert any(r == set() for r in results)
    assert await statuses(context, flight.id) == {"PENDING": 1}


async def test_confirmations_in_one_batch_answer_each_with_its_rows_and_skip_rows_settled_elsewhere(
    client: httpx.AsyncClient, context: AppContext, admin_headers: dict[str, str]
) -> None:
    store = context.booking_store
    user_id = await _user_id(client)
    flight = await _flight(context, client, admin_headers, 5)
    items = [_pending(user_id, flight, await store.strategy.reserve(flight.id, 1)) for _ in range(3)]
    await asyncio.gather(*(store.pending.submit(i) for i in items))
    async with context.engine.begin() as connection:  # the reaper got to the last one first
        await connection.execute(
            text("UPDATE bookings SET status = 'FAILED' WHERE id = :id"), {"id": items[2].booking_ids[0]}
        )
    now = datetime.now(UTC)
    results = await asyncio.gather(
        *(store.confirms.submit(Confirm(i.booking_ids, f"pay-{n}", now)) for n, i in enumerate(items))
    )
    for n, (rows, counts) in enumerate(results[:2]):
        assert [(r.id, r.status, r.payment_ref) for r in rows] == [
            (items[n].booking_ids[0], "CONFIRMED", f"pay-{n}")
        ]
        assert rows[0].unit_price == Decimal(flight.price)
        assert counts == {flight.id: 2}
    assert results[2][0] == []


@pytest.mark.parametrize("seats", [1, 2])
async def test_pipelined_reservations_never_take_more_than_the_counter_holds(
    client: httpx.AsyncClient, context: AppContext, admin_headers: dict[str, str], seats: int
) -> None:
    flight = await _flight(context, client, admin_headers, 5)
    strategy = BatchedLuaStrategy(context.redis, context.keys)
    results = await asyncio.gather(
        *(strategy.reserve(flight.id, seats) for _ in range(8)), return_exceptions=True
    )
    taken = [r for r in results if isinstance(r, Hold)]
    assert len(taken) == 5 // seats
    assert all(isinstance(r, SoldOut) for r in results if not isinstance(r, Hold))
    assert await counter(context, flight.id) == 5 - seats * len(taken)


async def test_with_two_lanes_a_second_batch_starts_while_the_first_is_still_in_flight() -> None:
    running = 0
    most_at_once = 0
    release = asyncio.Event()

    async def slow(items: Sequence[int]) -> list[int | BaseException]:
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        await release.wait()
        running -= 1
        return list(items)

    async def one(item: int) -> int:
        return (await slow([item]))[0]  # type: ignore[return-value]

    batcher: MicroBatcher[int, int] = MicroBatcher(slow, one, lanes=2)
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.sleep(0)
    rest = [asyncio.ensure_future(batcher.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0.01)
    assert most_at_once == 2  # never more than the lanes, even with five items waiting
    release.set()
    assert await asyncio.gather(first, *rest) == list(range(6))


async def test_an_item_submitted_as_a_lane_finishes_is_never_stranded() -> None:
    async def echo(items: Sequence[int]) -> list[int | BaseException]:
        await asyncio.sleep(0)
        return list(items)

    async def one(item: int) -> int:
        await asyncio.sleep(0)
        return item

    batcher: MicroBatcher[int, int] = MicroBatcher(echo, one, lanes=2)
    for round_ in range(200):
        # Submissions interleaved with lanes draining and leaving, at every possible moment.
        results = await asyncio.wait_for(
            asyncio.gather(*(batcher.submit(round_ * 10 + i) for i in range(round_ % 7 + 1))), timeout=5
        )
        assert results == [round_ * 10 + i for i in range(round_ % 7 + 1)]
