"""E-mailing the outbox: claim due notifications, send them over SMTP, mark them sent.

Invariants (docs/operations.md, "E-mail"):
- Nothing is lost: a notification stays ``pending`` until the SMTP server accepted it (then
  ``sent``) or it is given up (``failed``, kept in the app). A sender that dies leaves its claims
  to expire (``notification_lease_seconds``); any sender then retakes them.
- At most one delivery, with one residual window: a sender killed between the server's 250 and
  its ``sent`` commit (one local round trip) has the message sent again after the lease, with the
  same Message-ID (the notification's id), which mail stores and clients use to drop duplicates.
  A claim is a lease: a sender starts no message after the first third of its lease, and every
  SMTP step times out within a sixth of it, so a claim never outlives its sender's use of it.
- Retries back off exponentially, 5 s doubling to 60 s, so delivery resumes within a minute of
  the server's return; a notification still unsent 24 h after it was written, or refused with a
  5xx (a permanent refusal), is ``failed``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote, urlsplit

import aiosmtplib
import asyncpg
import structlog

from app.platform.db import raw_connection

if TYPE_CHECKING:
    from app.context import AppContext

log = structlog.get_logger()

BATCH = 200
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 60.0
GIVE_UP_AFTER = timedelta(hours=24)

_CLAIM = """
UPDATE notifications n SET email_attempts = n.email_attempts + 1,
       email_next_attempt_at = now() + make_interval(secs => $2)
FROM (SELECT id FROM notifications
      WHERE email_state = 'pending' AND email_next_attempt_at <= now()
      ORDER BY email_next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
WHERE n.id = due.id
RETURNING n.id, n.email_to, n.subject, n.body, n.email_attempts, n.created_at
"""
_SENT = (
    "UPDATE notifications SET email_state = 'sent', email_sent_at = now(), email_next_attempt_at = NULL"
    " WHERE id = $1 AND email_state = 'pending'"
)
_RETRY = (
    "UPDATE notifications SET email_next_attempt_at = now() + make_interval(secs => d.delay)"
    " FROM unnest($1::uuid[], $2::float8[]) AS d(id, delay)"
    " WHERE notifications.id = d.id AND email_state = 'pending'"
)
_FAIL = (
    "UPDATE notifications SET email_state = 'failed', email_next_attempt_at = NULL"
    " WHERE id = ANY($1::uuid[]) AND email_state = 'pending'"
)


class Claimed(NamedTuple):
    id: uuid.UUID
    email_to: str
    subject: str
    body: str
    email_attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    hostname: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        """``smtp://[user:password@]host[:port]`` (25), ``smtps://...`` (TLS, 465)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
        tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if tls else 25),
            use_tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` tries: 5, 10, 20, 40, 60, 60, ..."""
    return min(FIRST_RETRY_SECONDS * 2.0 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)


def message_id(notification_id: uuid.UUID) -> str:
    """The same for every try of a notification: a repeat is recognisable as one."""
    return f"<{notification_id}@flightdesk.notifications>"


def compose(sender: str, row: Any) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.email_to
    message["Subject"] = row.subject
    message["Message-ID"] = message_id(row.id)
    message["Date"] = format_datetime(row.created_at.astimezone(UTC))
    message["X-FlightDesk-Notification"] = str(row.id)
    message.set_content(row.body)
    return message


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in exc.recipients)
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500


class _Lane:
    """One SMTP connection of a sender, reused while there is mail to send."""

    def __init__(self, target: SmtpTarget, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self.smtp: aiosmtplib.SMTP | None = None

    async def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except Exception:
                smtp.close()

    async def connected(self) -> aiosmtplib.SMTP:
        if self.smtp is not None and self.smtp.is_connected:
            return self.smtp
        t = self.target
        smtp = aiosmtplib.SMTP(
            hostname=t.hostname,
            port=t.port,
            use_tls=t.use_tls,
            username=t.username,
            password=t.password,
            timeout=self.timeout,
        )
        await smtp.connect()
        self.smtp = smtp
        return smtp


class MailSender:
    """One process's sender: ``LANES`` SMTP connections sending a claimed batch side by side (an
    SMTP transaction is four round trips; one connection alone waits on them)."""

    LANES = 4

    def __init__(self, context: AppContext) -> None:
        assert context.settings.smtp_url
        self.context = context
        self.lease = context.settings.notification_lease_seconds
        target = SmtpTarget.parse(context.settings.smtp_url)
        self.lanes = [_Lane(target, self.lease / 6) for _ in range(self.LANES)]

    @property
    def connected(self) -> bool:
        return any(lane.smtp is not None for lane in self.lanes)

    async def close(self) -> None:
        for lane in self.lanes:
            await lane.close()

    async def run_once(self) -> int:
        """Claim one batch of due notifications and send it; returns how many were claimed."""
        async with raw_connection(self.context.engine) as connection:
            # Committed before the first byte goes out: the lease is what protects the claim.
            rows = [Claimed(*r) for r in await connection.fetch(_CLAIM, BATCH, self.lease)]
            if not rows:
                return 0
            batch = _Batch(connection, time.monotonic())
            await asyncio.gather(
                *(self._send(lane, rows[k :: len(self.lanes)], batch) for k, lane in enumerate(self.lanes))
            )
            if batch.retry:
                await connection.execute(_RETRY, list(batch.retry), list(batch.retry.values()))
            if batch.failed:
                await connection.execute(_FAIL, batch.failed)
        return len(rows)

    async def _send(self, lane: _Lane, rows: list[Claimed], batch: _Batch) -> None:
        for index, row in enumerate(rows):
            if time.monotonic() - batch.claimed_at > self.lease / 3:
                # Too late to start within the lease: back to the queue, at once.
                batch.retry.update({r.id: 0.0 for r in rows[index:]})
                return
            try:
                smtp = await lane.connected()
                await smtp.send_message(compose(self.context.settings.smtp_from, row))
            except Exception as exc:
                old = datetime.now(UTC) - row.created_at > GIVE_UP_AFTER
                if _permanent(exc) or old:
                    batch.failed.append(row.id)
                    log.warning("notification_email_failed", notification=str(row.id), error=repr(exc))
                    continue
                log.info("notification_email_retry", notification=str(row.id), error=repr(exc))
                await lane.close()
                # The server is unreachable or broken: the rest of the lane's share waits too.
                batch.retry.update({r.id: retry_delay(r.email_attempts) for r in rows[index:]})
                return
            # Accepted (250): recorded at once, the one window a kill could repeat a message.
            async with batch.lock:
                await batch.connection.execute(_SENT, row.id)


class _Batch:
    def __init__(self, connection: asyncpg.Connection, claimed_at: float) -> None:
        self.connection = connection
        self.claimed_at = claimed_at
        # One statement at a time on the batch's connection.
        self.lock = asyncio.Lock()
        self.retry: dict[uuid.UUID, float] = {}
        self.failed: list[uuid.UUID] = []
