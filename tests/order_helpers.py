"""Helpers shared by the order tests (no tests here)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from app.context import AppContext
from tests.conftest import create_flight

# Outbound on DAY, return three days later.
DAY = (datetime.now(UTC) + timedelta(days=10)).replace(hour=6, minute=0, second=0, microsecond=0)


def adult(family: str = "Rao", given: str = "Asha", born: date = date(1985, 4, 2)) -> dict[str, Any]:
    return {"given_name": given, "family_name": family, "born_on": born.isoformat(), "type": "adult"}


def order_body(
    slices: list[list[Any]],
    passengers: list[dict[str, Any]] | None = None,
    *,
    hold: bool = False,
    email: str = "asha@example.com",
) -> dict[str, Any]:
    return {
        "slices": [{"flight_ids": [str(f) for f in part]} for part in slices],
        "passengers": passengers or [adult()],
        "contact": {"email": email},
        "hold": hold,
    }


async def round_trip(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    *,
    seats: int = 10,
    day: datetime = DAY,
    prices: tuple[float, float] = (5000, 4000),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Delhi -> Mumbai on ``day``, Mumbai -> Delhi three days later."""
    out = await create_flight(
        client,
        admin_headers,
        flight_number=f"AI-{uuid.uuid4().hex[:4]}",
        source="Delhi",
        destination="Mumbai",
        departure=day,
        total_seats=seats,
        price=prices[0],
    )
    back = await create_flight(
        client,
        admin_headers,
        flight_number=f"AI-{uuid.uuid4().hex[:4]}",
        source="Mumbai",
        destination="Delhi",
        departure=day + timedelta(days=3),
        total_seats=seats,
        price=prices[1],
    )
    return out, back


async def seat_rows(context: AppContext, flight_id: Any) -> int:
    """Seats of seat-holding rows (PENDING, CONFIRMED, HELD): never more than total_seats."""
    async with context.engine.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT COALESCE(SUM(seats), 0) FROM bookings "
                "WHERE flight_id = :id AND status IN ('PENDING', 'CONFIRMED', 'HELD')"
            ),
            {"id": uuid.UUID(str(flight_id))},
        )
        return int(result.scalar_one())


async def counter(context: AppContext, flight_id: Any) -> int | None:
    value = await context.redis.get(context.keys.seats(uuid.UUID(str(flight_id))))
    return None if value is None else int(value)


async def order_rows(context: AppContext, order_id: Any) -> list[tuple[str, int, int, int]]:
    """(status, seats, slice_index, leg_index) of the order's bookings rows, in travel order."""
    async with context.engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT status, seats, slice_index, leg_index FROM bookings WHERE order_id = :id "
                "ORDER BY slice_index, leg_index"
            ),
            {"id": uuid.UUID(str(order_id))},
        )
        return [(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]


async def notices(context: AppContext, order_id: Any) -> list[tuple[str, str, str]]:
    async with context.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT kind, subject, body FROM notifications WHERE order_id = :id ORDER BY created_at"),
            {"id": uuid.UUID(str(order_id))},
        )
        return [(r[0], r[1], r[2]) for r in rows]


async def move_deadline(context: AppContext, order_id: Any, to: datetime) -> None:
    async with context.engine.begin() as connection:
        await connection.execute(
            text("UPDATE orders SET payment_required_by = :t WHERE id = :id"),
            {"t": to, "id": uuid.UUID(str(order_id))},
        )


async def move_flight(context: AppContext, flight_id: Any, departure: datetime) -> None:
    """Set a flight's times directly (the API refuses departures in the past)."""
    async with context.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE flights SET departure_ts = CAST(:d AS timestamptz), "
                "arrival_ts = CAST(:d AS timestamptz) + interval '2 hours' WHERE id = :id"
            ),
            {"d": departure, "id": uuid.UUID(str(flight_id))},
        )
