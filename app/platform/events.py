"""A topic: the seam through which one domain announces a change and others follow it.

The publisher knows only the topic and its payload; subscribers are attached at start-up by the
composition root (``app.context``), so the publishing domain never imports the ones that react.
Handlers run in subscription order, one after another, after the publisher's commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Payload = TypeVar("Payload")


class Topic(Generic[Payload]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Callable[[Payload], Awaitable[None]]] = []

    def subscribe(self, handler: Callable[[Payload], Awaitable[None]]) -> None:
        self._handlers.append(handler)

    async def publish(self, payload: Payload) -> None:
        for handler in self._handlers:
            await handler(payload)
