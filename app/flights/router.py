"""Admin API: single-flight management. Airport timezones live in app/airports/router.py, bulk upload
in app/bulk_import/router.py."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.accounts.deps import ContextDep, get_admin_user
from app.flights import service as flights
from app.flights.schemas import FlightFilter, FlightIn, FlightOut, FlightPage
from app.platform.responses import errors

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(get_admin_user)],
    responses=errors(401, 403, 503),
)


@router.post(
    "/flights",
    status_code=status.HTTP_201_CREATED,
    response_model=FlightOut,
    responses=errors(409, e409="A flight with this number and departure exists"),
)
async def create_flight(data: FlightIn, context: ContextDep) -> FlightOut:
    return await flights.create(context, data)


@router.get("/flights", response_model=FlightPage)
async def list_flights(context: ContextDep, filters: Annotated[FlightFilter, Query()]) -> FlightPage:
    return await flights.list_page(context, filters)


@router.get("/flights/{flight_id}", response_model=FlightOut, responses=errors(404))
async def get_flight(flight_id: uuid.UUID, context: ContextDep) -> FlightOut:
    return await flights.get(context, flight_id)


@router.put(
    "/flights/{flight_id}",
    response_model=FlightOut,
    responses=errors(404, 409, e409="Number and departure taken, or fewer seats than are sold"),
)
async def update_flight(flight_id: uuid.UUID, data: FlightIn, context: ContextDep) -> FlightOut:
    return await flights.update(context, flight_id, data)


@router.delete(
    "/flights/{flight_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(404, 409, e409="The flight has bookings (active or past): cancel it instead"),
)
async def delete_flight(flight_id: uuid.UUID, context: ContextDep) -> Response:
    await flights.delete_flight(context, flight_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
