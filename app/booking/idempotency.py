"""Idempotency-Key for POST /booking: the same user repeating a key gets the first answer again.

The key is claimed in the transaction that writes the PENDING rows, with the booking ids; the final
answer is recorded once known. A request that created no booking (404, 409, 422) claims nothing, so
repeating it simply runs it again. Keys are purged after KEY_RETENTION by the reaper.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select

from app.booking.replies import Reply, reply_from_database
from app.booking.schemas import BookingIn
from app.models import IdempotencyKey
from app.platform.errors import Conflict, Invalid

if TYPE_CHECKING:
    from app.context import AppContext

KEY_RETENTION = timedelta(hours=48)
MAX_KEY_LENGTH = 255


def fingerprint(request: BookingIn) -> str:
    canonical = orjson.dumps(request.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def stored(
    context: AppContext, user_id: uuid.UUID, key: str, request_hash: str
) -> Reply | dict[str, Any] | None:
    """What the user's key holds: None when the key is new; the recorded answer; or, while the
    first request has not recorded one (still running, or its process died), the body it stored
    when it started. The same key with another request body is refused (422)."""
    async with context.session_factory() as session:
        row = (
            await session.execute(
                select(
                    IdempotencyKey.request_hash, IdempotencyKey.response_status, IdempotencyKey.response_body
                ).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            )
        ).first()
    if row is None:
        return None
    stored_hash, status_code, body = row
    if stored_hash != request_hash:
        raise Invalid("This Idempotency-Key was already used with a different request body")
    if status_code is not None:
        return Reply(int(status_code), body)
    return body if isinstance(body, dict) else {}


async def replay(context: AppContext, user_id: uuid.UUID, key: str, request_hash: str) -> Reply | None:
    """The first answer for this key, or None when the key is new."""
    body = await stored(context, user_id, key, request_hash)
    if body is None or isinstance(body, Reply):
        return body
    # The first request is still running, or its process died before recording the answer.
    booking_ids = [uuid.UUID(value) for value in body.get("booking_ids", [])]
    answer = await reply_from_database(context, booking_ids) if booking_ids else None
    if answer is None:
        raise Conflict("A request with this Idempotency-Key is still in progress")
    return answer
