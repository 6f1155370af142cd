"""GET /api/v1/search: the cheapest itineraries between two airports on a local date (public)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.airports.service import spellings
from app.platform.errors import Invalid
from app.platform.shortcut import shortcut_route
from app.search.cities import search_pairs
from app.search.schemas import Itinerary, SearchQuery, plain_search_params

if TYPE_CHECKING:
    from app.context import AppContext


async def _plain_search(request: Request) -> Response | None:
    """Plainly valid parameters skip FastAPI's parameter solving (model validation through the
    Query() machinery cost more CPU than the cached search itself); app/platform/shortcut.py."""
    params = plain_search_params(request.query_params)
    return None if params is None else await _answer(request, *params)


router = APIRouter(prefix="/api/v1", tags=["search"], route_class=shortcut_route(_plain_search))


# The endpoint returns the pre-serialised bytes as a Response, which FastAPI sends untouched: the
# response_model only documents them (tests/test_fuzz_api.py checks that they conform).
@router.get("/search", response_model=list[Itinerary])
async def search(params: Annotated[SearchQuery, Query()], request: Request) -> Any:
    return await _answer(request, params.source, params.destination, params.date, params.seats)


async def _answer(request: Request, source: str, destination: str, day: Any, seats: int) -> Response:
    # The context straight from app state, not through ContextDep (an async dependency): this also
    # answers the shortcut route, which runs instead of FastAPI's dependency solving.
    context: AppContext = request.app.state.context
    # Any spelling of an airport, or a city (all of its airports with flights).
    sources, destinations = await spellings(context, source), await spellings(context, destination)
    if sources == destinations:
        raise Invalid("source and destination must differ")
    pairs = [(s, d) for s in sources for d in destinations if s != d]
    body = await search_pairs(context, pairs, day, seats)
    return Response(content=body, media_type="application/json")
