"""Booking endpoints (contract: Booking). The workflow lives in workflow.py."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.openapi.constants import REF_PREFIX
from fastapi.responses import Response
from pydantic import ValidationError

from app.accounts.deps import NOT_AUTHENTICATED, ContextDep, CurrentUser, oauth2_scheme, user_id_of
from app.booking import replies, workflow
from app.booking.idempotency import MAX_KEY_LENGTH
from app.booking.schemas import BookingGroupOut, BookingIn, BookingOut
from app.platform.fields import Text
from app.platform.responses import errors
from app.platform.shortcut import shortcut_route

if TYPE_CHECKING:
    from app.context import AppContext

router = APIRouter(prefix="/api/v1", tags=["booking"], responses=errors(401, 503))


async def _token_subject(
    context: ContextDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> uuid.UUID:
    """The token's user id; POST /booking loads the user together with the flights (one round trip).
    async: FastAPI runs a plain ``def`` dependency in its thread pool, a hop per booking."""
    user_id = user_id_of(context.settings, token)
    if user_id is None:
        raise NOT_AUTHENTICATED
    return user_id


TokenSubject = Annotated[uuid.UUID, Depends(_token_subject)]

_SAME_BODY: dict[str, Any] = {"model": BookingOut | BookingGroupOut}

# FastAPI's validation error for a malformed request; {"detail": "..."} for the service's refusals.
_INVALID_BODY = {"anyOf": [{"$ref": REF_PREFIX + "HTTPValidationError"}, {"$ref": REF_PREFIX + "ErrorOut"}]}
_INVALID: dict[str, Any] = {
    "description": "Invalid request, or an Idempotency-Key reused with another body",
    "content": {"application/json": {"schema": _INVALID_BODY}},
}


async def _book(
    context: AppContext, user_id: uuid.UUID, data: BookingIn, idempotency_key: str | None
) -> Response:
    # Shielded: a client that hangs up must not stop the workflow between two of its steps.
    reply = await asyncio.shield(workflow.book(context, user_id, data, idempotency_key))
    return Response(orjson.dumps(reply.body), status_code=reply.status_code, media_type="application/json")


async def create_booking(
    data: BookingIn,
    context: ContextDep,
    user_id: TokenSubject,
    idempotency_key: Annotated[Text | None, Header(min_length=1, max_length=MAX_KEY_LENGTH)] = None,
) -> Response:
    return await _book(context, user_id, data, idempotency_key)


async def _well_formed_booking(request: Request) -> Response | None:
    """POST /booking is the hottest write: a well-formed request skips FastAPI's dependency solver
    (app/platform/shortcut.py). Taken here only when it would pass every check of the declared
    endpoint — a Bearer token that verifies, a JSON content type, a body BookingIn accepts, a valid
    Idempotency-Key — so both paths give the same answer (docs/decisions.md)."""
    accepted = await _well_formed(request)
    return None if accepted is None else await _book(request.app.state.context, *accepted)


async def _well_formed(request: Request) -> tuple[uuid.UUID, BookingIn, str | None] | None:
    headers = request.headers
    scheme, _, token = headers.get("authorization", "").partition(" ")
    content_type = headers.get("content-type", "")
    key = headers.get("idempotency-key")
    if (
        scheme.lower() != "bearer"
        or not token
        or content_type.partition(";")[0].strip().lower() != "application/json"
        # The declared endpoint's checks of the key; a header (latin-1) holds no surrogate.
        or (key is not None and not (1 <= len(key) <= MAX_KEY_LENGTH and "\x00" not in key))
    ):
        return None
    user_id = user_id_of(request.app.state.context.settings, token)
    if user_id is None:
        return None
    try:
        data = BookingIn.model_validate_json(await request.body())
    except ValidationError:
        return None
    return user_id, data, key


router.add_api_route(
    "/booking",
    create_booking,
    methods=["POST"],
    status_code=201,
    response_model=BookingOut | BookingGroupOut,
    responses={
        402: {**_SAME_BODY, "description": "Payment failed: the booking (or itinerary) is FAILED"},
        **errors(404, 409, e404="Unknown flight", e409="Not enough seats, or the flight has departed"),
        422: _INVALID,
    },
    route_class_override=shortcut_route(_well_formed_booking),
)


@router.get("/bookings", response_model=list[BookingOut])
async def list_bookings(
    context: ContextDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[BookingOut]:
    return await replies.list_for_user(context, user.id, limit=limit, offset=offset)


@router.delete(
    "/bookings/{booking_id}",
    response_model=BookingOut,
    responses=errors(404, 409, e409="Not CONFIRMED, or the flight has departed"),
)
async def cancel_booking(booking_id: uuid.UUID, context: ContextDep, user: CurrentUser) -> BookingOut:
    return await asyncio.shield(workflow.cancel(context, user, booking_id))
