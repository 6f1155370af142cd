"""Browser hardening headers on every response, the same ones frontend/nginx.conf sends.

``make run`` serves the SPA from the API process itself, with no nginx in front: without this the
page could be framed (clickjacking) or have a response type-sniffed. Pure ASGI, so a request pays
for a few list appends only.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMMON_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)
# For the SPA's HTML. FastAPI's /docs and /redoc load their UI from a CDN, so they go without.
PAGE_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    b"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    b"form-action 'self'; frame-ancestors 'none'"
)
_NO_CSP_PATHS = ("/docs", "/redoc")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page_csp = not str(scope.get("path", "")).startswith(_NO_CSP_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in COMMON_HEADERS if h[0] not in present]
                is_html = any(
                    name.lower() == b"content-type" and value.startswith(b"text/html")
                    for name, value in headers
                )
                if page_csp and is_html and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", PAGE_CSP))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
