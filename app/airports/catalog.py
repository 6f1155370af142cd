"""Every IATA airport as a place (code, name, city, country, timezone), from the pinned
``airportsdata`` package, plus two small tables shipped here: IATA metropolitan areas
(``metros.csv``) and the seed's names of its airports (``aliases.csv``; they win over a code
spelled the same: ``Goa`` is Goa, GOI, and Genoa is ``Genova``).

Pure and in-process: nothing is fetched at run time. Matching folds case and whitespace
(``fold``): `` new  york `` is ``New York``, ``jfk`` is ``JFK``.

A text written as a flight's endpoint is a *place*: an airport when it is an IATA code, an alias
or an airport's full name; otherwise a place of its own (its name as written), whose timezone is
that of the city it names when all of that city's airports agree on one. Each airport has one
*canonical spelling*, the one flights are stored under: its alias marked preferred (the seed's
``Delhi``) else its code, so that flights written ``DEL`` and ``Delhi`` share one node of the
search graph.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

import airportsdata


def fold(text: str) -> str:
    """The matching key of a spelling: case and whitespace do not count."""
    return "".join(text.split()).casefold()


def tidy(text: str) -> str:
    """A spelling as stored when nothing better is known: trimmed, inner whitespace single."""
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Place:
    code: str | None
    name: str
    city: str
    country: str
    timezone: str | None  # None: not known (DEFAULT_TIMEZONE applies)


@dataclass(frozen=True, slots=True)
class City:
    code: str | None  # the IATA metropolitan code, when the city has one
    name: str
    country: str
    airports: tuple[str, ...]  # IATA codes


class _Catalog:
    def __init__(self) -> None:
        table = airportsdata.load("IATA")
        self.airports: dict[str, Place] = {
            code: Place(code, row["name"], row["city"], row["country"], row["tz"] or None)
            for code, row in table.items()
        }
        self.preferred: dict[str, str] = {}
        self.aliases: dict[str, str] = {}
        for alias in _rows("aliases.csv"):
            self.aliases[fold(alias["alias"])] = alias["code"]
            if alias["preferred"] == "1":
                self.preferred[alias["code"]] = alias["alias"]
        # Airports' full names, when unique (many small fields share a name).
        names: dict[str, list[str]] = {}
        for code, place in self.airports.items():
            names.setdefault(fold(place.name), []).append(code)
        self.names = {key: codes[0] for key, codes in names.items() if len(codes) == 1}
        self.metros: dict[str, City] = {}
        metro_names: dict[str, str] = {}
        for metro in _rows("metros.csv"):
            city = City(metro["code"], metro["city"], metro["country"], tuple(metro["airports"].split()))
            self.metros[fold(city.name)] = city
            metro_names[metro["code"]] = fold(city.name)
        self.metro_codes = metro_names
        self.in_metro = {code: key for key, city in self.metros.items() for code in city.airports}
        # Cities by name from the data set (a metropolitan table entry wins over them).
        grouped: dict[str, list[str]] = {}
        for code, place in self.airports.items():
            if place.city:
                grouped.setdefault(fold(place.city), []).append(code)
        self.cities: dict[str, City] = {}
        for key, codes in grouped.items():
            first = self.airports[codes[0]]
            self.cities[key] = City(None, first.city, first.country, tuple(sorted(codes)))
        self.cities.update(self.metros)


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("app.airports").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@functools.cache
def _catalog() -> _Catalog:
    return _Catalog()


def airport_code(text: str) -> str | None:
    """The IATA code of the airport ``text`` names (code, alias or full name), else None."""
    catalog, key = _catalog(), fold(text)
    # The seed's names first: `Goa` is Goa (GOI), as the seed meant, not Genoa's code GOA.
    if key in catalog.aliases:
        return catalog.aliases[key]
    if _is_code(text) and (code := key.upper()) in catalog.airports:
        return code
    return catalog.names.get(key)


def _is_code(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) == 3 and stripped.isalpha() and stripped.isascii()


def airport(code: str) -> Place:
    return _catalog().airports[code]


def spelling(code: str) -> str:
    """The canonical spelling of an airport: what its flights are stored under."""
    return _catalog().preferred.get(code, code)


@functools.lru_cache(maxsize=65536)
def canonical(text: str) -> str | None:
    """The canonical spelling of a known airport named by ``text``, else None (a place of its own,
    whose spelling is the one already in use, app/airports/service.py)."""
    code = airport_code(text)
    return None if code is None else spelling(code)


def city_named(text: str) -> City | None:
    """The city ``text`` names: a metropolitan code that is no airport's code, or a city's name.
    An airport's own code (``HOU``) or an alias (``Delhi``) is that airport, not a city."""
    catalog, key = _catalog(), fold(text)
    if _is_code(text) and key.upper() in catalog.metro_codes and key.upper() not in catalog.airports:
        return catalog.metros[catalog.metro_codes[key.upper()]]
    if key in catalog.aliases:
        return None
    return catalog.cities.get(key)


def city_of(code: str) -> City:
    """The city an airport belongs to: its metropolitan area, else its city in the data set."""
    catalog = _catalog()
    if code in catalog.in_metro:
        return catalog.metros[catalog.in_metro[code]]
    place = catalog.airports[code]
    return catalog.cities.get(fold(place.city)) or City(None, place.city, place.country, (code,))


@functools.lru_cache(maxsize=65536)
def place(text: str) -> Place:
    """What a stored spelling stands for: a known airport, else a place of its own."""
    code = airport_code(text)
    if code is not None:
        return _catalog().airports[code]
    city = _catalog().cities.get(fold(text))
    if city is None:
        return Place(None, text, "", "", None)
    zones = {_catalog().airports[c].timezone for c in city.airports}
    countries = {_catalog().airports[c].country for c in city.airports}
    return Place(
        None,
        text,
        city.name,
        countries.pop() if len(countries) == 1 else "",
        zones.pop() if len(zones) == 1 else None,
    )


@functools.lru_cache(maxsize=65536)
def timezone(text: str) -> str | None:
    """The shipped timezone of a stored spelling, None when unknown."""
    return place(text).timezone
