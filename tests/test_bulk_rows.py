"""Row validation of the CSV import: every kind of bad row, with its line number and FlightIn's message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.bulk_import import intake
from app.bulk_import.records import RecordSplitter
from app.bulk_import.rows import COLUMNS, RowError, to_row
from app.context import AppContext
from app.flights.schemas import FlightIn
from tests.bulk_helpers import BASE, HEADER, csv_text, import_csv, row

DEP = BASE.isoformat()
ARR = (BASE + timedelta(hours=2)).isoformat()

BAD_ROWS: dict[str, tuple[str, str]] = {
    "flight number too short": (row("A"), "flight_number: String should have at least 2 characters"),
    "flight number with symbols": (row("AI#101"), "flight_number: String should match pattern"),
    "flight number missing": (row(""), "flight_number: String should have at least 2 characters"),
    "source too short": (row(source="D"), "source: String should have at least 2 characters"),
    "destination too long": (row(destination="X" * 65), "destination: String should have at most 64"),
    "same airports": (row(source="Delhi", destination="delhi"), "source and destination must differ"),
    "departure not a date": (f"AI-1,Delhi,Mumbai,tomorrow,{ARR},100,10.00", "departure_ts: Input should be"),
    "naive timestamp": (
        f"AI-1,Delhi,Mumbai,2027-03-01T06:00:00,{ARR},100,10.00",
        "departure_ts: Input should have timezone info",
    ),
    "arrival before departure": (row(minutes=-30), "arrival_ts must be after departure_ts"),
    "arrival equals departure": (row(minutes=0), "arrival_ts must be after departure_ts"),
    "zero seats": (row(seats=0), "total_seats: Input should be greater than or equal to 1"),
    "too many seats": (row(seats=1001), "total_seats: Input should be less than or equal to 1000"),
    "seats not a number": (row(seats="many"), "total_seats: Input should be a valid integer"),
    "fractional seats": (row(seats="10.5"), "total_seats: Input should be a valid integer"),
    "negative price": (row(price="-1.00"), "price: Input should be greater than or equal to 0"),
    "three decimals": (row(price="10.005"), "price: Decimal input should have no more than 2 decimal places"),
    "price not a number": (row(price="free"), "price: Input should be a valid decimal"),
    "price too high": (row(price="100000000"), "price: Input should be less than 100000000"),
    "too few columns": ("AI-1,Delhi,Mumbai", "expected 7 columns, found 3"),
    "too many columns": (row() + ",extra", "expected 7 columns, found 8"),
}


async def test_each_kind_of_bad_row_is_reported_with_its_line_and_skipped(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    good = row("OK-1")
    lines = [good]
    for bad, _ in BAD_ROWS.values():
        lines.append(bad)
    lines.append(row("OK-2"))
    result = await import_csv(client, admin_headers, context, csv_text(*lines))

    assert result["status"] == "COMPLETED"
    summary = result["summary"]
    assert summary["total_rows"] == len(lines)
    assert summary["inserted"] == 2
    assert summary["failed"] == len(BAD_ROWS)
    errors = {e["row"]: e["error"] for e in summary["errors"]}
    for line, (name, (_, message)) in enumerate(BAD_ROWS.items(), start=3):
        assert message in errors[line], (name, errors.get(line))


async def test_errors_are_capped_but_counts_are_not(
    client: httpx.AsyncClient, admin_headers: dict[str, str], context: AppContext
) -> None:
    lines = [row(f"AI-{i}", seats=0) for i in range(1100)] + [row("OK-1")]
    result = await import_csv(client, admin_headers, context, csv_text(*lines))
    summary = result["summary"]
    assert summary["failed"] == 1100 and summary["inserted"] == 1
    assert len(summary["errors"]) == 1000
    assert summary["errors"][0]["row"] == 2 and summary["errors"][-1]["row"] == 1001


async def test_a_file_read_in_many_chunks_keeps_line_numbers_and_quoted_fields(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intake, "CHUNK_BYTES", 64)
    lines = [row(f"AI-{i}", departure=BASE + timedelta(hours=i)) for i in range(40)]
    lines[10] = row("AI-10", source='"Navi\nMumbai"', departure=BASE + timedelta(hours=10))
    lines[30] = row("AI-30", seats=0)
    result = await import_csv(client, admin_headers, context, csv_text(*lines))
    summary = result["summary"]
    assert summary["inserted"] == 38 and summary["failed"] == 2
    # A record is reported at the line it starts on; the quoted newline makes the file one line longer.
    assert [e["row"] for e in summary["errors"]] == [12, 33]
    assert summary["errors"][0]["error"].startswith("source: String should match pattern")
    assert summary["errors"][1]["error"] == "total_seats: Input should be greater than or equal to 1"


def test_splitter_handles_pieces_cut_anywhere() -> None:
    content = ("\ufeff" + HEADER + '\r\nA,"x\r\ny",z\r\n\r\nB,2,3\r\nC,"q""q",4').encode()
    for size in (1, 2, 3, 5, 7, 1000):
        splitter = RecordSplitter()
        records = []
        pieces = [content[i : i + size] for i in range(0, len(content), size)]
        for i, piece in enumerate(pieces):
            records += splitter.feed(piece, final=i == len(pieces) - 1)
        assert [(r.line, r.fields) for r in records] == [
            (1, HEADER.split(",")),
            (2, ["A", "x\r\ny", "z"]),
            (5, ["B", "2", "3"]),
            (6, ["C", 'q"q', "4"]),
        ], size


timestamps = st.one_of(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from([UTC, None])
    ).map(lambda d: d.isoformat()),
    st.sampled_from(["2027-01-01T10:00:00Z", "2027-02-30T10:00:00+05:30", "2027-01-01T24:00:00+00:00",
                     "2027-01-01T10:00:00+14:00", "2027-01-01T10:00:00-23:59", "2027-01-01 10:00:00+01:00",
                     "2027-01-01T10:00:60+00:00", "2027-01-01T10:00:00.5+00:00", "1700000000",
                     "2027-01-03T10:00:00Z", "2027-01-03T10:00:01Z", "1999-12-31T23:59:59Z",
                     "2000-01-01T05:30:00+05:30", "2100-01-01T00:00:00Z", "2100-01-01T00:00:01+00:00",
                     "0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "9999-12-31T23:00:00Z"]),
)  # fmt: skip
texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        ["AI-101", " AI-101 ", "Delhi", "delhi", "Delhi\u00a0", "A", "6E 12", "x" * 64, "x" * 65]
    ),
)
numbers = st.one_of(
    st.text(alphabet="0123456789.-+e_ ", max_size=12),
    st.sampled_from(["1", "1000", "1001", "0", "10.00", "10.005", "99999999.99", "100000000", "007", " 5"]),
)


@settings(max_examples=600, deadline=None)
@given(st.tuples(texts, texts, texts, timestamps, timestamps, numbers, numbers))
def test_the_fast_path_accepts_and_rejects_exactly_what_flightin_does(values: tuple[str, ...]) -> None:
    try:
        expected: FlightIn | None = FlightIn.model_validate(dict(zip(COLUMNS, values, strict=True)))
    except ValidationError:
        expected = None
    try:
        got = to_row(2, list(values), list(range(7)))
    except RowError:
        assert expected is None
        return
    assert expected is not None
    assert (got.flight_number, got.source, got.destination) == (
        expected.flight_number,
        expected.source,
        expected.destination,
    )
    assert (got.departure_ts, got.arrival_ts, got.total_seats, got.price) == (
        expected.departure_ts,
        expected.arrival_ts,
        expected.total_seats,
        expected.price,
    )
    assert got.departure_ts.utcoffset() == timedelta(0)
