"""POST /booking's shortcut for well-formed requests (app/booking/router.py) answers exactly as
FastAPI's own handling does: anything not plainly well-formed takes FastAPI's path and gets its
401/422, and a well-formed request books the same way whichever path it takes."""

from __future__ import annotations

import uuid

import httpx
import orjson

from tests.conftest import create_flight


async def _flight_id(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> str:
    created = await create_flight(client, admin_headers, flight_number=f"FP-{uuid.uuid4().hex[:5]}")
    return str(created["id"])


async def test_a_json_body_books_with_or_without_a_charset_and_not_without_a_content_type(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    flight_id = await _flight_id(client, admin_headers)
    body = orjson.dumps({"flight_id": flight_id, "seats": 1})
    left = []
    for content_type in ("application/json", "application/json; charset=utf-8"):
        headers = {**user_headers, "Content-Type": content_type}
        response = await client.post("/api/v1/booking", content=body, headers=headers)
        assert response.status_code == 201, response.text
        assert response.json()["flight_id"] == flight_id
        left.append(response.json()["flight"]["available_seats"])
    assert left[1] == left[0] - 1
    # FastAPI reads a body without a content type as text: its own 422, from either path.
    untyped = await client.post("/api/v1/booking", content=body, headers=user_headers)
    assert untyped.status_code == 422
    assert untyped.json()["detail"][0]["loc"] == ["body"]


async def test_requests_that_are_not_well_formed_get_fastapis_own_answers(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    flight_id = await _flight_id(client, admin_headers)
    good = {"flight_id": flight_id, "seats": 1}

    invalid_json = await client.post(
        "/api/v1/booking",
        content=b'{"flight_id": ',
        headers={**user_headers, "Content-Type": "application/json"},
    )
    assert invalid_json.status_code == 422
    assert invalid_json.json()["detail"][0]["type"] == "json_invalid"
    assert invalid_json.json()["detail"][0]["loc"][0] == "body"

    missing = await client.post("/api/v1/booking", json={"flight_id": flight_id}, headers=user_headers)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "seats"]

    long_key = await client.post(
        "/api/v1/booking", json=good, headers={**user_headers, "Idempotency-Key": "k" * 256}
    )
    assert long_key.status_code == 422
    assert long_key.json()["detail"][0]["loc"] == ["header", "idempotency-key"]

    for authorization in ("", "Bearer", "Basic abc", "Bearer not.a.token"):
        response = await client.post("/api/v1/booking", json=good, headers={"Authorization": authorization})
        assert response.status_code == 401, authorization
        assert response.headers["www-authenticate"] == "Bearer"

    # None of them took a seat.
    flight = (await client.get(f"/admin/flights/{flight_id}", headers=admin_headers)).json()
    assert flight["available_seats"] == flight["total_seats"]
