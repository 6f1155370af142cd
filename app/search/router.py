"""GET /api/v1/search: the best itineraries between two airports (or cities) on a local date, under
optional filters and a sort; GET /api/v1/search/calendar: a month of first results (public)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.airports.service import spellings
from app.platform.errors import Invalid
from app.platform.shortcut import shortcut_route
from app.search.calendar import calendar as month_calendar
from app.search.cities import search_pairs
from app.search.filters import Filters
from app.search.schemas import (
    CalendarDay,
    CalendarQuery,
    Itinerary,
    SearchQuery,
    plain_calendar_params,
    plain_search_params,
)

if TYPE_CHECKING:
    from app.context import AppContext


async def _plain_search(request: Request) -> Response | None:
    """Plainly valid parameters skip FastAPI's parameter solving (model validation through the
    Query() machinery cost more CPU than the cached search itself); app/platform/shortcut.py."""
    params = plain_search_params(request.query_params)
    if params is None:
        return None
    source, destination, day, seats, filters = params
    return await _answer(
        request, source, destination, day, seats, None if filters is None else Filters.of(filters)
    )


router = APIRouter(prefix="/api/v1", tags=["search"], route_class=shortcut_route(_plain_search))


# The endpoint returns the pre-serialised bytes as a Response, which FastAPI sends untouched: the
# response_model only documents them (tests/test_fuzz_api.py checks that they conform).
@router.get("/search", response_model=list[Itinerary])
async def search(params: Annotated[SearchQuery, Query()], request: Request) -> Any:
    return await _answer(
        request, params.source, params.destination, params.date, params.seats, Filters.of(params)
    )


async def _answer(
    request: Request, source: str, destination: str, day: Any, seats: int, filters: Filters | None = None
) -> Response:
    # The context straight from app state, not through ContextDep (an async dependency): this also
    # answers the shortcut route, which runs instead of FastAPI's dependency solving.
    context: AppContext = request.app.state.context
    pairs = await _pairs(context, source, destination)
    body = await search_pairs(context, pairs, day, seats, filters)
    return Response(content=body, media_type="application/json")


async def _pairs(context: AppContext, source: str, destination: str) -> list[tuple[str, str]]:
    # Any spelling of an airport, or a city (all of its airports with flights).
    sources, destinations = await spellings(context, source), await spellings(context, destination)
    if sources == destinations:
        raise Invalid("source and destination must differ")
    return [(s, d) for s in sources for d in destinations if s != d]


async def calendar(params: Annotated[CalendarQuery, Query()], request: Request) -> Any:
    """One entry per day of the month: exactly the first result of /search for that day."""
    return await _month(request, params.source, params.destination, params.days(), params.seats)


async def _plain_calendar(request: Request) -> Response | None:
    params = plain_calendar_params(request.query_params)
    return None if params is None else await _month(request, *params)


async def _month(request: Request, source: str, destination: str, days: list[Any], seats: int) -> Response:
    context: AppContext = request.app.state.context
    pairs = await _pairs(context, source, destination)
    body = await month_calendar(context, pairs, days, seats)
    return Response(content=body, media_type="application/json")


# Its own shortcut (the search's reads /search's parameters).
router.add_api_route(
    "/search/calendar",
    calendar,
    methods=["GET"],
    response_model=list[CalendarDay],
    route_class_override=shortcut_route(_plain_calendar),
)
