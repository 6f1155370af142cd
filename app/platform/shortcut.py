"""Routes whose plainly well-formed requests skip FastAPI's parameter solving.

For the hottest endpoints (search, booking) FastAPI's dependency and parameter solving cost more
CPU than the work itself. Such a route keeps its declared endpoint as the contract — the OpenAPI
schema, and the handling of every request that is not plainly well-formed, with FastAPI's own
401/422 answers — and puts a shortcut in front of it: a function that either answers a request it
has fully checked, or returns None to hand it to the declared endpoint. A shortcut must only
answer what the declared endpoint would accept, with the same answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

Shortcut = Callable[[Request], Awaitable[Response | None]]


def shortcut_route(shortcut: Shortcut) -> type[APIRoute]:
    """An APIRoute class (FastAPI's documented custom-route hook) that tries ``shortcut`` first."""

    class ShortcutRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            declared = super().get_route_handler()

            async def handler(request: Request) -> Response:
                answer = await shortcut(request)
                return answer if answer is not None else await declared(request)

            return handler

    return ShortcutRoute
