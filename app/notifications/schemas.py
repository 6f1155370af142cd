from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.models import NotificationKind


class NotificationOut(BaseModel):
    id: uuid.UUID
    kind: NotificationKind
    order_id: uuid.UUID | None
    subject: str
    body: str
    created_at: datetime
    read: bool


class UnreadCount(BaseModel):
    unread: int


class MarkRead(BaseModel):
    """Which notifications to mark read; no ``ids`` (or no body): all of the user's."""

    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[uuid.UUID], Field(max_length=500)] | None = None
