"""Faults of a Redis Cluster: every node flushed mid-storm, a master killed and restarted empty.

Run by `make test-cluster` (FLIGHTDESK_TEST_REDIS_CLUSTER=1: the run's own three-master cluster on
loopback, tests/redis_cluster.py). Nothing is oversold, the books add up once quiet, and search
answers again by itself, from PostgreSQL while the index is gone.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis
from redis.crc import key_slot

from app.booking.recovery import audit_counters
from app.context import AppContext
from app.platform.redis.client import Keys, create_redis, publish, subscribe
from tests import infra
from tests.conftest import create_flight, make_settings
from tests.test_booking_support import STRATEGIES, booking_api, counter, held, next_message, users

pytestmark = pytest.mark.skipif(not infra.CLUSTER, reason="needs FLIGHTDESK_TEST_REDIS_CLUSTER=1")

SEATS = 25
ATTEMPTS = 150
DEPARTURE = (datetime.now(UTC) + timedelta(days=5)).replace(hour=8, minute=0, second=0, microsecond=0)


def _cluster(servers: infra.TestServers) -> infra.RedisClusterNodes:
    assert servers.cluster is not None
    return servers.cluster


async def _search(client: httpx.AsyncClient) -> list[str]:
    response = await client.get(
        "/api/v1/search",
        params={"source": "CLA", "destination": "CLB", "date": DEPARTURE.date().isoformat(), "seats": 1},
    )
    assert response.status_code == 200, response.text
    return [leg["id"] for itinerary in response.json() for leg in itinerary["flights"]]


async def _settled(context: AppContext, flight_id: uuid.UUID, codes: Counter[int]) -> None:
    """Nothing oversold, every 201 is a held seat, and once quiet the counter is the truth again."""
    assert set(codes) <= {201, 409, 503}, codes
    # A 503 may come after the booking committed (Redis lost mid-request): the client's retry with
    # its Idempotency-Key gets the booking; a PENDING one the reaper fails.
    assert codes[201] <= await held(context, flight_id) <= SEATS
    await context.inventory.live_counts([flight_id])
    await audit_counters(context, await audit_counters(context, {}))
    assert await counter(context, flight_id) == SEATS - await held(context, flight_id)


def test_the_epoch_and_the_write_back_set_share_a_slot() -> None:
    """A master lost with the dirty set loses the epoch with it, so the next write-back is a full one."""
    keys = Keys("fd")
    assert key_slot(keys.epoch.encode()) == key_slot(keys.seat_sync_dirty.encode())


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_every_node_flushed_mid_storm_never_oversells_and_search_answers_again(
    strategy: str,
    servers: infra.TestServers,
    context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    flight = await create_flight(
        client, admin_headers, source="CLA", destination="CLB", departure=DEPARTURE, total_seats=SEATS
    )
    fid = uuid.UUID(flight["id"])
    assert await _search(client) == [flight["id"]]
    buyers = await users(client, 8)
    nodes = _cluster(servers)

    async with booking_api(servers, seat_reservation=strategy) as api:

        async def flush_every_node() -> None:
            for _ in range(2):
                await asyncio.sleep(0.2)
                for port in nodes.ports:
                    await asyncio.to_thread(redis.Redis(port=port).flushall)

        results = await asyncio.gather(
            flush_every_node(),
            *(api.book(buyers[i % len(buyers)], flight["id"]) for i in range(ATTEMPTS)),
        )
    codes = Counter(r.status_code for r in results[1:] if r is not None)
    await _settled(context, fid, codes)
    # Seats remain exactly when fewer than SEATS are held: a 503 may have committed a booking too.
    assert await _search(client) == ([flight["id"]] if await held(context, fid) < SEATS else [])


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_a_master_killed_and_restarted_empty_loses_nothing_and_search_answers_again(
    strategy: str,
    servers: infra.TestServers,
    context: AppContext,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    flight = await create_flight(
        client, admin_headers, source="CLA", destination="CLB", departure=DEPARTURE, total_seats=SEATS
    )
    fid = uuid.UUID(flight["id"])
    assert await _search(client) == [flight["id"]]
    buyers = await users(client, 8)
    nodes = _cluster(servers)
    # The master holding the flight's counter: its loss is the one that matters to the bookings.
    slot = key_slot(context.keys.seats(fid).encode())
    port = next(p for p in nodes.ports if any(lo <= slot <= hi for lo, hi in _slots_of(p)))

    async with booking_api(servers, seat_reservation=strategy) as api:

        async def storm(count: int) -> list[httpx.Response]:
            return list(
                await asyncio.gather(*(api.book(buyers[i % len(buyers)], flight["id"]) for i in range(count)))
            )

        first = asyncio.create_task(storm(ATTEMPTS // 2))
        await asyncio.sleep(0.2)
        await asyncio.to_thread(nodes.kill_node, port)
        during = await storm(10)  # answered 503 (retry), never 500, while the slot has no master
        await asyncio.to_thread(nodes.restart_node_empty, port)
        results = await first + during + await _eventually_served(storm)
    codes = Counter(r.status_code for r in results)
    assert codes[201] > 0
    await _settled(context, fid, codes)
    # Seats remain exactly when fewer than SEATS are held: a 503 may have committed a booking too.
    assert await _search(client) == ([flight["id"]] if await held(context, fid) < SEATS else [])


async def _eventually_served(storm: Callable[[int], Awaitable[list[httpx.Response]]]) -> list[httpx.Response]:
    """Bookings after the restart: the clients find the node again within a few seconds."""
    responses: list[httpx.Response] = []
    for _ in range(40):
        batch: list[httpx.Response] = await storm(ATTEMPTS // 10)
        responses += batch
        if all(r.status_code != 503 for r in batch):
            return responses
        await asyncio.sleep(0.5)
    raise AssertionError("bookings still answered 503 twenty seconds after the node came back")


def _slots_of(port: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for lo, hi, master, *_ in redis.Redis(port=port).execute_command("CLUSTER SLOTS"):
        if int(master[1]) == port:
            ranges.append((int(lo), int(hi)))
    return ranges


async def test_a_client_that_sent_nothing_yet_subscribes_to_seat_updates(servers: infra.TestServers) -> None:
    """The worker's listener may start before its client's first command (which loads the slot map)."""
    settings = make_settings(servers)
    fresh = create_redis(settings)
    try:
        pubsub = await subscribe(fresh, settings.seat_updates_channel)
        pipe = fresh.pipeline(transaction=False)
        publish(pipe, settings.seat_updates_channel, "hello")
        await pipe.execute()
        assert await next_message(pubsub) == "hello"
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    finally:
        await fresh.aclose()
