"""GET /api/v1/search: the cheapest itineraries between two airports on a local date (public)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.api.deps import ContextDep
from app.schemas.search import SearchQuery
from app.services.search import query

router = APIRouter(prefix="/api/v1", tags=["search"])


@router.get(
    "/search",
    response_class=Response,
    responses={200: {"content": {"application/json": {"schema": {"type": "array", "items": {}}}}}},
)
async def search(params: Annotated[SearchQuery, Query()], context: ContextDep) -> Any:
    body = await query.search(context, params.source, params.destination, params.date, params.seats)
    return Response(content=body, media_type="application/json")
