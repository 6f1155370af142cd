"""A traveller's notifications: the outbox as the app shows it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from app.accounts.deps import ContextDep, CurrentUser
from app.notifications import service
from app.notifications.schemas import MarkRead, NotificationOut, UnreadCount
from app.platform.responses import errors

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], responses=errors(401, 503))


@router.get("", response_model=list[NotificationOut])
async def list_notifications(
    context: ContextDep, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> list[NotificationOut]:
    return await service.list_for(context, user.id, limit=limit)


@router.get("/unread-count", response_model=UnreadCount)
async def unread_count(context: ContextDep, user: CurrentUser) -> UnreadCount:
    return UnreadCount(unread=await service.unread(context, user.id))


@router.post("/read", status_code=status.HTTP_204_NO_CONTENT)
async def mark_read(
    context: ContextDep, user: CurrentUser, body: Annotated[MarkRead | None, Body()] = None
) -> Response:
    await service.mark_read(context, user.id, body.ids if body else None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
