"""Writing to the notification outbox.

Invariant: a notification is inserted in the same transaction as the change it tells of, so it
exists if and only if the change committed. Callers pass the connection of their transaction;
nothing here commits. Whether it is e-mailed is decided here, once: with an address and
``SMTP_URL`` set it starts ``pending`` (the sender picks it up), otherwise ``none`` (in the app only).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models import EmailState, NotificationKind
from app.platform.db import driver_of


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification to a user, about one of their orders (or none)."""

    user_id: uuid.UUID
    order_id: uuid.UUID | None
    kind: NotificationKind
    subject: str
    body: str
    email_to: str | None = None


# The channel a sender LISTENs on: NOTIFY is transactional, so it wakes the sender at the commit
# of the change (never before, never for a rolled-back one). One statement: no extra round trip.
CHANNEL = "flightdesk_notifications"

_INSERT = (
    "WITH inserted AS ("
    " INSERT INTO notifications (id, user_id, order_id, kind, subject, body, email_to, email_state,"
    " email_next_attempt_at)"
    " SELECT gen_random_uuid(), n.user_id, n.order_id, n.kind, n.subject, n.body, n.email_to, n.state,"
    " CASE WHEN n.state = 'pending' THEN now() END"
    " FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])"
    " AS n(user_id, order_id, kind, subject, body, email_to, state)"
    " RETURNING email_state)"
    " SELECT pg_notify('flightdesk_notifications', '')"
    " WHERE EXISTS (SELECT 1 FROM inserted WHERE email_state = 'pending')"
)


def _columns(notices: Sequence[Notice], *, email_enabled: bool) -> list[list[object]]:
    def state(notice: Notice) -> str:
        return (EmailState.PENDING if email_enabled and notice.email_to else EmailState.NONE).value

    return [
        [n.user_id for n in notices],
        [n.order_id for n in notices],
        [n.kind.value for n in notices],
        [n.subject for n in notices],
        [n.body for n in notices],
        [n.email_to for n in notices],
        [state(n) for n in notices],
    ]


async def write(conn: asyncpg.Connection, notices: Sequence[Notice], *, email_enabled: bool) -> None:
    """Insert ``notices`` on a raw asyncpg connection, inside the caller's transaction."""
    if notices:
        await conn.execute(_INSERT, *_columns(notices, email_enabled=email_enabled))


async def write_in(
    session: AsyncSession | AsyncConnection, notices: Sequence[Notice], *, email_enabled: bool
) -> None:
    """Insert ``notices`` through SQLAlchemy, inside the caller's transaction."""
    if not notices:
        return
    # The asyncpg connection under the session's: the same statement as ``write``, one round trip.
    await write(await driver_of(session), notices, email_enabled=email_enabled)
