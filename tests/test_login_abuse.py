"""Logins cannot exhaust the server, and the client they are counted against is the real one
(issue #12, defects 3 and 4; contract: Input limits, `/token`).

The same over a real server and through nginx: tests/test_deployment.py.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from app.accounts import users
from app.accounts.rate_limit import client_key
from app.context import AppContext
from app.main import create_app
from app.platform import security
from app.platform.config import Settings
from app.platform.errors import TooManyRequests
from app.platform.proxies import TrustedProxies
from tests.conftest import make_settings
from tests.infra import TestServers


@asynccontextmanager
async def app_client(
    settings: Settings, peer: str = "203.0.113.10"
) -> AsyncIterator[tuple[AppContext, httpx.AsyncClient]]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield application.state.context, http


async def spray(http: httpx.AsyncClient, count: int, **headers: str) -> Counter[int]:
    async def login(i: int) -> int:
        response = await http.post(
            "/api/v1/auth/token",
            data={"username": f"spray_{uuid.uuid4().hex[:6]}_{i}", "password": "not-the-password-1"},
            headers=headers,
        )
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1
        return response.status_code

    return Counter(await asyncio.gather(*(login(i) for i in range(count))))


# --- the per-client limit ----------------------------------------------------------------------


async def test_a_login_spray_over_many_usernames_from_one_client_gets_429_after_the_client_limit(
    servers: TestServers, context: AppContext
) -> None:
    settings = make_settings(servers, login_client_rate_limit="5/minute", login_rate_limit="10/15minutes")
    async with app_client(settings) as (_, http):
        assert await spray(http, 12) == {401: 5, 429: 7}
        # Another client is not affected.
    async with app_client(settings, peer="203.0.113.11") as (_, http):
        assert await spray(http, 2) == {401: 2}


async def test_the_client_limit_counts_successful_logins_too(
    servers: TestServers, context: AppContext
) -> None:
    settings = make_settings(servers, login_client_rate_limit="3/minute")
    async with app_client(settings) as (_, http):
        body = {"username": "regular", "password": "kite-river9"}
        assert (await http.post("/api/v1/auth/register", json=body)).status_code == 201
        statuses = [(await http.post("/api/v1/auth/token", data=body)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


async def test_an_ipv6_client_is_counted_by_its_64_block(servers: TestServers, context: AppContext) -> None:
    settings = make_settings(servers, login_client_rate_limit="3/minute")
    statuses = []
    for host in range(1, 5):
        async with app_client(settings, peer=f"2001:db8:1:2::{host:x}") as (_, http):
            statuses += list((await spray(http, 1)).elements())
    assert statuses == [401, 401, 401, 429]
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert client_key("::ffff:198.51.100.1") == "198.51.100.1"  # an IPv4 client seen over IPv6
    assert client_key("198.51.100.1") == "198.51.100.1"


# --- the bound on hashes computed at once -------------------------------------------------------


async def test_a_spray_never_runs_more_hashes_at_once_than_the_process_has_slots(
    servers: TestServers, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #12: 40 logins at once ran 40 Argon2 hashes of 64 MiB at once (127 MB -> 2,675 MB)."""
    running = 0
    most = 0
    lock = threading.Lock()
    verify = security.verify_password

    def counting_verify(password: str, hashed: str | None) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.02)  # long enough for every request to be waiting at once
            return verify(password, hashed)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(users, "verify_password", counting_verify)
    settings = make_settings(servers, login_client_rate_limit="0")
    async with app_client(settings) as (app_context, http):
        slots = app_context.password_work.slots
        statuses = await spray(http, 4 * slots + 4)
    assert most <= slots, (most, slots)
    assert statuses[401] >= 1 and set(statuses) <= {401, 429}


async def test_a_request_waits_a_bounded_time_for_a_hashing_slot_then_gets_429() -> None:
    work = security.PasswordWork(slots=1, wait_seconds=0.2)
    release = threading.Event()
    try:
        busy = asyncio.ensure_future(work.run(release.wait, 5))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(TooManyRequests) as refused:
            await work.run(lambda: None)
        assert 0.15 < time.monotonic() - started < 2
        assert refused.value.retry_after >= 1
        release.set()
        assert await busy is True
        assert await work.run(lambda: 42) == 42  # the slot came back
    finally:
        release.set()
        work.close()


async def test_a_hashing_slot_is_returned_when_its_request_is_cancelled() -> None:
    work = security.PasswordWork(slots=1, wait_seconds=2)
    release = threading.Event()
    try:
        waiting = asyncio.ensure_future(work.run(release.wait, 5))
        await asyncio.sleep(0.05)
        waiting.cancel()
        release.set()
        assert await work.run(lambda: "free") == "free"
    finally:
        release.set()
        work.close()


async def test_hashes_run_off_the_event_loop_in_lower_priority_threads() -> None:
    work = security.PasswordWork(slots=1)
    try:
        loop_thread = threading.get_ident()
        thread, niceness = await work.run(lambda: (threading.get_ident(), os.getpriority(os.PRIO_PROCESS, 0)))
    finally:
        work.close()
    assert thread != loop_thread
    assert niceness == min(19, os.getpriority(os.PRIO_PROCESS, 0) + security.HASH_THREAD_NICENESS)


