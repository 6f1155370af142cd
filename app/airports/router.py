"""Airports: the names in use and their IANA timezones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.accounts.deps import ContextDep
from app.airports import service as airports
from app.airports.schemas import SuggestionOut

router = APIRouter(prefix="/api/v1", tags=["airports"])


@router.get("/airports", response_model=list[str])
async def list_airports(context: ContextDep) -> Response:
    """Sorted names of every airport that appears in a flight (one spelling per airport)."""
    return Response(await airports.list_names(context), media_type="application/json")


@router.get("/airports/suggest", response_model=list[SuggestionOut])
async def suggest(
    context: ContextDep, q: Annotated[str, Query(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
) -> list[SuggestionOut]:
    """Up to 10 airports with flights and cities with such airports matching ``q``, best first."""
    return await airports.suggest(context, q)
