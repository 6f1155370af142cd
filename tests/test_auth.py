"""Auth: register, token, me, admin rights (contract: Auth)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from app.platform.config import Settings
from tests.conftest import register_and_login


async def test_register_returns_the_new_user(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"username": "testuser", "password": "password123"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "testuser"
    assert body["is_admin"] is False
    assert set(body) == {"id", "username", "is_admin"}


async def test_taken_username_is_409(client: httpx.AsyncClient) -> None:
    payload = {"username": "taken_name", "password": "password123"}
    assert (await client.post("/api/v1/auth/register", json=payload)).status_code == 201
    assert (await client.post("/api/v1/auth/register", json=payload)).status_code == 409


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "ab", "password": "password123"},
        {"username": "a" * 33, "password": "password123"},
        {"username": "bad name", "password": "password123"},
        {"username": "émile", "password": "password123"},
        {"username": "gooduser", "password": "short"},
        {"username": "gooduser"},
        {"password": "password123"},
        {"username": 12345, "password": "password123"},
    ],
)
async def test_invalid_registration_is_422(client: httpx.AsyncClient, payload: dict[str, object]) -> None:
    assert (await client.post("/api/v1/auth/register", json=payload)).status_code == 422


async def test_register_rejects_non_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", content=b"not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_login_gives_a_bearer_token_that_opens_me(client: httpx.AsyncClient) -> None:
    headers = await register_and_login(client, "alice_1")
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200
    assert response.json()["username"] == "alice_1"


async def test_wrong_password_and_unknown_user_get_the_same_401(client: httpx.AsyncClient) -> None:
    await register_and_login(client, "bob_1")
    wrong = await client.post("/api/v1/auth/token", data={"username": "bob_1", "password": "wrongpassword"})
    unknown = await client.post(
        "/api/v1/auth/token", data={"username": "nobody_here", "password": "wrongpassword"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_token_needs_form_fields(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/auth/token", data={"username": "x"})).status_code == 422


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-token", "Basic abc", "Bearer " + "a.b.c"],
)
async def test_me_without_a_valid_token_is_401(client: httpx.AsyncClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


async def test_forged_expired_and_wrong_algorithm_tokens_are_401(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await register_and_login(client, "carol_1")
    me = await client.post("/api/v1/auth/token", data={"username": "carol_1", "password": "password123"})
    token = me.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    now = datetime.now(UTC)
    forged = jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256")
    expired = jwt.encode(
        {**claims, "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)},
        settings.resolved_jwt_secret(),
        algorithm="HS256",
    )
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    for bad in (forged, expired, unsigned, token[:-2] + "xx"):
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad


async def test_admin_routes_are_403_for_users_and_401_without_token(
    client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    assert (await client.get("/admin/flights", headers=user_headers)).status_code == 403
    assert (await client.get("/admin/flights")).status_code == 401


async def test_sql_promotion_takes_effect_for_new_tokens(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    me = await client.get("/api/v1/auth/me", headers=admin_headers)
    assert me.json()["is_admin"] is True
    assert (await client.get("/admin/flights", headers=admin_headers)).status_code == 200
