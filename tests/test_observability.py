"""Request ids, structured logs and Prometheus /metrics."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import structlog
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from app.context import AppContext
from app.platform.embedded import free_port
from app.platform.observability import install_observability, prepare_metrics_dir
from tests.conftest import make_settings
from tests.infra import TestServers

TEST_QUEUE = "fd-test-observability"


def samples(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def sample(body: str, name: str, **labels: str) -> float:
    return samples(body)[(name, frozenset(labels.items()))]


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


# --- request ids -------------------------------------------------------------------------------


async def test_every_response_carries_a_generated_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_request_id_from_the_client_or_proxy_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/airports", headers={"X-Request-ID": "nginx-4f2a:01.b_c"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "nginx-4f2a:01.b_c"


@pytest.mark.parametrize("unsafe", ["x" * 129, "two words", 'quote"d', "new\\nline"])
async def test_an_unsafe_request_id_is_replaced_not_logged(client: httpx.AsyncClient, unsafe: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": unsafe})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_error_responses_carry_the_request_id_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/flights", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "abc-123"


async def test_the_request_id_is_bound_into_structlog_context_for_the_request() -> None:
    app = FastAPI()
    install_observability(app)

    @app.get("/context")
    async def context_vars() -> dict[str, object]:
        return structlog.contextvars.get_contextvars()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/context", headers={"X-Request-ID": "trace-42"})
    assert response.json() == {"request_id": "trace-42"}
    assert "request_id" not in structlog.contextvars.get_contextvars()


# --- request latency ---------------------------------------------------------------------------


async def test_latency_is_recorded_by_route_template_not_by_raw_path(client: httpx.AsyncClient) -> None:
    flight_id = uuid.uuid4()
    labels = {"method": "GET", "route": "/admin/flights/{flight_id}", "status": "401"}
    before = samples(await scrape(client)).get(
        ("flightdesk_http_request_duration_seconds_count", frozenset(labels.items())), 0.0
    )
    for _ in range(3):
        await client.get(f"/admin/flights/{flight_id}")
    body = await scrape(client)
    assert sample(body, "flightdesk_http_request_duration_seconds_count", **labels) == before + 3
    assert str(flight_id) not in body


async def test_unknown_paths_share_one_label_so_scanners_cannot_explode_cardinality(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/wp-login.php", "/.env", f"/{uuid.uuid4()}"):
        assert (await client.get(path)).status_code == 404
    body = await scrape(client)
    assert (
        sample(
            body,
            "flightdesk_http_request_duration_seconds_count",
            method="GET",
            route="<unmatched>",
            status="404",
        )
        >= 3
    )
    assert "wp-login" not in body


async def test_metrics_is_not_part_of_the_public_api_schema(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/metrics" not in schema["paths"]


# --- gauges read at scrape time ----------------------------------------------------------------


@pytest.fixture
async def queued_jobs(context: AppContext) -> AsyncIterator[None]:
    yield
    async with context.engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM procrastinate_jobs WHERE queue_name = :q"), {"q": TEST_QUEUE}
        )


async def test_job_queue_depth_counts_waiting_and_running_jobs(
    client: httpx.AsyncClient, context: AppContext, queued_jobs: None
) -> None:
    before = await scrape(client)
    async with context.engine.begin() as connection:
        for status in ("todo", "todo", "doing", "succeeded", "failed"):
            await connection.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, status)"
                    " VALUES (:q, 'test.task', CAST(:s AS procrastinate_job_status))"
                ),
                {"q": TEST_QUEUE, "s": status},
            )
    after = await scrape(client)
    for status, added in (("todo", 2), ("doing", 1)):
        name = "flightdesk_job_queue_depth"
        assert sample(after, name, status=status) == sample(before, name, status=status) + added
    assert ("flightdesk_job_queue_depth", frozenset({("status", "succeeded")})) not in samples(after)


async def test_seat_sync_lag_and_dirty_flights_come_from_redis(
    client: httpx.AsyncClient, context: AppContext
) -> None:
    await context.redis.set(context.keys.seat_sync_last_run, str(time.time() - 120))
    await context.redis.sadd(context.keys.seat_sync_dirty, *(str(uuid.uuid4()) for _ in range(3)))
    body = await scrape(client)
    assert 119 <= sample(body, "flightdesk_seat_sync_lag_seconds") < 150
    assert sample(body, "flightdesk_seat_sync_dirty_flights") == 3


async def test_seat_sync_lag_is_unknown_before_any_write_back(client: httpx.AsyncClient) -> None:
    body = await scrape(client)
    assert math.isnan(sample(body, "flightdesk_seat_sync_lag_seconds"))
    assert sample(body, "flightdesk_seat_sync_dirty_flights") == 0


async def test_metrics_still_answer_when_postgres_and_redis_are_down(servers: TestServers) -> None:
    closed = free_port()
    settings = make_settings(
        servers,
        database_url=f"postgresql://nobody@127.0.0.1:{closed}/none",
        redis_url=f"redis://127.0.0.1:{closed}/0",
    )
    app = FastAPI()
    install_observability(app)
    app.state.context = AppContext.create(settings, pool_size=1)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            body = await scrape(http)
    finally:
        await app.state.context.close()
    assert math.isnan(sample(body, "flightdesk_job_queue_depth", status="todo"))
    assert math.isnan(sample(body, "flightdesk_seat_sync_lag_seconds"))
    assert math.isnan(sample(body, "flightdesk_seat_sync_dirty_flights"))


# --- several server processes --------------------------------------------------------------------


def test_prepare_metrics_dir_is_only_needed_for_several_workers(
    servers: TestServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert prepare_metrics_dir(make_settings(servers, web_concurrency=1)) is None
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_prepare_metrics_dir_wipes_samples_of_a_previous_run(
    servers: TestServers, monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    directory = os.path.join(tmp_path, "metrics")
    os.makedirs(directory)
    stale = os.path.join(directory, "counter_4242.db")
    with open(stale, "wb") as handle:
        handle.write(b"stale")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", directory)
    assert str(prepare_metrics_dir(make_settings(servers, web_concurrency=1))) == directory
    assert os.listdir(directory) == []


def test_with_several_workers_every_scrape_reports_the_sum_over_all_processes(servers: TestServers) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "APP_ENV": "test",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "REDIS_KEY_PREFIX": servers.redis_prefix,
        "JWT_SECRET": "test-secret-" + "x" * 40,
        "DEMO_DATA": "0",
        "FRONTEND_DIST": "/nonexistent",
    }
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "api"], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.2)
        requests = 40
        for _ in range(requests):
            # A new connection each time, so both worker processes get a share.
            assert httpx.get(f"{base}/healthz").status_code == 200
        for _ in range(4):
            body = httpx.get(f"{base}/metrics").text
            count = sample(
                body,
                "flightdesk_http_request_duration_seconds_count",
                method="GET",
                route="/healthz",
                status="200",
            )
            assert count == requests
            families = [f.name for f in text_string_to_metric_families(body)]
            assert families.count("flightdesk_seat_sync_lag_seconds") == 1
            assert families.count("flightdesk_job_queue_depth") == 1
    finally:
        server.send_signal(2)
        server.wait(timeout=30)