def test_hashing_slots_are_sized_from_memory_and_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    hash_bytes = security.ARGON2_MEMORY_KIB * 1024
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(8)))
    monkeypatch.setattr(security, "available_memory", lambda: 100 * hash_bytes)
    assert security.hashing_slots(1) == 8  # the CPUs bound it
    assert security.hashing_slots(4) == 2
    monkeypatch.setattr(security, "available_memory", lambda: 6 * hash_bytes)
    assert security.hashing_slots(1) == 3  # half the memory available, in hashes
    monkeypatch.setattr(security, "available_memory", lambda: 0)
    assert security.hashing_slots(2) == 1  # always at least one
    monkeypatch.undo()
    assert security.available_memory() > 0  # the real figure, from /proc or the cgroup


# --- who the client is ---------------------------------------------------------------------------


async def test_x_forwarded_for_is_ignored_from_a_peer_that_is_no_trusted_proxy(
    servers: TestServers, context: AppContext
) -> None:
    settings = make_settings(servers, login_client_rate_limit="3/minute")
    async with app_client(settings) as (_, http):
        statuses: Counter[int] = Counter()
        for i in range(5):
            statuses += await spray(http, 1, **{"X-Forwarded-For": f"198.51.100.{i}"})
    assert statuses == {401: 3, 429: 2}


async def test_x_forwarded_for_is_believed_from_a_trusted_proxy(
    servers: TestServers, context: AppContext
) -> None:
    settings = make_settings(servers, login_client_rate_limit="3/minute", trusted_proxies=["203.0.113.0/24"])
    async with app_client(settings) as (_, http):
        spread: Counter[int] = Counter()
        for i in range(5):
            spread += await spray(http, 1, **{"X-Forwarded-For": f"198.51.100.{i}"})
        one = await spray(http, 4, **{"X-Forwarded-For": "198.51.100.200"})
    assert spread == {401: 5}
    assert one == {401: 3, 429: 1}


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("198.51.100.9", [], "198.51.100.9"),
        ("198.51.100.9", ["1.2.3.4"], "198.51.100.9"),  # not a proxy: its header means nothing
        ("10.0.0.2", ["1.2.3.4"], "1.2.3.4"),
        ("10.0.0.2", ["6.6.6.6, 1.2.3.4"], "1.2.3.4"),  # the client wrote 6.6.6.6 itself
        ("10.0.0.2", ["6.6.6.6", "1.2.3.4"], "1.2.3.4"),  # two headers are one list
        ("10.0.0.2", ["6.6.6.6, 1.2.3.4, 10.0.0.7"], "1.2.3.4"),  # a chain of trusted proxies
        ("10.0.0.2", ["10.0.0.8, 10.0.0.7"], "10.0.0.8"),  # nothing but proxies: the farthest
        ("10.0.0.2", ["6.6.6.6, not-an-address"], "10.0.0.2"),  # the proxy answers for garbage
        ("10.0.0.2", ["::ffff:1.2.3.4"], "1.2.3.4"),
        ("::ffff:10.0.0.2", ["1.2.3.4"], "1.2.3.4"),
        (None, ["1.2.3.4"], "unknown"),
    ],
)
async def test_the_client_is_the_nearest_address_that_is_no_trusted_proxy(
    peer: str | None, forwarded_for: list[str], client: str
) -> None:
    assert await TrustedProxies(["10.0.0.0/24"]).client(peer, forwarded_for) == client


async def test_trusted_proxies_named_by_host_name_are_resolved_and_re_resolved() -> None:
    proxies = TrustedProxies(["localhost"])
    assert await proxies.client("127.0.0.1", ["1.2.3.4"]) == "1.2.3.4"
    resolved_at = proxies.resolved_at
    await proxies.client("127.0.0.1", ["1.2.3.4"])
    assert proxies.resolved_at == resolved_at  # not on every request
    proxies.resolved_at -= 60
    await proxies.client("127.0.0.1", ["1.2.3.4"])
    assert proxies.resolved_at > resolved_at


async def test_an_unresolvable_proxy_name_trusts_nobody_and_breaks_nothing() -> None:
    proxies = TrustedProxies(["no-such-host.invalid"])
    assert await proxies.client("127.0.0.1", ["1.2.3.4"]) == "127.0.0.1"


@pytest.mark.parametrize("value", ["frontend, 10.0.0.0/8", '["frontend", "10.0.0.0/8"]'])
def test_trusted_proxies_are_read_as_a_comma_separated_or_json_list(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    assert Settings(_env_file=None).trusted_proxies == ["frontend", "10.0.0.0/8"]  # type: ignore[call-arg]


@pytest.mark.parametrize("value", ["not a host", "10.0.0.0/33", "-frontend"])
def test_a_trusted_proxy_that_is_no_address_network_or_name_is_refused_at_start(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_no_proxy_is_trusted_by_default() -> None:
    defaults: dict[str, Any] = {"_env_file": None}
    assert Settings(**defaults).trusted_proxies == []
    assert Settings(**defaults).login_client_rate_limit == "30/minute"
