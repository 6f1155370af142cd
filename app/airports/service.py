"""Airports in use (spellings stored in flights), their places and timezones, any spelling.

A flight's ``source`` / ``destination`` is stored under one canonical spelling per place
(app/airports/catalog.py): a known airport's, else the spelling already in use for that place
whatever its case and spacing, else the text as written, tidied. Timezones: an admin's override
(airports table, keyed by the stored spelling), else the shipped data set's, else DEFAULT_TIMEZONE.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import select, union
from sqlalchemy.dialects.postgresql import insert

from app.airports import catalog
from app.airports.schemas import AirportOut, PlaceOut, SuggestionOut
from app.models import Airport, Flight
from app.platform.errors import NotFound

if TYPE_CHECKING:
    from app.context import AppContext

_NAMES_TTL_SECONDS = 3600
SUGGESTIONS = 10


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
    _recent.pop(context.keys.airports, None)
    await context.redis.delete(context.keys.airports)


@dataclass(frozen=True, slots=True)
class InUse:
    """The spellings stored in flights, by matching key."""

    names: frozenset[str]
    by_fold: dict[str, str]
    # Search terms already resolved against these names (the hot path's memo; bounded).
    terms: dict[str, list[str]] = field(default_factory=dict)


@functools.lru_cache(maxsize=4)
def _in_use_of(body: bytes) -> InUse:
    names: list[str] = orjson.loads(body)
    return InUse(frozenset(names), {catalog.fold(name): name for name in names})


async def in_use(context: AppContext) -> InUse:
    used = _in_use_of(await list_names(context))
    _recent[context.keys.airports] = (time.monotonic(), used)
    return used


# The last InUse this process read, for the search's hot path: a search by a name no data set
# knows, or by a city, would otherwise cost a Redis read (~40% of a cached search's CPU). Dropped
# at once when this process changes flights (invalidate_names); another process's new airport is
# seen within _RECENT_SECONDS.
_RECENT_SECONDS = 1.0
_TERMS = 10_000
_recent: dict[str, tuple[float, InUse]] = {}  # by the key space's names key


# The read of an expired copy in flight, by names key: one per process, not one per concurrent
# search (32 at once each opened a Redis connection of their own every second).
_refreshing: dict[str, asyncio.Future[InUse]] = {}


async def _in_use_recent(context: AppContext) -> InUse:
    key = context.keys.airports
    recent = _recent.get(key)
    reading = _refreshing.get(key)
    if recent is not None and (reading is not None or time.monotonic() - recent[0] < _RECENT_SECONDS):
        return recent[1]  # fresh, or another search is reading it: the last copy meanwhile
    if reading is None:
        reading = _refreshing[key] = asyncio.ensure_future(in_use(context))
        reading.add_done_callback(
            lambda done: _refreshing.pop(key, None) if _refreshing.get(key) is done else None
        )
    return await asyncio.shield(reading)


async def canonical_spellings(context: AppContext, texts: Iterable[str]) -> dict[str, str]:
    """The spelling each text is stored under (see the module's docstring)."""
    texts = set(texts)
    result = {text: known for text in texts if (known := catalog.canonical(text)) is not None}
    unknown = texts - result.keys()
    if unknown:
        used = (await in_use(context)).by_fold
        if any(catalog.fold(text) not in used for text in unknown):
            # An airport set up by an admin before its first flight keeps the admin's spelling.
            set_up = {catalog.fold(name): name for name in await timezones(context)}
            used = {**set_up, **used}
        new: dict[str, str] = {}  # the same spelling for two new variants in one batch
        for text in sorted(unknown):
            key = catalog.fold(text)
            result[text] = used.get(key) or new.setdefault(key, catalog.tidy(text))
    return result


async def spellings(context: AppContext, text: str) -> list[str]:
    """The stored spellings a search term stands for: one airport (its code, an alias or its name),
    or every airport with flights of a city (a metropolitan code that is no airport's own, or a
    city's name)."""
    known = catalog.canonical(text)
    if known is not None:
        return [known]
    used = await _in_use_recent(context)
    memo = used.terms.get(text)
    if memo is not None:
        return memo
    city = catalog.city_named(text)
    if city is None:
        key = catalog.fold(text)
        if key not in used.by_fold:  # perhaps new since: read again
            used = await in_use(context)
        found = [used.by_fold[key]] if key in used.by_fold else []
    else:
        members = [catalog.spelling(code) for code in city.airports]
        own = used.by_fold.get(catalog.fold(city.name)), used.by_fold.get(catalog.fold(text))
        found = sorted({name for name in (*members, *own) if name is not None and name in used.names})
    if not found:
        return [catalog.tidy(text)]
    if len(used.terms) < _TERMS:
        used.terms[text] = found
    return found


async def timezones(context: AppContext) -> dict[str, str]:
    """Every airport whose timezone an admin set (others: the data set's, else the default)."""
    async with context.session_factory() as session:
        rows = (await session.execute(select(Airport.name, Airport.timezone))).all()
    return {name: tz for name, tz in rows}


def effective_timezone(overrides: dict[str, str], name: str, default: str) -> str:
    return overrides.get(name) or catalog.timezone(name) or default


async def zone_name(context: AppContext, name: str) -> str:
    return effective_timezone(await timezones(context), name, context.settings.default_timezone)


def _out(name: str, overrides: dict[str, str], default: str) -> AirportOut:
    place = catalog.place(name)
    return AirportOut(
        name=name,
        code=place.code,
        city=place.city or None,
        country=place.country or None,
        timezone=effective_timezone(overrides, name, default),
        is_default=name not in overrides,
    )


async def _stored_spelling(context: AppContext, text: str) -> str:
    return (await canonical_spellings(context, [text]))[text]


async def get(context: AppContext, text: str) -> AirportOut:
    name = await _stored_spelling(context, text)
    overrides = await timezones(context)
    used = await in_use(context)
    if catalog.airport_code(name) is None and name not in overrides and name not in used.names:
        raise NotFound(f"Airport {text!r} not found")
    return _out(name, overrides, context.settings.default_timezone)


async def list_all(context: AppContext) -> list[AirportOut]:
    used = await in_use(context)
    overrides = await timezones(context)
    default = context.settings.default_timezone
    return [_out(name, overrides, default) for name in sorted(used.names | overrides.keys())]


async def places(context: AppContext) -> list[PlaceOut]:
    """Every airport in a flight with its code, city, country and timezone (public)."""
    used = await in_use(context)
    overrides = await timezones(context)
    default = context.settings.default_timezone
    return [
        PlaceOut(**_out(name, overrides, default).model_dump(exclude={"is_default"}))
        for name in sorted(used.names)
    ]


async def set_timezone(context: AppContext, text: str, timezone: str) -> AirportOut:
    name = await _stored_spelling(context, text)
    async with context.session_factory() as session:
        previous = await session.scalar(select(Airport.timezone).where(Airport.name == name))
        statement = insert(Airport).values(name=name, timezone=timezone)
        await session.execute(
            statement.on_conflict_do_update(index_elements=[Airport.name], set_={"timezone": timezone})
        )
        await session.commit()
    effective_before = previous or catalog.timezone(name) or context.settings.default_timezone
    if effective_before != timezone:
        await context.timezone_changes.publish(name)
    await invalidate_names(context)
    return await get(context, name)


async def suggest(context: AppContext, text: str) -> list[SuggestionOut]:
    """Airports with flights and cities with such airports, best first: an exact code, then a
    prefix of a code, a city or a name (a city above its airports)."""
    key = catalog.fold(text)
    if not key:
        return []
    used = await in_use(context)
    overrides = await timezones(context)
    default = context.settings.default_timezone
    ranked: list[tuple[tuple[int, int, str], SuggestionOut]] = []
    cities: dict[str, list[str]] = {}
    for name in used.names:
        place = catalog.place(name)
        if place.code is not None:
            cities.setdefault(catalog.city_of(place.code).name, []).append(name)
        rank = _rank(key, place.code, place.city, name, place.name)
        if rank is not None:
            tz = effective_timezone(overrides, name, default)
            item = SuggestionOut(
                code=place.code,
                name=name if place.code is None else place.name,
                city=place.city or None,
                country=place.country or None,
                timezone=tz,
                kind="airport",
            )
            ranked.append(((rank, 1, name), item))
    for city_name, members in cities.items():
        if len(members) < 2:  # a one-airport city is that airport
            continue
        city = catalog.city_named(city_name)
        code = city.code if city is not None and catalog.airport_code(city.code or "") is None else None
        rank = _rank(key, code, city_name, city_name, city_name)
        if rank is not None:
            first = catalog.place(members[0])
            zones = [effective_timezone(overrides, m, default) for m in sorted(members)]
            item = SuggestionOut(
                code=code,
                name=city_name,
                city=city_name,
                country=first.country or None,
                timezone=zones[0],
                kind="city",
            )
            ranked.append(((rank, 0, city_name), item))
    ranked.sort(key=lambda pair: pair[0])
    return [item for _, item in ranked[:SUGGESTIONS]]


def _rank(key: str, code: str | None, city: str, spelling: str, name: str) -> int | None:
    if code is not None and catalog.fold(code) == key:
        return 0
    if code is not None and catalog.fold(code).startswith(key):
        return 1
    if catalog.fold(city).startswith(key) or catalog.fold(spelling).startswith(key):
        return 2
    if catalog.fold(name).startswith(key):
        return 3
    return None
