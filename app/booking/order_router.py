"""Order endpoints (contract: "Orders"). The rules live in orders.py."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from pydantic import StringConstraints, ValidationError

from app.accounts.deps import ContextDep, CurrentUser, user_id_of
from app.accounts.router import client_address
from app.booking import orders
from app.booking.idempotency import MAX_KEY_LENGTH
from app.booking.order_schemas import CancellationQuote, Order, OrderIn
from app.booking.replies import Reply
from app.booking.router import _INVALID, TokenSubject
from app.platform.fields import PLAIN_TEXT, Text
from app.platform.responses import errors
from app.platform.shortcut import shortcut_route

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], responses=errors(503))

_SAME_BODY: dict[str, Any] = {"model": Order}

Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16), PLAIN_TEXT]
FamilyName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256), PLAIN_TEXT
]


def _response(reply: Reply) -> Response:
    return Response(orjson.dumps(reply.body), status_code=reply.status_code, media_type="application/json")


async def create_order(
    data: OrderIn,
    context: ContextDep,
    user_id: TokenSubject,
    idempotency_key: Annotated[Text | None, Header(min_length=1, max_length=MAX_KEY_LENGTH)] = None,
) -> Response:
    # Shielded: a client that hangs up must not stop the order between two of its steps.
    return _response(await asyncio.shield(orders.create(context, user_id, data, idempotency_key)))


async def _well_formed_order(request: Request) -> Response | None:
    """As POST /booking's shortcut (app/booking/router.py): a request that passes every check of the
    declared endpoint skips FastAPI's dependency solver; anything else gets the declared handling."""
    headers = request.headers
    scheme, _, token = headers.get("authorization", "").partition(" ")
    content_type = headers.get("content-type", "")
    key = headers.get("idempotency-key")
    if (
        scheme.lower() != "bearer"
        or not token
        or content_type.partition(";")[0].strip().lower() != "application/json"
        or (key is not None and not (1 <= len(key) <= MAX_KEY_LENGTH and "\x00" not in key))
    ):
        return None
    context = request.app.state.context
    user_id = user_id_of(context.settings, token)
    if user_id is None:
        return None
    try:
        data = OrderIn.model_validate_json(await request.body())
    except ValidationError:
        return None
    return _response(await asyncio.shield(orders.create(context, user_id, data, key)))


router.add_api_route(
    "",
    create_order,
    methods=["POST"],
    status_code=201,
    response_model=Order,
    responses={
        402: {**_SAME_BODY, "description": "Payment failed: the order is FAILED and holds nothing"},
        **errors(
            401,
            404,
            409,
            e404="Unknown flight",
            e409="Not enough seats, a flight departed, departs within the cut-off or was cancelled",
        ),
        422: _INVALID,
    },
    route_class_override=shortcut_route(_well_formed_order),
    summary="Create Order",
)


@router.get("", response_model=list[Order], responses=errors(401))
async def list_orders(
    context: ContextDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[Order]:
    return await orders.list_for_user(context, user.id, limit=limit, offset=offset)


# Before /{order_id}: "lookup" is no order id.
@router.get(
    "/lookup",
    response_model=Order,
    responses=errors(404, 429, e404="No order with this reference and family name"),
)
async def lookup_order(
    request: Request,
    context: ContextDep,
    reference: Annotated[Reference, Query()],
    family_name: Annotated[FamilyName, Query()],
) -> Order:
    await request.app.state.rate_limits.hit_order_lookup(await client_address(request))
    return await orders.lookup(context, reference, family_name)


@router.get("/{order_id}", response_model=Order, responses=errors(401, 404))
async def get_order(order_id: uuid.UUID, context: ContextDep, user: CurrentUser) -> Order:
    return await orders.get(context, user.id, order_id)


@router.post(
    "/{order_id}/pay",
    response_model=Order,
    responses={
        402: {**_SAME_BODY, "description": "Payment declined: the order stays HELD until its deadline"},
        **errors(
            401,
            404,
            409,
            e409="Not HELD, the hold expired, or a flight is past the cut-off (the hold is then released)",
        ),
    },
)
async def pay_order(order_id: uuid.UUID, context: ContextDep, user: CurrentUser) -> Response:
    return _response(await asyncio.shield(orders.pay(context, user.id, order_id)))


@router.post(
    "/{order_id}/cancel",
    response_model=Order,
    responses=errors(401, 404, 409, e409="Not CONFIRMED or HELD, or the trip has departed"),
)
async def cancel_order(order_id: uuid.UUID, context: ContextDep, user: CurrentUser) -> Order:
    return await asyncio.shield(orders.cancel(context, user.id, order_id))


@router.get(
    "/{order_id}/cancellation-quote",
    response_model=CancellationQuote,
    responses=errors(401, 404, 409, e409="Not CONFIRMED or HELD, or the trip has departed"),
)
async def cancellation_quote(
    order_id: uuid.UUID, context: ContextDep, user: CurrentUser
) -> CancellationQuote:
    return await orders.quote(context, user.id, order_id)
