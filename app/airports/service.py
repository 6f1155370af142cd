"""Airport names (from flights) and their IANA timezones (airports table, else DEFAULT_TIMEZONE)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from sqlalchemy import select, union
from sqlalchemy.dialects.postgresql import insert

from app.airports.schemas import AirportOut
from app.models import Airport, Flight
from app.platform.errors import NotFound

if TYPE_CHECKING:
    from app.context import AppContext

_NAMES_TTL_SECONDS = 3600


async def list_names(context: AppContext) -> bytes:
    """The sorted JSON array of every airport in a flight, pre-serialised and cached in Redis."""
    cached = await context.redis.get(context.keys.airports)
    if isinstance(cached, bytes):
        return cached
    async with context.session_factory() as session:
        names = (await session.execute(union(select(Flight.source), select(Flight.destination)))).scalars()
        body = orjson.dumps(sorted(names))
    await context.redis.set(context.keys.airports, body, ex=_NAMES_TTL_SECONDS)
    return body


async def invalidate_names(context: AppContext) -> None:
    await context.redis.delete(context.keys.airports)


async def timezones(context: AppContext) -> dict[str, str]:
    """Every airport with a set timezone (others have the default timezone)."""
    async with context.session_factory() as session:
        rows = (await session.execute(select(Airport.name, Airport.timezone))).all()
    return {name: tz for name, tz in rows}


async def get(context: AppContext, name: str) -> AirportOut:
    async with context.session_factory() as session:
        airport = await session.get(Airport, name)
        if airport is not None:
            return AirportOut(name=airport.name, timezone=airport.timezone, is_default=False)
        in_use = await session.scalar(
            select(Flight.id).where((Flight.source == name) | (Flight.destination == name)).limit(1)
        )
    if in_use is None:
        raise NotFound(f"Airport {name!r} not found")
    return AirportOut(name=name, timezone=context.settings.default_timezone, is_default=True)


async def list_all(context: AppContext) -> list[AirportOut]:
    names: list[str] = orjson.loads(await list_names(context))
    known = await timezones(context)
    default = context.settings.default_timezone
    return [
        AirportOut(name=name, timezone=known.get(name, default), is_default=name not in known)
        for name in sorted(set(names) | set(known))
    ]


async def set_timezone(context: AppContext, name: str, timezone: str) -> AirportOut:
    async with context.session_factory() as session:
        previous = await session.scalar(select(Airport.timezone).where(Airport.name == name))
        statement = insert(Airport).values(name=name, timezone=timezone)
        await session.execute(
            statement.on_conflict_do_update(index_elements=[Airport.name], set_={"timezone": timezone})
        )
        await session.commit()
    effective_before = previous or context.settings.default_timezone
    if effective_before != timezone:
        await context.timezone_changes.publish(name)
    await invalidate_names(context)
    return AirportOut(name=name, timezone=timezone, is_default=False)
