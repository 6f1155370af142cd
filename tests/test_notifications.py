"""A traveller's notifications in the app (contract: Operations, notifications)."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text

from app.context import AppContext
from app.models import NotificationKind
from app.notifications import outbox
from app.notifications.outbox import Notice
from tests.conftest import register_and_login
from tests.operations_support import user_id


async def _write(
    context: AppContext, owner: uuid.UUID, subjects: list[str], *, email: str | None = None
) -> None:
    async with context.engine.begin() as connection:
        for subject in subjects:
            await outbox.write_in(
                connection,
                [Notice(owner, None, NotificationKind.SCHEDULE_CHANGED, subject, f"{subject} body", email)],
                email_enabled=context.settings.smtp_url is not None,
            )


async def test_notifications_are_listed_newest_first_to_their_owner_only(
    client: httpx.AsyncClient, user_headers: dict[str, str], context: AppContext
) -> None:
    owner = await user_id(client, user_headers)
    await _write(context, owner, ["first", "second", "third"])
    stranger = await register_and_login(client)
    await _write(context, await user_id(client, stranger), ["not yours"])
    listed = await client.get("/api/v1/notifications", headers=user_headers)
    assert listed.status_code == 200
    items = listed.json()
    assert [n["subject"] for n in items] == ["third", "second", "first"]
    assert set(items[0]) == {"id", "kind", "order_id", "subject", "body", "created_at", "read"}
    assert items[0]["kind"] == "schedule_changed" and items[0]["read"] is False
    limited = await client.get("/api/v1/notifications", params={"limit": 2}, headers=user_headers)
    assert [n["subject"] for n in limited.json()] == ["third", "second"]
    for bad in ("0", "101", "x"):
        response = await client.get("/api/v1/notifications", params={"limit": bad}, headers=user_headers)
        assert response.status_code == 422
    assert (await client.get("/api/v1/notifications")).status_code == 401


async def test_marking_notifications_read_counts_down_the_unread(
    client: httpx.AsyncClient, user_headers: dict[str, str], context: AppContext
) -> None:
    owner = await user_id(client, user_headers)
    await _write(context, owner, ["a", "b", "c"])
    unread = await client.get("/api/v1/notifications/unread-count", headers=user_headers)
    assert unread.json() == {"unread": 3}
    items = (await client.get("/api/v1/notifications", headers=user_headers)).json()
    marked = await client.post(
        "/api/v1/notifications/read", json={"ids": [items[0]["id"]]}, headers=user_headers
    )
    assert marked.status_code == 204
    assert (await client.get("/api/v1/notifications/unread-count", headers=user_headers)).json() == {
        "unread": 2
    }
    # Someone else's ids change nothing, and say nothing.
    stranger = await register_and_login(client)
    other = await client.post("/api/v1/notifications/read", json={"ids": [items[1]["id"]]}, headers=stranger)
    assert other.status_code == 204
    assert (await client.get("/api/v1/notifications/unread-count", headers=user_headers)).json() == {
        "unread": 2
    }
    assert (await client.post("/api/v1/notifications/read", headers=user_headers)).status_code == 204
    assert (await client.get("/api/v1/notifications/unread-count", headers=user_headers)).json() == {
        "unread": 0
    }
    assert all(n["read"] for n in (await client.get("/api/v1/notifications", headers=user_headers)).json())
    bad = await client.post("/api/v1/notifications/read", json={"ids": ["nope"]}, headers=user_headers)
    assert bad.status_code == 422


async def test_without_smtp_url_a_notification_is_kept_in_the_app_and_never_mailed(
    client: httpx.AsyncClient, user_headers: dict[str, str], context: AppContext
) -> None:
    assert context.settings.smtp_url is None
    owner = await user_id(client, user_headers)
    await _write(context, owner, ["kept"], email="someone@example.com")
    async with context.engine.connect() as connection:
        state = await connection.scalar(
            text("SELECT email_state FROM notifications WHERE user_id = :u"), {"u": owner}
        )
    assert state == "none"
