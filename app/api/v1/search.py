"""GET /api/v1/search: the cheapest itineraries between two airports on a local date (public)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute

from app.core.context import AppContext
from app.schemas.search import SearchQuery, plain_search_params
from app.services.search import query


class _SearchRoute(APIRoute):
    """Plainly valid parameters skip FastAPI's parameter solving (model validation through the
    Query() machinery cost more CPU than the cached search itself); anything else takes the
    declared endpoint below, so the OpenAPI schema and every 422 body stay FastAPI's own."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        declared = super().get_route_handler()

        async def handler(request: Request) -> Response:
            params = plain_search_params(request.query_params)
            if params is None:
                return await declared(request)
            return await _answer(request, *params)

        return handler


router = APIRouter(prefix="/api/v1", tags=["search"], route_class=_SearchRoute)


@router.get(
    "/search",
    response_class=Response,
    responses={200: {"content": {"application/json": {"schema": {"type": "array", "items": {}}}}}},
)
async def search(params: Annotated[SearchQuery, Query()], request: Request) -> Any:
    return await _answer(request, params.source, params.destination, params.date, params.seats)


async def _answer(request: Request, source: str, destination: str, day: Any, seats: int) -> Response:
    # The context straight from app state, not through the sync ContextDep: FastAPI runs a sync
    # dependency in its thread pool, a thread hop that cost more than the whole cached search.
    context: AppContext = request.app.state.context
    body = await query.search(context, source, destination, day, seats)
    return Response(content=body, media_type="application/json")
