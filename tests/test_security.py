"""Security review, one test per threat (docs/security.md says what each proves).

Basic token checks (missing, forged, expired, alg=none) live in test_auth.py; these go further.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.context import AppContext
from app.main import create_app
from app.platform import security
from app.platform.config import Settings
from tests.conftest import create_flight, make_settings, register_and_login
from tests.infra import TestServers

ROOT = Path(__file__).resolve().parent.parent


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made_token(header: dict[str, Any], claims: dict[str, Any], key: bytes, digest: Any) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield application, http


async def claims_of(client: httpx.AsyncClient, username: str) -> tuple[str, dict[str, Any]]:
    response = await client.post("/api/v1/auth/token", data={"username": username, "password": "kite-river9"})
    token = response.json()["access_token"]
    return token, jwt.decode(token, options={"verify_signature": False})


# --- Tokens -------------------------------------------------------------------------------------


async def test_only_hs256_with_our_secret_is_accepted(client: httpx.AsyncClient, settings: Settings) -> None:
    """Algorithm pinned: a token the server would accept under another algorithm is refused."""
    await register_and_login(client, "pinned_alg")
    good, claims = await claims_of(client, "pinned_alg")
    secret = settings.resolved_jwt_secret().encode()
    body = b64(json.dumps(claims).encode())
    none_lower = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    none_mixed = b64(json.dumps({"alg": "nOnE", "typ": "JWT"}).encode())
    variants = {
        # Same secret, stronger-looking algorithm: still not the pinned one.
        "HS512": jwt.encode(claims, secret, algorithm="HS512"),
        "HS384": jwt.encode(claims, secret, algorithm="HS384"),
        # RS256/HS256 confusion: an RS256 header with an HMAC signature made from a known key.
        "RS256-header": hand_made_token({"alg": "RS256", "typ": "JWT"}, claims, secret, hashlib.sha256),
        "none-lower": f"{none_lower}.{body}.",
        "none-mixed": f"{none_mixed}.{body}.",
        "no-alg": hand_made_token({"typ": "JWT"}, claims, secret, hashlib.sha256),
    }
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {good}"})
    ).status_code == 200
    for name, token in variants.items():
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"] == "Bearer"


async def test_expiry_is_enforced_to_the_second_and_required(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await register_and_login(client, "expiring")
    _, claims = await claims_of(client, "expiring")
    secret = settings.resolved_jwt_secret()
    now = datetime.now(UTC)
    just_expired = jwt.encode({**claims, "exp": now - timedelta(seconds=1)}, secret, algorithm="HS256")
    no_exp = jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret, algorithm="HS256")
    no_iat = jwt.encode({k: v for k, v in claims.items() if k != "iat"}, secret, algorithm="HS256")
    for token in (just_expired, no_exp, no_iat):
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


async def test_tampered_tokens_are_401(client: httpx.AsyncClient, settings: Settings) -> None:
    await register_and_login(client, "victim_1")
    await register_and_login(client, "mallory_1")
    victim_token, victim = await claims_of(client, "victim_1")
    mallory_token, _ = await claims_of(client, "mallory_1")
    header, _, signature = mallory_token.split(".")
    # Mallory's signature on a payload naming the victim.
    swapped = f"{header}.{b64(json.dumps(victim).encode())}.{signature}"
    # A valid signature over garbage, and a token for a user who does not exist.
    secret = settings.resolved_jwt_secret()
    not_a_uuid = jwt.encode({**victim, "sub": "admin"}, secret, algorithm="HS256")
    ghost = jwt.encode({**victim, "sub": str(uuid.uuid4())}, secret, algorithm="HS256")
    flipped = victim_token[:-6] + ("AAAAAA" if not victim_token.endswith("AAAAAA") else "BBBBBB")
    for token in (swapped, not_a_uuid, ghost, flipped, victim_token + ".extra", "Bearer " + victim_token):
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


# --- Enumeration --------------------------------------------------------------------------------


async def timed(
    client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.request(method, url, **kwargs)
    return time.perf_counter() - started, response


async def test_login_does_not_reveal_whether_a_user_exists(client: httpx.AsyncClient) -> None:
    """Same status, body and headers; timing within a loose ratio (both pay one Argon2 verify)."""
    await register_and_login(client, "real_user")
    known, unknown = [], []
    for attempt in range(7):
        t1, wrong = await timed(
            client,
            "POST",
            "/api/v1/auth/token",
            data={"username": "real_user", "password": f"bad-{attempt}-pw"},
        )
        t2, missing = await timed(
            client,
            "POST",
            "/api/v1/auth/token",
            data={"username": f"ghost_{attempt}", "password": "bad-pw-xx"},
        )
        known.append(t1)
        unknown.append(t2)
        assert wrong.status_code == missing.status_code == 401
        assert wrong.json() == missing.json()
        assert wrong.headers.get("www-authenticate") == missing.headers.get("www-authenticate")
    ratio = statistics.median(known) / statistics.median(unknown)
    # Without the dummy verify an unknown user answers ~100x faster; 3x allows a noisy machine.
    assert 1 / 3 < ratio < 3, (statistics.median(known), statistics.median(unknown))


async def test_register_timing_does_not_reveal_taken_usernames(client: httpx.AsyncClient) -> None:
    """409 for a taken name is in the contract; its timing must not add a cheaper oracle than that."""
    await register_and_login(client, "taken_user")
    taken, fresh = [], []
    for attempt in range(5):
        t1, r1 = await timed(
            client,
            "POST",
            "/api/v1/auth/register",
            json={"username": "taken_user", "password": "kite-river9"},
        )
        t2, r2 = await timed(
            client,
            "POST",
            "/api/v1/auth/register",
            json={"username": f"fresh_{attempt}_{uuid.uuid4().hex[:6]}", "password": "kite-river9"},
        )
        assert (r1.status_code, r2.status_code) == (409, 201)
        taken.append(t1)
        fresh.append(t2)
    ratio = statistics.median(taken) / statistics.median(fresh)
    assert 1 / 3 < ratio < 3, (statistics.median(taken), statistics.median(fresh))


# --- Authorisation ------------------------------------------------------------------------------

PATH_VALUES = {"flight_id": str(uuid.uuid4()), "job_id": str(uuid.uuid4()), "name": "Delhi"}


def admin_operations(app: FastAPI) -> list[tuple[str, str]]:
    """Every /admin operation in the OpenAPI schema, with sample path parameters."""
    operations = []
    for template, methods in app.openapi()["paths"].items():
        if template.startswith("/admin"):
            path = re.sub(r"{(\w+)}", lambda m: PATH_VALUES[m.group(1)], template)
            operations += [(method.upper(), path) for method in methods]
    return operations


async def test_every_admin_operation_is_403_for_users_and_401_anonymous(
    app: FastAPI, client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    operations = admin_operations(app)
    assert len(operations) >= 8  # CRUD, airports, bulk upload and its status
    for method, path in operations:
        as_user = await client.request(method, path, headers=user_headers, json={})
        anonymous = await client.request(method, path, json={})
        assert as_user.status_code == 403, (method, path, as_user.text)
        assert anonymous.status_code == 401, (method, path, anonymous.text)


async def test_bookings_are_private_to_their_owner(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_headers: dict[str, str]
) -> None:
    flight = await create_flight(client, admin_headers)
    key = {"Idempotency-Key": "shared-key-1"}
    mine = await client.post(
        "/api/v1/booking", json={"flight_id": flight["id"], "seats": 2}, headers={**user_headers, **key}
    )
    assert mine.status_code == 201
    stranger = await register_and_login(client)
    # The stranger sees nothing of it: not in the list, not by id, not by replaying the same key.
    assert (await client.get("/api/v1/bookings", headers=stranger)).json() == []
    assert (await client.delete(f"/api/v1/bookings/{mine.json()['id']}", headers=stranger)).status_code == 404
    replay = await client.post(
        "/api/v1/booking", json={"flight_id": flight["id"], "seats": 2}, headers={**stranger, **key}
    )
    assert replay.status_code == 201
    assert replay.json()["id"] != mine.json()["id"]
    assert replay.json()["user_id"] != mine.json()["user_id"]


# --- Abuse limits -------------------------------------------------------------------------------


@pytest.fixture
async def limited(servers: TestServers, context: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    """An app with tight limits (its Redis keys are under the run's prefix, cleaned after the test)."""
    settings = make_settings(servers, login_rate_limit="3/minute", register_rate_limit="3/hour")
    async with app_client(settings) as (_, http):
        yield http


async def test_failed_logins_are_rate_limited_per_username(limited: httpx.AsyncClient) -> None:
    await register_and_login(limited, "brute_target")
    for _ in range(3):
        response = await limited.post(
            "/api/v1/auth/token", data={"username": "brute_target", "password": "guess-guess"}
        )
        assert response.status_code == 401
    # Even the right password is refused now: the limit is not an oracle for a correct guess.
    blocked = await limited.post(
        "/api/v1/auth/token", data={"username": "brute_target", "password": "kite-river9"}
    )
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 60  # what is left of the minute
    # Case variants of the name share the counter.
    assert (
        await limited.post("/api/v1/auth/token", data={"username": "BRUTE_target", "password": "x-x-x-x-x"})
    ).status_code == 429


async def test_registrations_are_rate_limited_per_client(limited: httpx.AsyncClient) -> None:
    statuses = []
    for _ in range(4):
        response = await limited.post(
            "/api/v1/auth/register",
            json={"username": f"bot_{uuid.uuid4().hex[:8]}", "password": "kite-river9"},
        )
        statuses.append(response.status_code)
    assert statuses == [201, 201, 201, 429]


async def test_uploads_are_capped_in_bytes_and_rows(servers: TestServers, context: AppContext) -> None:
    settings = make_settings(servers, max_upload_mb=0.01, max_upload_rows=3)
    header = b"flight_number,source,destination,departure_ts,arrival_ts,total_seats,price\n"
    row = b"AI-1,Delhi,Mumbai,2030-01-01T10:00:00Z,2030-01-01T12:00:00Z,100,5000\n"
    async with app_client(settings) as (_, http):
        admin = await register_and_login(http, f"admin_{uuid.uuid4().hex[:6]}")
        async with context.engine.begin() as connection:
            await connection.execute(text("UPDATE users SET is_admin = true"))
        too_big = await http.post(
            "/admin/flights/bulk-upload",
            files={"file": ("big.csv", header + row * 400, "text/csv")},
            headers=admin,
        )
        assert too_big.status_code == 413, too_big.text
        too_many = await http.post(
            "/admin/flights/bulk-upload",
            files={"file": ("rows.csv", header + row * 4, "text/csv")},
            headers=admin,
        )
        assert too_many.status_code in (413, 422), too_many.text
        binary = await http.post(
            "/admin/flights/bulk-upload",
            files={"file": ("x.csv", b"\x00\xff" * 100, "text/csv")},
            headers=admin,
        )
        assert binary.status_code == 422, binary.text


# --- Browser-facing -----------------------------------------------------------------------------


async def test_cors_allows_only_the_configured_origins(servers: TestServers) -> None:
    settings = make_settings(servers, cors_origins=["https://flightdesk.example"])
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    async with app_client(settings) as (_, http):
        good = await http.options(
            "/api/v1/booking", headers={"Origin": "https://flightdesk.example", **preflight}
        )
        evil = await http.options("/api/v1/booking", headers={"Origin": "https://evil.example", **preflight})
        simple = await http.get("/healthz", headers={"Origin": "https://evil.example"})
    assert good.status_code == 200
    assert good.headers["access-control-allow-origin"] == "https://flightdesk.example"
    assert "access-control-allow-origin" not in evil.headers
    assert "access-control-allow-origin" not in simple.headers
    assert good.headers.get("access-control-allow-credentials") is None


async def test_no_cors_headers_without_configured_origins(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


REQUIRED_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


async def test_api_and_spa_responses_carry_hardening_headers(servers: TestServers, tmp_path: Path) -> None:
    """`make run` serves the SPA from the API itself: the same headers nginx adds in production."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>FlightDesk</title>")
    settings = make_settings(servers, frontend_dist=tmp_path)
    async with app_client(settings) as (_, http):
        page = await http.get("/bookings/anything")
        api = await http.get("/api/v1/airports")
        docs = await http.get("/docs")
    for response in (page, api, docs):
        for name, value in REQUIRED_HEADERS.items():
            assert response.headers.get(name) == value, (response.request.url, name)
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "content-security-policy" not in docs.headers  # Swagger UI loads from a CDN


def test_nginx_sends_the_hardening_headers_on_every_location() -> None:
    conf_path = ROOT / "frontend" / "nginx.conf"
    if not conf_path.exists():
        pytest.skip("frontend/nginx.conf not written yet")
    conf = conf_path.read_text()
    headers = dict(re.findall(r'^\s*add_header\s+(\S+)\s+"?([^";]+)"?\s+always;', conf, re.MULTILINE))
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, value in REQUIRED_HEADERS.items():
        assert lowered.get(name) == value, name
    assert "content-security-policy" in lowered
    assert re.search(r"server_tokens\s+off;", conf)
    # nginx drops inherited add_header directives in a block that declares its own.
    directives = re.findall(r"^\s*add_header\s", conf, flags=re.MULTILINE)
    assert len(directives) == len(headers), "a location sets add_header and loses the server-level ones"


# --- Secrets in logs ----------------------------------------------------------------------------


async def test_passwords_never_reach_logs_or_error_bodies(
    client: httpx.AsyncClient, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Sup3r-s3cret-" + uuid.uuid4().hex
    caplog.set_level("DEBUG")
    await client.post("/api/v1/auth/register", json={"username": "logged_user", "password": secret})
    await client.post("/api/v1/auth/token", data={"username": "logged_user", "password": secret})
    await client.post("/api/v1/auth/token", data={"username": "logged_user", "password": secret + "x"})
    await client.post("/api/v1/auth/token", data={"username": "nobody_at_all", "password": secret})
    short = await client.post("/api/v1/auth/register", json={"username": "logged_2", "password": "short7"})
    wrong_type = await client.post(
        "/api/v1/auth/register", json={"username": "logged_3", "password": [secret]}
    )
    assert short.status_code == wrong_type.status_code == 422
    assert "short7" not in short.text and secret not in wrong_type.text
    assert short.json()["detail"][0]["loc"] == ["body", "password"]
    out, err = capfd.readouterr()
    for captured in (out, err, caplog.text):
        assert secret not in captured
        assert "short7" not in captured


async def test_binary_garbage_in_a_body_is_422_not_500(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    """Found by fuzzing: echoing undecodable bytes in a 422 body crashed FastAPI's own handler."""
    garbage = b"\x89PNG\r\n\x1a\n\xff\xfe" * 8
    for method, path in (("PUT", "/admin/flights/bulk-upload"), ("POST", "/admin/flights")):
        response = await client.request(
            method, path, files={"file": ("file.png", garbage)}, headers=admin_headers
        )
        assert response.status_code == 422, (method, path, response.text)


async def test_a_token_verified_once_is_still_refused_the_second_it_expires(settings: Settings) -> None:
    """Verified tokens are cached (app/platform/security.py); expiry is still checked on every use."""
    secret = settings.resolved_jwt_secret()
    user = uuid.uuid4()
    now = datetime.now(UTC)
    token = jwt.encode(
        {"sub": str(user), "iat": now, "exp": now + timedelta(seconds=2)}, secret, algorithm="HS256"
    )
    assert security.decode_access_token(token, secret=secret, algorithm="HS256") == user
    assert security.decode_access_token(token, secret=secret, algorithm="HS256") == user
    with pytest.raises(security.InvalidToken):  # the same token under another secret: not a cache hit
        security.decode_access_token(token, secret=secret + "x", algorithm="HS256")
    await asyncio.sleep(2.1)
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(token, secret=secret, algorithm="HS256")
