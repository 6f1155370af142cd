"""Airports: the public list of names in use and suggestions, and the admin routes that set their
timezones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from app.accounts.deps import ContextDep, get_admin_user
from app.airports import service as airports
from app.airports.schemas import AirportOut, AirportTimezoneIn, PlaceOut, SuggestionOut
from app.platform.fields import PLAIN_TEXT, AirportName
from app.platform.responses import errors

router = APIRouter(prefix="/api/v1", tags=["airports"])
# Under the admin API's prefix, tag and answers, as the flights' admin routes.
admin_router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(get_admin_user)],
    responses=errors(401, 403, 503),
)


@router.get("/airports", response_model=list[str])
async def list_airports(context: ContextDep) -> Response:
    """Sorted names of every airport that appears in a flight (one spelling per airport)."""
    return Response(await airports.list_names(context), media_type="application/json")


@router.get("/airports/places", response_model=list[PlaceOut])
async def list_places(context: ContextDep) -> list[PlaceOut]:
    """Every airport in a flight with its code, city, country and timezone: what local times are
    shown in."""
    return await airports.places(context)


@router.get("/airports/suggest", response_model=list[SuggestionOut])
async def suggest(
    context: ContextDep,
    q: Annotated[str, Query(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$"), PLAIN_TEXT] = "",
) -> list[SuggestionOut]:
    """Up to 10 airports with flights and cities with such airports matching ``q``, best first."""
    return await airports.suggest(context, q)


# Named as when it lived beside the flights' admin routes: the OpenAPI operation id is unchanged.
@admin_router.get("/airports", response_model=list[AirportOut], name="list_airports")
async def list_airports_admin(context: ContextDep) -> list[AirportOut]:
    return await airports.list_all(context)


@admin_router.get("/airports/{name}", response_model=AirportOut, responses=errors(404))
async def get_airport(name: Annotated[AirportName, Path()], context: ContextDep) -> AirportOut:
    return await airports.get(context, name)


@admin_router.put("/airports/{name}", response_model=AirportOut, responses=errors(404))
async def set_airport_timezone(
    name: Annotated[AirportName, Path()], data: AirportTimezoneIn, context: ContextDep
) -> AirportOut:
    return await airports.set_timezone(context, name, data.timezone)
