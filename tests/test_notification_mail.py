"""E-mailing notifications over a real SMTP server (aiosmtpd on a free port): each e-mail names its
order's reference, none is lost while the server is down (delivered within a minute of its
return), none is sent twice, a permanent refusal is given up."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.context import AppContext
from app.models import NotificationKind
from app.notifications import outbox
from app.notifications.mail import message_id, retry_delay
from app.notifications.outbox import Notice
from app.notifications.tasks import mail_loop
from tests import infra
from tests.conftest import create_flight, make_settings
from tests.operations_support import SmtpServer, insert_order, user_id
from tests.test_booking_support import booking_api


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@asynccontextmanager
async def sender(servers: infra.TestServers, smtp: SmtpServer, count: int = 1) -> AsyncIterator[AppContext]:
    """``count`` sender loops, as worker processes run them, with SMTP_URL set."""
    context = AppContext.create(
        make_settings(servers, smtp_url=smtp.url, notification_lease_seconds=6), pool_size=4
    )
    stop = asyncio.Event()
    loops = [asyncio.create_task(mail_loop(context, stop)) for _ in range(count)]
    try:
        yield context
    finally:
        stop.set()
        await asyncio.gather(*loops)
        await context.close()


async def _write(
    context: AppContext, owner: uuid.UUID, count: int, reference: str = "K7QX2M"
) -> list[uuid.UUID]:
    notices = [
        Notice(
            owner,
            None,
            NotificationKind.ORDER_CONFIRMED,
            f"Booking {reference} confirmed ({i})",
            f"Your booking {reference} is confirmed.",
            f"traveller{i}@example.com",
        )
        for i in range(count)
    ]
    async with context.engine.begin() as connection:
        await outbox.write_in(connection, notices, email_enabled=True)
        rows = await connection.execute(text("SELECT id FROM notifications WHERE user_id = :u"), {"u": owner})
    return [r.id for r in rows]


async def _states(context: AppContext, owner: uuid.UUID) -> list[Any]:
    async with context.engine.connect() as connection:
        return list(
            (
                await connection.execute(
                    text(
                        "SELECT id, email_state, email_attempts, email_sent_at FROM notifications"
                        " WHERE user_id = :u"
                    ),
                    {"u": owner},
                )
            ).all()
        )


def test_retries_back_off_from_5_seconds_doubling_to_a_60_second_cap() -> None:
    assert [retry_delay(n) for n in range(1, 8)] == [5, 10, 20, 40, 60, 60, 60]


async def test_a_notification_is_emailed_once_naming_its_reference_with_its_own_message_id(
    servers: infra.TestServers, smtp: SmtpServer, client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    owner = await user_id(client, user_headers)
    async with sender(servers, smtp) as context:
        [notification] = await _write(context, owner, 1)
        [mail] = await smtp.await_for(1, timeout=10)
        await asyncio.sleep(2.5)  # a few sweeps: nothing is sent again
        [(_, state, attempts, sent_at)] = await _states(context, owner)
    assert len(smtp.messages()) == 1
    assert mail["Message-ID"] == message_id(notification)
    assert mail["To"] == "traveller0@example.com"
    assert "K7QX2M" in mail["Subject"]
    assert "K7QX2M" in mail.get_payload()
    assert (state, attempts) == ("sent", 1) and sent_at is not None


async def test_while_the_smtp_server_is_down_nothing_is_lost_and_all_arrive_once_within_a_minute_of_return(
    servers: infra.TestServers, smtp: SmtpServer, client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    owner = await user_id(client, user_headers)
    smtp.stop()
    async with sender(servers, smtp) as context:
        written = await _write(context, owner, 25)
        await asyncio.sleep(8)  # a few failed tries while the server is down
        assert smtp.messages() == []
        assert {state for _, state, _, _ in await _states(context, owner)} == {"pending"}
        smtp.start()
        back = time.monotonic()
        mails = await smtp.await_for(len(written), timeout=60)
        delay = time.monotonic() - back
        await asyncio.sleep(2.5)
        states = await _states(context, owner)
    ids = Counter(m["Message-ID"] for m in smtp.messages())
    assert len(mails) == len(written), f"{len(mails)} of {len(written)} delivered within a minute"
    assert delay < 60
    assert set(ids) == {message_id(n) for n in written} and set(ids.values()) == {1}
    assert {state for _, state, _, _ in states} == {"sent"}
    assert min(attempts for _, _, attempts, _ in states) >= 2


async def test_a_permanent_refusal_is_given_up_as_failed_and_stays_in_the_app(
    servers: infra.TestServers, smtp: SmtpServer, client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    owner = await user_id(client, user_headers)
    smtp.handler.refuse_with = "550 5.1.1 no such mailbox"
    async with sender(servers, smtp) as context:
        await _write(context, owner, 1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (await _states(context, owner))[0][1] == "pending":
            await asyncio.sleep(0.1)
        [(_, state, attempts, _)] = await _states(context, owner)
    assert (state, attempts) == ("failed", 1)
    listed = await client.get("/api/v1/notifications", headers=user_headers)
    assert len(listed.json()) == 1


async def test_two_senders_side_by_side_send_each_notification_once(
    servers: infra.TestServers, smtp: SmtpServer, client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    owner = await user_id(client, user_headers)
    async with sender(servers, smtp, count=3) as context:
        written = await _write(context, owner, 120)
        await smtp.await_for(len(written), timeout=30)
        await asyncio.sleep(2.5)
    ids = Counter(m["Message-ID"] for m in smtp.messages())
    assert len(ids) == len(written) and set(ids.values()) == {1}


async def test_an_airline_cancel_emails_each_order_contact_naming_its_reference(
    servers: infra.TestServers,
    smtp: SmtpServer,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    context: AppContext,
) -> None:
    departure = (datetime.now(UTC) + timedelta(days=4)).replace(microsecond=0)
    flight = await create_flight(client, admin_headers, departure=departure)
    owner = await user_id(client, user_headers)
    orders = [
        await insert_order(context, owner, [(flight["id"], 0, 0)], email=f"o{i}@example.com")
        for i in range(3)
    ]
    async with booking_api(servers, smtp_url=smtp.url) as api, sender(servers, smtp):
        changed = time.monotonic()
        response = await api.http.post(f"/admin/flights/{flight['id']}/cancel", headers=admin_headers)
        assert response.status_code == 200
        mails = await smtp.await_for(3, timeout=15)
        delay = time.monotonic() - changed
    assert delay < 5
    by_address = {m["To"]: m for m in mails}
    for order in orders:
        mail = by_address[order["email"]]
        assert order["reference"] in mail["Subject"]
        assert "cancelled" in mail.get_payload()
