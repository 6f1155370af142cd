"""The application the production API server loads: ``python -m app.cli api`` serves ``create``.

No proxy-headers wrapper rewrites the client address here: the socket peer stays the peer, and
X-Forwarded-For is read, only from TRUSTED_PROXIES, where the client address matters
(app.platform.proxies; the rate limits). A server-wide rule (granian's or uvicorn's FORWARDED_ALLOW_IPS)
would be a second list of trusted proxies to keep in step with the first.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from app.main import create_app


def create() -> ASGIApp:
    return create_app()
