"""Fuzzing of every operation, and of what the schema does not describe, against a real API process.

Contract (General): "A 5xx is always a bug: no input may produce one." Contract (Input limits):
"Text never contains NUL or unpaired surrogates (422); numbers are finite (NaN / Infinity -> 422).
No request, however malformed (multipart, paths, headers, encodings), gets a 5xx."

- Schemathesis runs every operation in the OpenAPI schema with valid and invalid inputs
  (FUZZ_EXAMPLES per operation and mode), anonymously, as a user and as an admin; every answer
  must be a non-5xx whose body matches the schema for its status. Half the cases then have some of
  their values poisoned (``_poisoned``): NUL and lone surrogates in strings, NaN / Infinity in
  numbers, invalid UTF-8 in form fields, in the body, query and path. Schemathesis alone never
  generates those (its strings are encodable UTF-8, its numbers finite), which is how the fuzz
  test once passed while each of them was a 500.
- Hypothesis drives what the schema cannot describe: raw requests (any path, including the
  single-page app's, odd header bytes, bodies in broken encodings) and multipart bodies built by
  hand (long or odd boundaries, odd file names, a missing closing boundary).

``FUZZ_EXAMPLES`` (default 12) scales every part; CI runs the default (about a minute), a bigger
run is ``FUZZ_EXAMPLES=200``. Each test ends by printing how many requests it sent (``-s``).

Documented-status checking is left out on purpose: FastAPI documents only the success and 422
answers, so the contract's 401/403/404/409 would all count as undocumented.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)
from schemathesis.core import NOT_SET
from schemathesis.generation.modes import GenerationMode

from app.cli import migrate
from app.main import create_app
from app.platform.config import Settings, to_driver_url
from app.platform.embedded import free_port
from tests.conftest import flight_body
from tests.infra import TestServers

ROOT = Path(__file__).resolve().parent.parent
PORT = free_port()
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
HEADER = "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price"
CSV = f"{HEADER}\nFZ-9,Delhi,Mumbai,2031-01-01T10:00:00Z,2031-01-01T12:00:00Z,100,99.50\n".encode()

# The schema as the app publishes it; building the app does not touch PostgreSQL or Redis.
schema = schemathesis.openapi.from_dict(
    create_app(
        Settings(
            database_url="postgresql://unused@127.0.0.1:1/unused",
            redis_url="redis://127.0.0.1:1/0",
            jwt_secret="schema-only-" + "x" * 40,
            frontend_dist=Path("/nonexistent"),
        )
    ).openapi()
)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=FUZZ_EXAMPLES
)

# --- Poisoned values: what schemathesis itself never generates ----------------------------------

# A str in a JSON body may hold any code point: JSON escapes a lone surrogate as \ud800.
JSON_POISON = ("\x00", "\ud800", "\udfff", "\udc80")
# A form field is percent-encoded bytes: NUL, and bytes that are not UTF-8 (a surrogate's 3-byte
# form, a lone continuation byte, an overlong '/').
FORM_POISON = (b"\x00", b"\xed\xa0\x80", b"\xff", b"\xc0\xaf")
# Schemathesis validates a query and path as text (bytes there are the raw-request test's).
PARAMETER_POISON = ("\x00", "\x00\x00", "\x1f")
NON_FINITE = (math.nan, math.inf, -math.inf)
FORM = "application/x-www-form-urlencoded"


def _leaves(value: Any, put: Callable[[Any], None]) -> Iterator[tuple[Any, Callable[[Any], None]]]:
    """Every str or number in a JSON value, with a function that replaces it in place."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, lambda new, key=key: value.__setitem__(key, new))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, lambda new, index=index: value.__setitem__(index, new))
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield value, put


def _with_poison(draw: st.DrawFn, text: str, poison: Any) -> Any:
    at = draw(st.integers(0, len(text)))
    if isinstance(poison, bytes):
        return text[:at].encode() + poison + text[at:].encode()
    return text[:at] + poison + text[at:]


