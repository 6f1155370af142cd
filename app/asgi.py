"""The application the production API server loads: ``python -m app.cli api`` serves ``create``.

Behind nginx or a load balancer every connection comes from the proxy; the client's address
(rate limits per client, logs) is taken from X-Forwarded-For, but only when the connection comes
from an address in FORWARDED_ALLOW_IPS (comma-separated addresses or networks, uvicorn's name
for the same knob; default 127.0.0.1). The rightmost untrusted address wins, so a client cannot
choose its own by sending the header itself.
"""

from __future__ import annotations

import os

from granian.utils.proxies import wrap_asgi_with_proxy_headers
from starlette.types import ASGIApp

from app.main import create_app


def create() -> ASGIApp:
    trusted = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
    app: ASGIApp = wrap_asgi_with_proxy_headers(create_app(), trusted)
    return app
