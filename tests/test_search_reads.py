"""The search read path's shortcuts: parameters validated by hand, one pipelined Redis connection.

Both must be invisible: the hand check accepts only what the declared model accepts, with the
same values (everything else is answered by FastAPI's own validation, its 422 bodies unchanged),
and the thin Redis client fails and recovers the way redis-py does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.context import AppContext
from app.platform.redis.multiplex import Multiplexed, encode
from app.search import index
from app.search import storage as store
from app.search.filters import Filters
from app.search.schemas import (
    FILTER_PARAMETERS,
    CalendarQuery,
    SearchQuery,
    plain_calendar_params,
    plain_search_params,
)
from tests import infra
from tests.conftest import create_flight
from tests.search_reference import brute_force
from tests.test_search_updates import DAY, at, search

_TEXT = st.text(alphabet=st.sampled_from(["A", "b", "é", " ", "\t", "-", "\x00", "\x7f", "1"]), max_size=6)
_DATES = st.one_of(
    st.dates().map(str), st.sampled_from(["2027-02-30", "2027-1-05", "20270105", "2027-01-05T00:00", ""])
)
_SEATS = st.one_of(st.none(), st.sampled_from(["0", "1", "9", "10", "+3", "03", " 2", "2.0", "two", ""]))


@given(source=st.one_of(st.none(), _TEXT), destination=st.one_of(st.none(), _TEXT), day=_DATES, seats=_SEATS)
def test_plain_parameters_are_only_what_the_model_accepts_unchanged(
    source: str | None, destination: str | None, day: str, seats: str | None
) -> None:
    raw = {"source": source, "destination": destination, "date": day, "seats": seats}
    params = {k: v for k, v in raw.items() if v is not None}
    plain = plain_search_params(params)
    if plain is None:
        return  # FastAPI validates it with the model, as before
    model = SearchQuery.model_validate(params)
    assert plain == (model.source, model.destination, model.date, model.seats, None)


_MONTHS = st.sampled_from(
    ["2027-01", "2099-12", "2100-01", "1999-12", "2027-13", "2027-1", "2027-01 ", "", "x"]
)


@given(
    source=st.one_of(st.none(), _TEXT), destination=st.one_of(st.none(), _TEXT), month=_MONTHS, seats=_SEATS
)
def test_plain_calendar_parameters_are_only_what_the_model_accepts_unchanged(
    source: str | None, destination: str | None, month: str, seats: str | None
) -> None:
    raw = {"source": source, "destination": destination, "month": month, "seats": seats}
    params = {k: v for k, v in raw.items() if v is not None}
    plain = plain_calendar_params(params)
    if plain is None:
        return
    model = CalendarQuery.model_validate(params)
    assert plain == (model.source, model.destination, model.days(), model.seats)


@pytest.mark.parametrize(
    "params",
    [
        {"source": "Aville", "destination": "Bville", "date": "2027-01-05"},
        {"source": "Navi Mumbai", "destination": "Pune", "date": "2027-12-31", "seats": "9"},
    ],
)
def test_ordinary_queries_take_the_plain_path(params: dict[str, str]) -> None:
    plain = plain_search_params(params)
    assert plain is not None
    model = SearchQuery.model_validate(params)
    assert plain == (model.source, model.destination, model.date, model.seats, None)
    assert Filters.of(model) is None


_FILTER_VALUES = st.sampled_from(
    ["0", "1", "2", "3", "-1", "01", " 1", "1.0", "", "4320", "4321", "99999", "price", "duration",
     "arrival", "departure", "Price", "price\x00", "10:00", "09:59", "7:5", "24:00", "23:59", "00:00",
     "10:00 ", "\uff11\uff10:00"]
)  # fmt: skip


@given(values=st.dictionaries(st.sampled_from(FILTER_PARAMETERS), _FILTER_VALUES, min_size=1))
def test_plain_filters_are_only_what_the_model_accepts_unchanged(values: dict[str, str]) -> None:
    params = {"source": "Aville", "destination": "Bville", "date": "2027-01-05", **values}
    plain = plain_search_params(params)
    try:
        model = SearchQuery.model_validate(params)
    except ValidationError:
        assert plain is None  # the model words the 422
        return
    if plain is None:
        return  # the model decides, as before
    assert plain[4] is not None
    assert Filters.of(plain[4]) == Filters.of(model)


def test_the_model_still_rejects_what_the_plain_path_declines() -> None:
    for params in ({"source": "Aville", "destination": "aville", "date": "2027-01-05"}, {"source": "Aville"}):
        assert plain_search_params(params) is None
        with pytest.raises(ValidationError):
            SearchQuery.model_validate(params)


@infra.single_redis_only
async def test_the_answer_survives_a_killed_read_connection(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    await create_flight(
        client,
        admin_headers,
        flight_number="R1",
        source="Aville",
        destination="Bville",
        departure=at(6),
        price=90,
    )
    expected = await search(client, "Aville", "Bville")
    reads = context.search_reads
    assert reads is not None
    connection_id = await reads.execute(encode("CLIENT", "ID"))
    await context.redis.execute_command("CLIENT", "KILL", "ID", connection_id)
    # The lost connection is noticed and the read retried once on a fresh one.
    assert await search(client, "Aville", "Bville") == expected
    assert await reads.execute(encode("CLIENT", "ID")) != connection_id


@infra.single_redis_only
async def test_error_replies_raise_redis_py_exceptions(context: AppContext) -> None:
    reads = context.search_reads
    assert reads is not None
    with pytest.raises(NoScriptError):
        await reads.execute(encode("EVALSHA", "0" * 40, 0))
    with pytest.raises(ResponseError):
        await reads.execute(encode("NOSUCHCOMMAND"))
    assert await reads.execute(encode("PING")) == b"PONG"  # the connection is still usable


async def test_a_silent_server_times_out_and_an_absent_one_is_a_connection_error() -> None:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)  # reads the command, never answers

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port: Any = server.sockets[0].getsockname()[1]
    silent = Multiplexed("127.0.0.1", port, username=None, password=None, db=0, timeout=0.3)
    try:
        with pytest.raises(RedisTimeoutError):
            await silent.execute(encode("PING"))
    finally:
        silent.close()
        server.close()
        await server.wait_closed()
    absent = Multiplexed("127.0.0.1", port, username=None, password=None, db=0, timeout=0.3)
    with pytest.raises(RedisConnectionError):
        await absent.execute(encode("PING"))


async def test_itineraries_beyond_the_first_20_read_their_cards_when_earlier_ones_are_filtered(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    # 26 direct flights, the 6 cheapest with a single seat: a search for 2 seats answers
    # itineraries 7-26 of the stored list, whose cards the first read did not fetch.
    for k in range(26):
        await create_flight(
            client,
            admin_headers,
            flight_number=f"R{k:02d}",
            source="Aville",
            destination="Bville",
            departure=at(1 + k // 3, 20 * (k % 3)),
            price=100 + k,
            total_seats=1 if k < 6 else 5,
        )
    await index.rebuild(context)
    assert await context.redis.hget(store.day_key(context, "Aville", DAY), store.BUILT) is not None
    answer = await search(client, "Aville", "Bville", seats=2)
    assert answer == await brute_force(context, "Aville", "Bville", DAY, 2)
    assert [it["flights"][0]["flight_number"] for it in answer] == [f"R{k:02d}" for k in range(6, 26)]