@st.composite
def _poisoned(draw: st.DrawFn, case: schemathesis.Case) -> schemathesis.Case:
    if draw(st.booleans()):  # half the cases stay as schemathesis made them
        return case
    json_body = case.media_type == "application/json" and case.body is not NOT_SET
    body: Any = json.loads(json.dumps(case.body, default=str)) if json_body else None
    root: list[Any] = [body]
    targets: list[tuple[Any, Callable[[Any], None], tuple[Any, ...]]] = []
    if json_body:
        targets += [(v, put, JSON_POISON) for v, put in _leaves(body, lambda new: root.__setitem__(0, new))]
    form = dict(case.body) if case.media_type == FORM and isinstance(case.body, dict) else None
    query, path_parameters = dict(case.query), dict(case.path_parameters)
    for container, poisons in (
        (form, FORM_POISON),
        (query, PARAMETER_POISON),
        (path_parameters, PARAMETER_POISON),
    ):
        for key, value in (container or {}).items():
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                targets.append((value, lambda new, c=container, k=key: c.__setitem__(k, new), poisons))
    if not targets:
        return case
    # A few values, or every one: poisoning only some leaves the rest as generated, which may
    # refuse the request first for something else (/token's NUL username was 500 only with a
    # non-empty password); poisoning every one gets past that.
    every = st.just(list(range(len(targets))))
    few = st.lists(st.integers(0, len(targets) - 1), min_size=1, max_size=3, unique=True)
    for index in draw(st.one_of(every, few)):
        value, put, poisons = targets[index]
        if isinstance(value, str):
            put(_with_poison(draw, value, draw(st.sampled_from(poisons))))
        elif poisons is JSON_POISON:
            put(draw(st.sampled_from(NON_FINITE)))
        else:
            put(draw(st.sampled_from(("NaN", "Infinity", "-inf", "1e999"))))
    if json_body:
        # The wire form a client that allows them sends: NaN, Infinity, "\ud800".
        case.body = json.dumps(root[0], allow_nan=True).encode()
    if form is not None:
        case.body = form
    case.query, case.path_parameters = query, path_parameters
    return case


@schema.hook
def flatmap_case(
    _: schemathesis.HookContext, case: schemathesis.Case
) -> st.SearchStrategy[schemathesis.Case]:
    return _poisoned(case)


user_operations = schema.exclude(path_regex="^/admin")


# --- The API under test ------------------------------------------------------------------------


@dataclass
class FuzzTarget:
    base_url: str
    user: dict[str, str]
    admin: dict[str, str]
    log: Path
    sent: Counter[str] = field(default_factory=Counter)

    def headers(self, who: str) -> dict[str, str]:
        return {"anonymous": {}, "user": self.user, "admin": self.admin}[who]


