"""Contract (Operations, notifications): a sender killed (kill -9) in the middle of sending an
e-mail loses nothing and sends nothing twice: its claim expires and another worker delivers the
message exactly once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from app.notifications.mail import message_id
from tests.faults.conftest import register
from tests.faults.harness import PrivatePostgres, Stack, stack
from tests.operations_support import SmtpServer

LEASE_SECONDS = 5


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def running(postgres: PrivatePostgres, smtp: SmtpServer) -> Iterator[Stack]:
    with stack(postgres, SMTP_URL=smtp.url, NOTIFICATION_LEASE_SECONDS=str(LEASE_SECONDS)) as started:
        started.start_worker()
        started.start_api()
        yield started
        assert started.unhandled_errors() == []


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_sender_killed_mid_send_has_its_email_delivered_exactly_once_by_the_next(
    running: Stack, smtp: SmtpServer
) -> None:
    with httpx.Client(base_url=running.base_url, timeout=30) as http:
        username = register(http)
    # The server takes the message and gives no answer until the sender is dead.
    smtp.handler.hold_next = True
    [(notification,)] = running.sql(
        "WITH n AS (INSERT INTO notifications (id, user_id, kind, subject, body, email_to, email_state,"
        " email_next_attempt_at) SELECT gen_random_uuid(), id, 'order_confirmed', 'Booking K7QX2M confirmed',"
        " 'Your booking K7QX2M is confirmed.', 'rao@example.com', 'pending', now() FROM users"
        " WHERE username = %(u)s RETURNING id) SELECT id FROM n",
        {"u": username},
    )
    running.sql("NOTIFY flightdesk_notifications")
    _wait(smtp.handler.holding.is_set, 30, "the sender to start sending")
    assert running.worker is not None
    running.worker.kill()
    time.sleep(0.5)
    smtp.handler.release.set()
    assert smtp.messages() == []
    [(state, attempts)] = running.sql(
        "SELECT email_state, email_attempts FROM notifications WHERE id = %(id)s", {"id": notification}
    )
    assert (state, attempts) == ("pending", 1)

    running.start_worker()
    _wait(lambda: len(smtp.messages()) >= 1, 60, "the next worker to deliver it")
    time.sleep(LEASE_SECONDS + 2)  # past another lease: nothing more is sent
    ids = Counter(m["Message-ID"] for m in smtp.messages())
    assert ids == {message_id(notification): 1}
    [(state, attempts)] = running.sql(
        "SELECT email_state, email_attempts FROM notifications WHERE id = %(id)s", {"id": notification}
    )
    assert (state, attempts) == ("sent", 2)
