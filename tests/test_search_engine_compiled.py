"""The compiled engine (numba) finds exactly what the pure-Python engine finds, in the same order,
and encodes it as codec.encode_list does: on random graphs with many ties in price and arrival."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.flights.events import FlightSnapshot
from app.search import compiled
from app.search.codec import encode_list
from app.search.data import graph_of
from app.search.engine import Rules, search_origin

HOUR = 3600
BASE = 1_900_000_000 - 1_900_000_000 % 86400  # a UTC midnight

flights = st.lists(
    st.tuples(
        st.integers(0, 3),  # source; few airports, so that connections (and revisits) abound
        st.integers(0, 3),  # destination (a different airport, below)
        st.integers(0, 40).map(lambda k: BASE + k * 1800),  # departure: 20 h, on half hours
        st.sampled_from([1800, 3600, 2 * HOUR]),  # duration: few values, so arrivals tie
        st.sampled_from([100, 200, 300]),  # price: few values, so totals tie
    ),
    min_size=10,
    max_size=50,
)
rules = st.builds(
    Rules,
    min_connection=st.sampled_from([0, 1800, 2700]),
    max_layover=st.sampled_from([1800, 4 * HOUR, 12 * HOUR]),
    max_legs=st.integers(1, 3),
)


def flight(source: int, destination: int, departure: int, duration: int, price: int) -> FlightSnapshot:
    return FlightSnapshot(
        uuid.uuid4(),
        "FD1",
        f"A{source}",
        f"A{destination}",
        datetime.fromtimestamp(departure, UTC),
        datetime.fromtimestamp(departure + duration, UTC),
        100,
        Decimal(price) / 100,
    )


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(specs=flights, rules=rules, depth=st.sampled_from([1, 2, 3, 5, 40]), hours=st.sampled_from([6, 24]))
def test_compiled_engine_equals_python_engine(
    specs: list[tuple[int, int, int, int, int]], rules: Rules, depth: int, hours: int
) -> None:
    rows = [flight(*spec) for spec in specs if spec[0] != spec[1]]
    graph, records = graph_of(rows)
    arrays = compiled.CompiledGraph.of(graph, records)
    for origin in range(len(graph.airports)):
        for start in (BASE, BASE + 6 * HOUR):
            end = start + hours * HOUR
            expected = search_origin(graph, origin, start, end, rules, depth)
            assert compiled.search_origin(arrays, origin, start, end, rules, depth) == expected
            encoded = compiled.encode_origin_day(arrays, origin, start, end, rules, depth)
            assert encoded == {
                destination: encode_list(
                    [tuple(records[f] for f in legs) for _, _, legs in itineraries],
                    expected.complete[destination],
                )
                for destination, itineraries in expected.lists.items()
            }


def test_an_empty_graph_and_an_empty_window_find_nothing() -> None:
    graph, records = graph_of([])
    assert compiled.CompiledGraph.of(graph, records).graph.ids == []
    graph, records = graph_of([flight(0, 1, BASE, HOUR, 100)])
    arrays = compiled.CompiledGraph.of(graph, records)
    rules = Rules(0, HOUR, 3)
    assert compiled.encode_origin_day(arrays, 0, BASE + 1, BASE + HOUR, rules, 40) == {}
    assert compiled.search_origin(arrays, 0, BASE, BASE + 1, rules, 40).lists == {
        1: [(100, BASE + HOUR, (0,))]
    }
