"""The OpenAPI schema carries the contract: every answer's body has a typed model.

The frontend's types are generated from this schema (frontend/src/services/schema.d.ts), so a body
the schema leaves untyped is a type the frontend has to write by hand and keep in step.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import TypeAdapter

from app.context import AppContext
from app.flights.schemas import FlightOut
from app.models import BookingStatus, JobStatus
from app.search import index
from app.search.schemas import Itinerary
from tests.conftest import create_flight

# FastAPI's own ValidationError: the offending input and pydantic's error context, free-form by nature.
FREE_FORM = {
    "/components/schemas/ValidationError/properties/input",
    "/components/schemas/ValidationError/properties/ctx",
}


def schemas_in(node: Any, path: str = "", *, schema: bool = False) -> list[tuple[str, Any]]:
    """Every JSON schema in the document (path, schema): bodies, components and their parts."""
    found: list[tuple[str, Any]] = [(path, node)] if schema else []
    if isinstance(node, dict):
        for key, value in node.items():
            # components/schemas and a schema's properties: name -> schema
            if key in ("properties", "schemas") and isinstance(value, dict):
                found += [
                    item for k, v in value.items() for item in schemas_in(v, f"{path}/{key}/{k}", schema=True)
                ]
            elif key in ("anyOf", "oneOf", "allOf"):
                found += [
                    item
                    for i, v in enumerate(value)
                    for item in schemas_in(v, f"{path}/{key}/{i}", schema=True)
                ]
            else:
                is_schema = key in ("schema", "items", "additionalProperties")
                found += schemas_in(value, f"{path}/{key}", schema=is_schema)
    elif isinstance(node, list):
        found += [item for i, v in enumerate(node) for item in schemas_in(v, f"{path}/{i}")]
    return found


TYPED = ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const")


def says_nothing(schema: Any) -> bool:
    """A schema any value matches ({}, true, only a title), or an object whose properties are not named."""
    if schema is False:  # additionalProperties: false, a closed object
        return False
    if not isinstance(schema, dict) or not any(key in schema for key in TYPED):
        return True
    return schema.get("type") == "object" and "properties" not in schema


def test_every_documented_answer_has_a_typed_body(app: FastAPI) -> None:
    document = app.openapi()
    bodiless = [
        f"{method.upper()} {path} {code}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for code, answer in operation["responses"].items()
        if code != "204" and not [body for body in answer.get("content", {}).values() if "schema" in body]
    ]
    assert bodiless == []
    vague = [path for path, schema in schemas_in(document) if says_nothing(schema) and path not in FREE_FORM]
    assert vague == []


def test_booking_and_bulk_job_statuses_are_named_enums(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["BookingStatus"]["enum"] == [s.value for s in BookingStatus]
    assert schemas["JobStatus"]["enum"] == [s.value for s in JobStatus]
    for model in ("BookingOut", "BookingGroupOut"):
        assert schemas[model]["properties"]["status"] == {"$ref": "#/components/schemas/BookingStatus"}
    for model in ("BulkJobAccepted", "BulkJobStatus"):
        assert schemas[model]["properties"]["status"] == {"$ref": "#/components/schemas/JobStatus"}
    search = app.openapi()["paths"]["/api/v1/search"]["get"]["responses"]["200"]
    assert search["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/Itinerary"
    }


async def test_a_search_answer_is_exactly_the_documented_itinerary_list(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    day = (datetime.now(UTC) + timedelta(days=10)).replace(hour=6, minute=0, second=0, microsecond=0)
    await create_flight(
        client, admin_headers, flight_number="D1", source="Aville", destination="Cville", departure=day
    )
    await create_flight(
        client,
        admin_headers,
        flight_number="L1",
        source="Aville",
        destination="Bville",
        departure=day,
        price=100.5,
    )
    await create_flight(
        client,
        admin_headers,
        flight_number="L2",
        source="Bville",
        destination="Cville",
        departure=day + timedelta(hours=3),
        price=150.25,
    )
    await index.rebuild(context)
    adapter = TypeAdapter(list[Itinerary])
    # The pre-serialised fast path, and the declared endpoint (surrounding spaces are not "plain").
    for source in ("Aville", " Aville "):
        params = {"source": source, "destination": "Cville", "date": str(day.date()), "seats": "1"}
        response = await client.get("/api/v1/search", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body) == 2
        for itinerary in body:
            assert set(itinerary) == set(Itinerary.model_fields)
            for flight in itinerary["flights"]:
                assert set(flight) == set(FlightOut.model_fields)
        # The model reproduces the answer value for value: it describes the bytes, nothing more or less.
        assert json.loads(adapter.dump_json(adapter.validate_json(response.content))) == body
