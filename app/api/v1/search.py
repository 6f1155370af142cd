"""GET /api/v1/search: the cheapest itineraries between two airports on a local date (public)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.core.context import AppContext
from app.schemas.search import SearchQuery
from app.services.search import query

router = APIRouter(prefix="/api/v1", tags=["search"])


@router.get(
    "/search",
    response_class=Response,
    responses={200: {"content": {"application/json": {"schema": {"type": "array", "items": {}}}}}},
)
async def search(params: Annotated[SearchQuery, Query()], request: Request) -> Any:
    # The context straight from app state, not through the sync ContextDep: FastAPI runs a sync
    # dependency in its thread pool, a thread hop that cost more than the whole cached search.
    context: AppContext = request.app.state.context
    body = await query.search(context, params.source, params.destination, params.date, params.seats)
    return Response(content=body, media_type="application/json")
