"""A traveller's notifications as the app shows them (newest first, read or not)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from app.models import Notification, NotificationKind
from app.notifications.schemas import NotificationOut

if TYPE_CHECKING:
    from app.context import AppContext


async def list_for(context: AppContext, user_id: uuid.UUID, *, limit: int) -> list[NotificationOut]:
    async with context.session_factory() as session:
        rows = (
            await session.scalars(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.created_at.desc(), Notification.id.desc())
                .limit(limit)
            )
        ).all()
    return [
        NotificationOut(
            id=n.id,
            kind=NotificationKind(n.kind),
            order_id=n.order_id,
            subject=n.subject,
            body=n.body,
            created_at=n.created_at,
            read=n.read_at is not None,
        )
        for n in rows
    ]


async def unread(context: AppContext, user_id: uuid.UUID) -> int:
    async with context.session_factory() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
    return int(count or 0)


async def mark_read(context: AppContext, user_id: uuid.UUID, ids: Sequence[uuid.UUID] | None) -> None:
    """Another user's ids are ignored (never an error that would reveal they exist)."""
    statement = (
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=func.now())
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(list(ids)))
    async with context.session_factory() as session, session.begin():
        await session.execute(statement)