def _register(http: httpx.Client, name: str) -> dict[str, str]:
    assert (
        http.post("/api/v1/auth/register", json={"username": name, "password": "kite-river9"}).status_code
        == 201
    )
    token = http.post("/api/v1/auth/token", data={"username": name, "password": "kite-river9"}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


@pytest.fixture(scope="module")
def target(servers: TestServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """The API as `python -m app.cli api` runs it, on a database of its own, serving a built SPA."""
    name = f"fd_fuzz_{uuid.uuid4().hex[:8]}"
    admin_url = to_driver_url(servers.admin_database_url, "postgresql")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = servers.admin_database_url.rsplit("/", 1)[0] + f"/{name}"
    migrate(database_url)
    work = tmp_path_factory.mktemp("fuzz")
    log = work / "api.log"
    dist = work / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>FlightDesk</title>")
    (dist / "assets" / "app.js").write_text("console.log('FlightDesk')")
    env = {
        **os.environ,
        "APP_ENV": "test",
        "HOST": "127.0.0.1",
        "PORT": str(PORT),
        "DATABASE_URL": database_url,
        "REDIS_URL": servers.redis_url,
        "REDIS_KEY_PREFIX": f"{servers.redis_prefix}_fuzz",
        "SEAT_UPDATES_CHANNEL": f"{servers.redis_prefix}_fuzz:seat_updates",
        "JWT_SECRET": "fuzz-secret-" + "f" * 40,
        "DEMO_DATA": "0",
        "PAYMENT_LATENCY_MS": "0",
        "LOGIN_RATE_LIMIT": "0",
        "LOGIN_CLIENT_RATE_LIMIT": "0",
        "REGISTER_RATE_LIMIT": "0",
        "FRONTEND_DIST": str(dist),
        "MAX_UPLOAD_MB": "1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "api"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{PORT}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        with httpx.Client(base_url=base_url, timeout=30) as http:
            user = _register(http, "fuzz_user")
            admin = _register(http, "fuzz_admin")
            with psycopg.connect(to_driver_url(database_url, "postgresql"), autocommit=True) as conn:
                conn.execute("UPDATE users SET is_admin = true WHERE username = 'fuzz_admin'")
            # Something real to find, book and change.
            for i in range(3):
                body = flight_body(flight_number=f"FZ-{i}", departure=None, total_seats=500)
                assert http.post("/admin/flights", json=body, headers=admin).status_code == 201
        yield FuzzTarget(base_url, user, admin, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


FUZZ_SETTINGS = settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


# --- Every operation in the schema -------------------------------------------------------------


def _call(case: schemathesis.Case, target: FuzzTarget, who: str) -> None:
    target.sent[who] += 1
    case.call_and_validate(base_url=target.base_url, headers=target.headers(who), checks=CHECKS, timeout=30)


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_from_anyone_anonymous_makes_a_5xx_or_breaks_the_schema(
    case: schemathesis.Case, target: FuzzTarget
) -> None:
    _call(case, target, "anonymous")


@user_operations.parametrize()
@FUZZ_SETTINGS
def test_no_input_from_a_user_makes_a_5xx_or_breaks_the_schema(
    case: schemathesis.Case, target: FuzzTarget
) -> None:
    _call(case, target, "user")


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_from_an_admin_makes_a_5xx_or_breaks_the_schema(
    case: schemathesis.Case, target: FuzzTarget
) -> None:
    _call(case, target, "admin")


# --- Raw requests: any path, odd headers, broken encodings --------------------------------------


def raw_status(target: FuzzTarget, request: bytes) -> int:
    """The status of the answer to ``request`` sent byte for byte (no client normalises it); 0
    when the server closes the connection without an answer."""
    host, port = target.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        head = b""
        while b"\r\n" not in head and (chunk := sock.recv(4096)):
            head += chunk
    return int(head.split(b" ", 2)[1]) if head else 0


OPERATION_PATHS = sorted({path.split("{")[0].rstrip("/") for path in schema.raw_schema["paths"]})
SEGMENTS = st.one_of(
    st.sampled_from(
        [
            "%00",
            "a%00b",
            "index.html%00.js",
            "index.html",
            "assets",
            "app.js",
            "..",
            "%2e%2e",
            "%2f",
            "%5c",
            ".",
            "",
            "%ff",
            "%ed%a0%80",
            "%c0%ae%c0%ae",
            "%e2%80%ae",
            "%20",
            "~",
            "nul%00",
        ]
    ),
    st.text(st.characters(codec="utf-8"), max_size=12).map(lambda s: quote(s, safe="")),
    st.binary(max_size=6).map(lambda b: quote(b, safe="")),
    st.integers(200, 5000).map(lambda n: "x" * n),  # longer than a file name may be
)
PATHS = st.one_of(
    st.lists(SEGMENTS, min_size=1, max_size=5).map(lambda segments: "/" + "/".join(segments)),
    st.tuples(st.sampled_from(OPERATION_PATHS), st.lists(SEGMENTS, max_size=2)).map(
        lambda t: "/".join([t[0], *t[1]])
    ),
)
QUERIES = st.one_of(
    st.just(b""),
    st.lists(
        st.tuples(
            st.sampled_from([b"source", b"destination", b"date", b"seats", b"limit", b"x"]),
            st.binary(max_size=8),
        ),
        max_size=4,
    ).map(lambda pairs: b"?" + b"&".join(k + b"=" + quote(v, safe="").encode() for k, v in pairs)),
)
# Header values as bytes on the wire: anything but CR and LF, which would end the header.
HEADER_BYTES = st.binary(max_size=24).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
HEADERS = st.dictionaries(
    st.sampled_from(
        [b"Authorization", b"Content-Type", b"Idempotency-Key", b"Accept", b"Cookie", b"X-Forwarded-For"]
    ),
    st.one_of(
        HEADER_BYTES,
        HEADER_BYTES.map(lambda b: b"Bearer " + b),
        st.sampled_from(
            [
                b"application/json",
                b"application/json; charset=utf-16",
                b"application/json; charset=latin-1",
                b"application/x-www-form-urlencoded",
                b"multipart/form-data",
                b"multipart/form-data; boundary=",
                b"text/plain; charset=\xff",
            ]
        ),
    ),
    max_size=3,
)
BODIES = st.one_of(
    st.just(b""),
    st.binary(max_size=64),
    st.sampled_from(
        [
            b'{"seats": NaN, "flight_id": "00000000-0000-0000-0000-000000000000"}',
            b'{"username": "a\\u0000b"}',
            b'{"username": "\\ud800", "password": "\\udfffpassword"}',
            b"\xff\xfe{\x00}\x00",
            b"username=ab%00c&password=x",
            b"username=%ed%a0%80&password=%ff",
            b'{"price": Infinity}',
            b"[-Infinity]",
            b'"\\ud800"',
        ]
    ),
)


@settings(FUZZ_SETTINGS, max_examples=FUZZ_EXAMPLES * 25)
@given(
    method=st.sampled_from([b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS"]),
    path=PATHS,
    query=QUERIES,
    headers=HEADERS,
    body=BODIES,
    who=st.sampled_from(["anonymous", "user", "admin"]),
)
def test_no_raw_request_makes_a_5xx(
    target: FuzzTarget,
    method: bytes,
    path: str,
    query: bytes,
    headers: dict[bytes, bytes],
    body: bytes,
    who: str,
) -> None:
    lines = [method + b" " + path.encode() + query + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [f"{k}: {v}".encode() for k, v in target.headers(who).items() if k.encode() not in headers]
    lines += [k + b": " + v for k, v in headers.items()]
    lines.append(b"Content-Length: %d" % len(body))
    target.sent["raw"] += 1
    status = raw_status(target, b"\r\n".join(lines) + b"\r\n\r\n" + body)
    assert status < 500, (method, path, query, headers, body, who, status)


# --- Multipart bodies built by hand ------------------------------------------------------------

# RFC 2046 boundary characters, a few that are not, and lengths past every limit (70, 256).
BOUNDARY_CHARS = "abcXYZ0189'()+_,-./:=? \"\x00\x7f\xe9"
FILENAMES = st.one_of(
    st.none(),
    st.text(st.characters(codec="utf-8"), max_size=16).map(str.encode),
    st.sampled_from([b"a\x00b.csv", b"\x00", b"f\xff.csv", b"\xed\xa0\x80.csv", b"x" * 400, b'q"uote.csv']),
)


@st.composite
def multipart_uploads(draw: st.DrawFn) -> tuple[bytes, bytes, bool]:
    """(Content-Type, body, whether the body ends with its closing boundary)."""
    boundary = draw(
        st.one_of(
            st.text(BOUNDARY_CHARS, min_size=1, max_size=80), st.integers(60, 400).map(lambda n: "b" * n)
        )
    ).encode()
    filename = draw(FILENAMES)
    disposition = b'form-data; name="file"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"'
    content = draw(
        st.one_of(
            st.just(CSV),
            st.binary(max_size=64),
            st.just(HEADER.encode() + b"," + b"x," * 3000 + b"\n" + CSV),
            st.just(CSV.replace(b"Delhi", b"De\x00lhi")),
            st.just(b"\n" * 5000 + CSV),
        )
    )
    parts = []
    if draw(st.booleans()):
        parts.append(b'--%s\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\x00\r\n' % boundary)
    parts.append(
        b"--%s\r\nContent-Disposition: %s\r\nContent-Type: text/csv\r\n\r\n%s"
        % (boundary, disposition, content)
    )
    ending = draw(
        st.sampled_from(
            [b"\r\n--%s--\r\n" % boundary, b"\r\n--%s--" % boundary, b"\r\n", b"", b"\r\n--%s" % boundary]
        )
    )
    body = b"".join(parts) + ending
    closing = b"\r\n--%s--" % boundary
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    # Closed when the closing delimiter survived the cut, whole.
    closed = ending.startswith(closing) and len(body) >= len(b"".join(parts)) + len(closing)
    content_type = draw(
        st.sampled_from(
            [
                b"multipart/form-data; boundary=" + boundary,
                b'multipart/form-data; boundary="' + boundary + b'"',
                b"multipart/form-data",
                b"multipart/form-data; boundary=other",
                b"multipart/mixed; boundary=" + boundary,
            ]
        )
    )
    return content_type, body, closed and b"other" not in content_type


@settings(FUZZ_SETTINGS, max_examples=FUZZ_EXAMPLES * 10)
@given(upload=multipart_uploads())
def test_no_multipart_upload_makes_a_5xx_and_a_cut_one_is_never_accepted(
    target: FuzzTarget, upload: tuple[bytes, bytes, bool]
) -> None:
    content_type, body, closed = upload
    headers = [
        b"POST /admin/flights/bulk-upload HTTP/1.1",
        b"Host: 127.0.0.1",
        b"Connection: close",
        b"Authorization: " + target.admin["Authorization"].encode(),
        b"Content-Type: " + content_type,
        b"Content-Length: %d" % len(body),
    ]
    target.sent["multipart"] += 1
    status = raw_status(target, b"\r\n".join(headers) + b"\r\n\r\n" + body)
    assert status < 500, (content_type, body[:300], status)
    if not closed:
        assert status != 202, (content_type, body[:300])


# --- Last: what the server itself saw ----------------------------------------------------------


def unhandled_errors(log: str) -> Counter[str]:
    """``exception class at path`` for every 500 the server logged (the class is the traceback's
    last line); the path is cut to two segments, where fuzzed bytes would make every one unique."""
    found: Counter[str] = Counter()
    path, exception = None, None
    for line in [*log.splitlines(), "unhandled_error path=<end>"]:
        if "unhandled_error" in line:
            if path is not None:
                found[f"{exception} at {path}"] += 1
            raw = line.rpartition("path=")[2].strip()
            path, exception = "/".join(raw.split("/")[:3]) if raw != "<end>" else None, None
        elif path is not None and re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Group)\w*: ", line):
            exception = line.split(":")[0].rpartition(".")[2]
    return found


def test_the_fuzzed_server_logged_no_unhandled_error(target: FuzzTarget) -> None:
    print(f"\nfuzz requests sent: {dict(target.sent)}, total {sum(target.sent.values())}")
    unhandled = unhandled_errors(target.log.read_text(errors="replace"))
    assert not unhandled, f"{sum(unhandled.values())} unhandled errors: {dict(unhandled.most_common())}"
