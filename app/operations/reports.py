"""Operations figures: per route and UTC day, and the next departures.

Revenue of a flight is the sum over its CONFIRMED bookings rows of ``unit_price x seats`` (the
fare paid per seat when booked; the flight's price for rows written before unit_price existed).
Cancelled rows count nothing: a refund takes back what a cancelled booking paid, and the share an
order keeps after a late cancellation (half its total) is not attributed to flights.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select, text

from app.flights import service as flights
from app.models import Flight
from app.operations.schemas import Departure, DeparturesOut, RouteDay, RoutesReport

if TYPE_CHECKING:
    from app.context import AppContext

MAX_ROUTE_ROWS = 10_000
MAX_DEPARTURES = 500

_ROUTES = """
SELECT f.source, f.destination, (f.departure_ts AT TIME ZONE 'UTC')::date AS day,
       count(*) FILTER (WHERE f.status = 'SCHEDULED') AS flights,
       count(*) FILTER (WHERE f.status = 'CANCELLED') AS cancelled,
       coalesce(sum(f.total_seats) FILTER (WHERE f.status = 'SCHEDULED'), 0) AS seats,
       coalesce(sum(s.sold), 0) AS sold, coalesce(sum(s.revenue), 0) AS revenue
FROM flights f LEFT JOIN LATERAL (
    SELECT sum(b.seats) AS sold, sum(coalesce(b.unit_price, f.price) * b.seats) AS revenue
    FROM bookings b WHERE b.flight_id = f.id AND b.status = 'CONFIRMED'
) s ON true
WHERE f.departure_ts >= :start AND f.departure_ts < :end
GROUP BY 1, 2, 3 ORDER BY 3, 1, 2 LIMIT :limit
"""

_LOADS = """
SELECT flight_id,
       coalesce(sum(seats) FILTER (WHERE status = 'CONFIRMED'), 0) AS sold,
       coalesce(sum(seats) FILTER (WHERE status IN ('HELD', 'PENDING')), 0) AS held,
       count(DISTINCT order_id) FILTER (WHERE status IN ('HELD', 'PENDING', 'CONFIRMED')) AS orders
FROM bookings WHERE flight_id = ANY(:ids) GROUP BY flight_id
"""


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


async def routes(context: AppContext, date_from: date, date_to: date) -> RoutesReport:
    start = datetime.combine(date_from, time.min, tzinfo=UTC)
    end = datetime.combine(date_to, time.min, tzinfo=UTC) + timedelta(days=1)
    async with context.engine.connect() as connection:
        rows = (
            await connection.execute(text(_ROUTES), {"start": start, "end": end, "limit": MAX_ROUTE_ROWS})
        ).all()
    return RoutesReport(
        date_from=date_from,
        date_to=date_to,
        items=[
            RouteDay(
                source=r.source,
                destination=r.destination,
                day=r.day,
                flights=r.flights,
                cancelled_flights=r.cancelled,
                seats=int(r.seats),
                seats_sold=int(r.sold),
                load_factor=_ratio(int(r.sold), int(r.seats)),
                revenue=Decimal(r.revenue).quantize(Decimal("0.01")),
            )
            for r in rows
        ],
    )


async def departures(context: AppContext, hours: int) -> DeparturesOut:
    now = datetime.now(UTC)
    async with context.session_factory() as session:
        rows = (
            await session.scalars(
                select(Flight)
                .where(Flight.departure_ts >= now, Flight.departure_ts < now + timedelta(hours=hours))
                .order_by(Flight.departure_ts, Flight.flight_number)
                .limit(MAX_DEPARTURES)
            )
        ).all()
        loads = {
            r.flight_id: r for r in (await session.execute(text(_LOADS), {"ids": [f.id for f in rows]})).all()
        }
    items = []
    for out in await flights.with_live_seats(context, rows):
        load = loads.get(out.id)
        sold, held = (int(load.sold), int(load.held)) if load else (0, 0)
        items.append(
            Departure(
                flight=out,
                seats_sold=sold,
                seats_held=held,
                load_factor=_ratio(sold, out.total_seats),
                orders=int(load.orders) if load else 0,
            )
        )
    return DeparturesOut(hours=hours, items=items)
