"""Booking endpoints (contract: Booking). The workflow lives in app/services/booking."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response

from app.api.deps import ContextDep, CurrentUser, oauth2_scheme
from app.core.security import InvalidToken, decode_access_token
from app.schemas.booking import BookingGroupOut, BookingIn, BookingOut
from app.services import booking
from app.services.booking.idempotency import MAX_KEY_LENGTH
from app.services.booking.workflow import NOT_AUTHENTICATED

router = APIRouter(prefix="/api/v1", tags=["booking"])


async def _token_subject(
    context: ContextDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> uuid.UUID:
    """The token's user id; POST /booking loads the user together with the flights (one round trip).
    async: FastAPI runs a plain ``def`` dependency in its thread pool, a hop per booking."""
    if not token:
        raise NOT_AUTHENTICATED
    try:
        return decode_access_token(
            token, secret=context.settings.resolved_jwt_secret(), algorithm=context.settings.jwt_algorithm
        )
    except InvalidToken:
        raise NOT_AUTHENTICATED from None


TokenSubject = Annotated[uuid.UUID, Depends(_token_subject)]

_SAME_BODY: dict[str, Any] = {"model": BookingOut | BookingGroupOut}


@router.post(
    "/booking",
    status_code=201,
    response_model=BookingOut | BookingGroupOut,
    responses={
        402: {**_SAME_BODY, "description": "Payment failed: the booking (or itinerary) is FAILED"},
        404: {"description": "Unknown flight"},
        409: {"description": "Not enough seats, or the flight has departed"},
        422: {"description": "Invalid request, or an Idempotency-Key reused with another body"},
    },
)
async def create_booking(
    data: BookingIn,
    context: ContextDep,
    user_id: TokenSubject,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=MAX_KEY_LENGTH)] = None,
) -> Response:
    # Shielded: a client that hangs up must not stop the workflow between two of its steps.
    reply = await asyncio.shield(booking.book(context, user_id, data, idempotency_key))
    return Response(orjson.dumps(reply.body), status_code=reply.status_code, media_type="application/json")


@router.get("/bookings", response_model=list[BookingOut])
async def list_bookings(
    context: ContextDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[BookingOut]:
    return await booking.list_for_user(context, user.id, limit=limit, offset=offset)


@router.delete("/bookings/{booking_id}", response_model=BookingOut)
async def cancel_booking(booking_id: uuid.UUID, context: ContextDep, user: CurrentUser) -> BookingOut:
    return await asyncio.shield(booking.cancel(context, user, booking_id))
