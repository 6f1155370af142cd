"""Admin operations API: manifests, airline cancellations, route figures, departures."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.accounts.deps import ContextDep, get_admin_user
from app.operations import cancel as cancelling
from app.operations import manifest as manifests
from app.operations import reports
from app.operations.schemas import (
    CancellationImpact,
    CancelOut,
    DeparturesOut,
    ManifestOut,
    RouteRange,
    RoutesReport,
)
from app.platform.responses import errors

router = APIRouter(
    prefix="/admin",
    tags=["admin", "operations"],
    dependencies=[Depends(get_admin_user)],
    responses=errors(401, 403, 503),
)


@router.get("/flights/{flight_id}/manifest", response_model=ManifestOut, responses=errors(404))
async def flight_manifest(flight_id: uuid.UUID, context: ContextDep) -> ManifestOut:
    return await manifests.manifest(context, flight_id)


@router.get(
    "/flights/{flight_id}/cancellation-impact", response_model=CancellationImpact, responses=errors(404)
)
async def cancellation_impact(flight_id: uuid.UUID, context: ContextDep) -> CancellationImpact:
    return await cancelling.impact(context, flight_id)


@router.post("/flights/{flight_id}/cancel", response_model=CancelOut, responses=errors(404))
async def cancel_flight(flight_id: uuid.UUID, context: ContextDep) -> CancelOut:
    """The airline cancels the flight. Repeating it answers 200 with zero counts and changed=false."""
    return await cancelling.cancel(context, flight_id)


@router.get("/operations/routes", response_model=RoutesReport)
async def route_figures(context: ContextDep, days: Annotated[RouteRange, Query()]) -> RoutesReport:
    """Per route and UTC day of departure; at most 62 days (422 otherwise). Default: the next 7 days."""
    assert days.date_from is not None and days.date_to is not None
    return await reports.routes(context, days.date_from, days.date_to)


@router.get("/operations/departures", response_model=DeparturesOut)
async def upcoming_departures(
    context: ContextDep, hours: Annotated[int, Query(ge=1, le=168)] = 24
) -> DeparturesOut:
    return await reports.departures(context, hours)
