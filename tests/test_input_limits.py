"""Contract, Input limits: text never holds NUL or an unpaired surrogate (422), numbers are finite
(NaN / Infinity: 422), and no request however malformed (multipart, paths, encodings) gets a 5xx.

Regression tests for issue #12, defects 2 and 6, each found by fuzzing; tests/test_fuzz_api.py is
the broad net, these pin each case down.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from python_multipart.multipart import MultipartParser
from sqlalchemy import text
from starlette.routing import BaseRoute

from app.accounts import users
from app.context import AppContext
from tests.bulk_helpers import BASE, HEADER, csv_text, row, upload
from tests.conftest import create_flight, flight_body, make_settings
from tests.infra import TestServers
from tests.test_security import app_client

# A NUL, a lone high surrogate, a lone low surrogate: none is text any layer can carry.
POISONED = ("ab\x00c", "ab\ud800c", "\udfff")


async def send_json(
    client: httpx.AsyncClient, method: str, path: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    """``body`` as a lenient client writes it: NaN / Infinity as such, a lone surrogate as \\ud800
    (httpx itself refuses to encode either)."""
    content = json.dumps(body, allow_nan=True)
    return await client.request(
        method, path, content=content, headers={**headers, "Content-Type": "application/json"}
    )


async def count(context: AppContext, sql: str) -> int:
    async with context.engine.connect() as connection:
        return int(await connection.scalar(text(sql)) or 0)


# --- Text ---------------------------------------------------------------------------------------


async def test_a_login_with_nul_in_its_fields_is_422_before_the_user_is_looked_up(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was a 500 (PostgreSQL: CharacterNotInRepertoireError), 44 times in one fuzzing run."""

    async def no_lookup(*_: object) -> None:
        raise AssertionError("the database was asked about a username holding NUL")

    monkeypatch.setattr(users, "authenticate", no_lookup)
    for field, data in (
        ("username", {"username": "ab\x00c", "password": "password123"}),
        ("password", {"username": "alice", "password": "pass\x00word"}),
        ("client_id", {"username": "alice", "password": "password123", "client_id": "a\x00"}),
    ):
        response = await client.post("/api/v1/auth/token", data=data)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", field]
        assert "pass\x00word" not in response.text  # a password is never echoed, even refused


