"""Helpers shared by the operations and notification tests (no tests here).

``insert_order`` writes an order the way the orders API stores one (orders, order_passengers, one
bookings row per flight) and rebuilds the flights' seat counters from PostgreSQL, so tests of
operations do not depend on the orders API. ``SmtpServer`` is a real SMTP server (aiosmtpd) on a
free loopback port, that can be stopped and started again on the same port.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import text

from app.context import AppContext
from app.models import REFERENCE_ALPHABET


async def user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> uuid.UUID:
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    return uuid.UUID(response.json()["id"])


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


@dataclass
class Passenger:
    given_name: str = "Asha"
    family_name: str = "Rao"
    born_on: date = date(1990, 5, 1)
    type: str = "adult"


async def insert_order(
    context: AppContext,
    owner: uuid.UUID,
    legs: list[tuple[Any, int, int]],
    *,
    passengers: list[Passenger] | None = None,
    status: str = "CONFIRMED",
    email: str = "traveller@example.com",
    unit_price: Decimal = Decimal("100.00"),
) -> dict[str, Any]:
    """An order over ``legs`` = [(flight_id, slice_index, leg_index), ...], as the orders API stores it."""
    people = passengers or [Passenger()]
    seated = sum(1 for p in people if p.type != "infant")
    order_id, reference = uuid.uuid4(), new_reference()
    total = unit_price * seated * len(legs)
    booking_status = {"CONFIRMED": "CONFIRMED", "HELD": "HELD", "PENDING": "PENDING"}[status]
    flight_ids = [uuid.UUID(str(f)) for f, _, _ in legs]
    async with context.engine.begin() as connection:
        first = await connection.scalar(
            text("SELECT min(departure_ts) FROM flights WHERE id = ANY(:ids)"), {"ids": flight_ids}
        )
        await connection.execute(
            text(
                "INSERT INTO orders (id, reference, user_id, status, total_price, contact_email,"
                " first_departure_ts, payment_required_by)"
                " VALUES (:id, :ref, :user, :status, :total, :email, :first,"
                " CASE WHEN :status = 'HELD' THEN now() + interval '30 minutes' END)"
            ),
            {
                "id": order_id,
                "ref": reference,
                "user": owner,
                "status": status,
                "total": total,
                "email": email,
                "first": first,
            },
        )
        for seq, p in enumerate(people):
            await connection.execute(
                text(
                    "INSERT INTO order_passengers (order_id, seq, given_name, family_name, born_on, type)"
                    " VALUES (:o, :s, :g, :f, :b, :t)"
                ),
                {"o": order_id, "s": seq, "g": p.given_name, "f": p.family_name, "b": p.born_on, "t": p.type},
            )
        for flight_id, slice_index, leg_index in legs:
            await connection.execute(
                text(
                    "INSERT INTO bookings (id, user_id, flight_id, seats, status, unit_price, order_id,"
                    " slice_index, leg_index) VALUES (:id, :u, :f, :seats, :status, :price, :o, :si, :li)"
                ),
                {
                    "id": uuid.uuid4(),
                    "u": owner,
                    "f": uuid.UUID(str(flight_id)),
                    "seats": seated,
                    "status": booking_status,
                    "price": unit_price,
                    "o": order_id,
                    "si": slice_index,
                    "li": leg_index,
                },
            )
    await context.inventory.reconcile(flight_ids)
    return {"id": order_id, "reference": reference, "total_price": total, "email": email}


async def order_row(context: AppContext, order_id: uuid.UUID) -> Any:
    async with context.engine.connect() as connection:
        return (await connection.execute(text("SELECT * FROM orders WHERE id = :id"), {"id": order_id})).one()


async def seat_holding(context: AppContext, flight_id: Any) -> int:
    async with context.engine.connect() as connection:
        value = await connection.scalar(
            text(
                "SELECT coalesce(sum(seats), 0) FROM bookings WHERE flight_id = :id"
                " AND status IN ('HELD', 'PENDING', 'CONFIRMED')"
            ),
            {"id": uuid.UUID(str(flight_id))},
        )
    return int(value)


async def notifications_of(context: AppContext, owner: uuid.UUID) -> list[Any]:
    async with context.engine.connect() as connection:
        return list(
            (
                await connection.execute(
                    text("SELECT * FROM notifications WHERE user_id = :u ORDER BY created_at"), {"u": owner}
                )
            ).all()
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _Handler:
    received: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Hold the next message's DATA (no answer) until released; then answer as `after_hold`.
    hold_next: bool = False
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    refuse_with: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_with:
            return self.refuse_with
        if self.hold_next:
            self.hold_next = False
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            # A server that could not tell its client the message was accepted does not deliver it.
            if session.transport is None or session.transport.is_closing():
                return "421 connection lost before the answer"
            # The client still waits: accept it normally.
        with self.lock:
            self.received.append(message_from_bytes(envelope.content))
        return "250 OK"


class SmtpServer:
    """A real aiosmtpd server on a fixed loopback port, which can go down and come back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _Handler()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[Message]:
        with self.handler.lock:
            return list(self.handler.received)

    def wait_for(self, count: int, timeout: float) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.messages()

    async def await_for(self, count: int, timeout: float) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages()
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        return self.messages()
