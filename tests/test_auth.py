"""Auth: register, token, me, admin rights (contract: Auth)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.context import AppContext
from app.platform.config import Settings
from tests.conftest import register_and_login


async def test_register_returns_the_new_user(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"username": "testuser", "password": "kite-river9"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "testuser"
    assert body["is_admin"] is False
    assert set(body) == {"id", "username", "is_admin"}


async def test_taken_username_is_409(client: httpx.AsyncClient) -> None:
    payload = {"username": "taken_name", "password": "kite-river9"}
    assert (await client.post("/api/v1/auth/register", json=payload)).status_code == 201
    assert (await client.post("/api/v1/auth/register", json=payload)).status_code == 409


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "ab", "password": "kite-river9"},
        {"username": "a" * 33, "password": "kite-river9"},
        {"username": "bad name", "password": "kite-river9"},
        {"username": "émile", "password": "kite-river9"},
        {"username": "gooduser", "password": "short"},
        {"username": "gooduser"},
        {"password": "kite-river9"},
        {"username": 12345, "password": "kite-river9"},
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
    me = await client.post("/api/v1/auth/token", data={"username": "carol_1", "password": "kite-river9"})
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


# --- one account per username whatever its case (issue #12, defect 5) ------------------------------


async def test_usernames_differing_only_in_case_registered_at_once_make_one_account(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/auth/register", json={"username": name, "password": "kite-river9"})
            for name in ("Racer3", "racer3", "RACER3")
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409]
    async with context.engine.connect() as connection:
        count = await connection.scalar(text("SELECT count(*) FROM users WHERE lower(username) = 'racer3'"))
    assert count == 1


async def test_the_database_refuses_a_case_variant_of_a_username(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    await register_and_login(client, "Db_Case")
    with pytest.raises(IntegrityError):
        async with context.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO users (id, username, hashed_password)"
                    " VALUES (gen_random_uuid(), 'db_case', 'x')"
                )
            )


async def test_a_user_logs_in_with_any_case_of_their_username(client: httpx.AsyncClient) -> None:
    await register_and_login(client, "Bob_Case")
    for spelling in ("bob_case", "BOB_CASE", "Bob_Case"):
        response = await client.post(
            "/api/v1/auth/token", data={"username": spelling, "password": "kite-river9"}
        )
        assert response.status_code == 200, spelling
        me = await client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
        )
        assert me.json()["username"] == "Bob_Case"


# --- weak passwords (issue #12, defect 7) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("password", "common password"),
        ("12345678", "common password"),
        ("        ", "only spaces"),
        ("\t \t \t \t ", "only spaces"),
        ("weak_racer", "your username"),
        ("WEAK_RACER", "your username"),
        ("qwertyuiop", "common password"),
        ("Password1!", "commonly used password"),
        ("aaaaaaaaaaaa", "Repeats"),
        ("a" * 128, "Repeats"),
    ],
)
async def test_a_weak_password_is_refused_with_a_message_and_nothing_is_stored(
    client: httpx.AsyncClient, context: AppContext, password: str, says: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"username": "weak_racer", "password": password}
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "password"]
    assert says in error["msg"]
    assert "input" not in error and "ctx" not in error  # the password is never echoed
    async with context.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM users")) == 0


@pytest.mark.parametrize(
    "password",
    [
        "kite-river9",
        "correct horse battery staple",
        "weak_racer-flies-to-goa-9",
        "x" * 60 + "Q7#kz!v2Lm9p",
    ],
)
async def test_a_password_that_is_hard_to_guess_is_accepted(client: httpx.AsyncClient, password: str) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"username": "weak_racer", "password": password}
    )
    assert response.status_code == 201, response.text