async def test_text_with_nul_or_a_lone_surrogate_is_422_wherever_it_comes_and_nothing_is_stored(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    for bad in POISONED:
        for method, path, body in (
            ("POST", "/api/v1/auth/register", {"username": f"a{bad}b", "password": "password123"}),
            ("POST", "/api/v1/auth/register", {"username": "poisoned_pw", "password": f"password{bad}"}),
            ("POST", "/admin/flights", flight_body(source=f"Del{bad}hi")),
            ("POST", "/admin/flights", flight_body(destination=f"Mum{bad}bai")),
            ("POST", "/admin/flights", {**flight_body(), f"extra{bad}": 1}),
            ("PUT", "/admin/airports/Delhi", {"timezone": f"Asia/Kolkata{bad}"}),
        ):
            response = await send_json(client, method, path, body, admin_headers)
            assert response.status_code == 422, (method, path, repr(bad), response.text)
            response.json()  # an answer that is valid JSON, whatever it echoes
    assert await count(context, "SELECT count(*) FROM users") == 1  # the admin
    assert await count(context, "SELECT count(*) FROM flights") == 0
    delhi = await client.get("/admin/airports/Delhi", headers=admin_headers)
    assert delhi.json()["timezone"] == "Asia/Kolkata"
    for path in ("/admin/airports/De%00lhi", "/admin/flights?source=De%00lhi"):
        assert (await client.get(path, headers=admin_headers)).status_code == 422, path
    search = await client.get(
        "/api/v1/search", params={"source": "De\x00lhi", "destination": "Goa", "date": "2030-01-01"}
    )
    assert search.status_code == 422


async def test_an_idempotency_key_with_nul_is_422_on_both_booking_paths(
    client: httpx.AsyncClient, user_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    """A server in front may pass a NUL in a header; the shortcut hands such a key to the
    declared endpoint, which refuses it like any other text."""
    flight = await create_flight(client, admin_headers)
    response = await client.post(
        "/api/v1/booking",
        json={"flight_id": flight["id"], "seats": 1},
        headers={**user_headers, "Idempotency-Key": "key\x00one"},
    )
    assert response.status_code == 422, response.text


def _params(dependant: Dependant) -> list[Any]:
    """Every parameter FastAPI reads from a request for this dependant and its dependencies."""
    found: list[Any] = [
        *dependant.path_params,
        *dependant.query_params,
        *dependant.header_params,
        *dependant.cookie_params,
        *dependant.body_params,
    ]
    for sub in dependant.dependencies:
        found += _params(sub)
    return found


def _fields(label: str, annotation: Any, metadata: list[Any]) -> list[tuple[str, TypeAdapter[Any]]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found = []
        for name, info in annotation.model_fields.items():
            found += _fields(f"{label}.{name}", info.annotation, info.metadata)
        return found
    return [(label, TypeAdapter(Annotated[annotation, *metadata]) if metadata else TypeAdapter(annotation))]


def _text_inputs(app: FastAPI) -> list[tuple[str, str, TypeAdapter[Any]]]:
    """(operation, input, its validator) for every parameter, form field and body field of every
    operation, a model's fields one by one."""
    found = []
    for route in _api_routes(app.routes):
        for param in _params(route.dependant):
            info = param.field_info
            for label, adapter in _fields(param.name, info.annotation, info.metadata):
                found.append((f"{sorted(route.methods)} {route.path}", label, adapter))
    return found


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # FastAPI keeps an included router whole (a private wrapper holding it).
        if (included := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(included.routes)


async def test_no_text_input_of_any_operation_takes_nul_or_a_lone_surrogate(app: FastAPI) -> None:
    """The rule is one type (app/platform/fields.py Text / PLAIN_TEXT): every str a request
    carries must use it, or be constrained to exclude both; a new field that forgets fails here."""
    inputs = _text_inputs(app)
    assert len(inputs) > 20
    accepted = []
    for route, label, adapter in inputs:
        for bad in POISONED:
            try:
                adapter.validate_python(bad)
            except ValidationError:
                continue
            accepted.append((route, label, bad))
    assert accepted == []


# --- Numbers ------------------------------------------------------------------------------------


async def test_nan_and_infinity_are_422_and_the_answer_echoes_them_as_text(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    admin_headers: dict[str, str],
    context: AppContext,
) -> None:
    """Was a 500: the 422 handler echoed the NaN and JSON cannot encode it."""
    flight = await create_flight(client, admin_headers)
    for value, spelled in ((float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity")):
        booking = await send_json(
            client, "POST", "/api/v1/booking", {"flight_id": flight["id"], "seats": value}, user_headers
        )
        assert booking.status_code == 422, booking.text
        assert booking.json()["detail"][0]["input"] == spelled
        for field in ("price", "total_seats"):
            created = await send_json(
                client,
                "POST",
                "/admin/flights",
                flight_body(flight_number="NF-1", **{field: value}),
                admin_headers,
            )
            assert created.status_code == 422, (field, created.text)
    assert await count(context, "SELECT count(*) FROM bookings") == 0
    assert await count(context, "SELECT count(*) FROM flights") == 1


# --- Paths --------------------------------------------------------------------------------------


async def test_the_page_route_answers_paths_no_file_can_have_with_the_app_never_a_500(
    servers: TestServers, tmp_path: Path
) -> None:
    """Was a 500 for /a%00b and /index.html%00.js (ValueError: embedded null byte), and for a
    name longer than the filesystem allows (OSError: File name too long)."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("THE APP")
    (dist / "assets" / "app.js").write_text("THE SCRIPT")
    (tmp_path / "secret.txt").write_text("SECRET")
    async with app_client(make_settings(servers, frontend_dist=dist)) as (_, http):
        for path in ("/a%00b", "/index.html%00.js", "/%00", "/" + "x" * 300, "/a/" + "y" * 5000, "/%ff"):
            page = await http.get(path)
            assert (page.status_code, page.text) == (200, "THE APP"), path[:40]
        assert (await http.get("/assets/a%00b")).status_code == 404
        assert (await http.get("/assets/app.js")).text == "THE SCRIPT"
        assert (await http.get("/..%2fsecret.txt")).text == "THE APP"
        assert (await http.get("/api/v1/nothing%00")).status_code == 404


# --- Multipart ----------------------------------------------------------------------------------


def multipart(boundary: bytes, filename: bytes, content: bytes, *, closed: bool = True) -> bytes:
    body = (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + content
    )
    return body + (b"\r\n--" + boundary + b"--\r\n" if closed else b"")


async def post_multipart(
    client: httpx.AsyncClient, headers: dict[str, str], boundary: bytes, body: bytes
) -> httpx.Response:
    content_type = b"multipart/form-data; boundary=" + boundary
    return await client.post(
        "/admin/flights/bulk-upload",
        content=body,
        headers={**headers, "Content-Type": content_type.decode("latin-1")},
    )


async def test_a_multipart_boundary_over_256_characters_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    """Was a 500: python-multipart's FormParserError, raised before the first byte was fed."""
    boundary = b"b" * 257
    response = await post_multipart(
        client, admin_headers, boundary, multipart(boundary, b"f.csv", csv_text(row()).encode())
    )
    assert response.status_code == 422, response.text
    assert "boundary" in response.json()["detail"].lower()
    assert await count(context, "SELECT count(*) FROM bulk_jobs") == 0


async def test_a_nul_in_the_upload_file_name_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    """Was a 500: the name went to bulk_jobs.filename, and PostgreSQL refuses NUL."""
    response = await post_multipart(
        client, admin_headers, b"xyz", multipart(b"xyz", b"fl\x00ights.csv", csv_text(row()).encode())
    )
    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["detail"]
    assert await count(context, "SELECT count(*) FROM bulk_jobs") == 0


async def test_an_upload_without_its_closing_boundary_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    """Was a 202: a body cut short (maybe mid-file) was taken as the whole file."""
    content = csv_text(row("AI-1"), row("AI-2")).encode()
    for body in (
        multipart(b"xyz", b"f.csv", content, closed=False),
        multipart(b"xyz", b"f.csv", content + b"\r\n--xyz", closed=False),
        multipart(b"xyz", b"f.csv", content)[:-20],
    ):
        response = await post_multipart(client, admin_headers, b"xyz", body)
        assert response.status_code == 422, (body[-30:], response.text)
    assert await count(context, "SELECT count(*) FROM bulk_jobs") == 0
    accepted = await post_multipart(client, admin_headers, b"xyz", multipart(b"xyz", b"f.csv", content))
    assert accepted.status_code == 202, accepted.text


# --- The CSV header check (defect 6) ------------------------------------------------------------


async def test_a_header_line_over_4_kib_is_422_for_its_length_whatever_it_holds(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    """A 100 KB header took 13.5 s to check (quadratic), on the event loop: now bounded, and
    refused for its length before any of it is parsed."""
    limit = 4 << 10
    wide = HEADER + "".join(f",c{i}" for i in range(20_000))
    padded = ",".join(f"{name:^580}" for name in HEADER.split(","))  # 7 names in 4 KiB of spaces
    assert len(padded) <= limit < len(padded) + 100
    for header in (wide, padded + " " * 100, "\n" * 50_000 + wide):
        response = await upload(client, admin_headers, csv_text(row(), header=header))
        assert response.status_code == 422, response.text[:200]
        assert f"over {limit} characters" in response.json()["detail"]
    assert await count(context, "SELECT count(*) FROM bulk_jobs") == 0
    for header in (padded, "\n \n" * 50_000 + HEADER):
        response = await upload(client, admin_headers, csv_text(row(), header=header))
        assert response.status_code == 202, response.text[:200]


async def test_an_upload_is_parsed_off_the_event_loop(
    client: httpx.AsyncClient, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing costs what the client makes it cost (python-multipart is pure Python, ~10 ms per
    64 KiB of tiny parts): it runs in a worker thread, so /healthz and every other request keep
    being answered meanwhile. bench/header_stall.py measures the stall."""
    loop_thread = threading.get_ident()
    threads: set[int] = set()
    write = MultipartParser.write

    def recording(parser: MultipartParser, data: bytes) -> int:
        threads.add(threading.get_ident())
        return write(parser, data)

    monkeypatch.setattr(MultipartParser, "write", recording)
    rows = (row(f"AI-{i}", departure=BASE + timedelta(minutes=i)) for i in range(8_000))
    response = await upload(client, admin_headers, csv_text(*rows))
    assert response.status_code == 202, response.text
    assert threads and loop_thread not in threads
