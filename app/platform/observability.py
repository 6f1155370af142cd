"""Request ids, request latency and the Prometheus ``/metrics`` endpoint.

``install_observability(app)`` adds a pure ASGI middleware (no ``BaseHTTPMiddleware``: search
throughput is measured against ``/healthz``, so a request pays for two dict look-ups, one header
and one histogram observation, nothing more) and the ``/metrics`` route.

Several server worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` (``python -m app.cli api`` does
it when ``WEB_CONCURRENCY`` > 1, see ``prepare_metrics_dir``) and every process writes its samples
there; ``/metrics``, whichever process answers it, then reports the sum over all of them.

The queue depth and seat write-back gauges are not kept by any process: they are read from
PostgreSQL and Redis when scraped, so every API process reports the same truth. When PostgreSQL
or Redis does not answer, those gauges are NaN and the rest of ``/metrics`` is served as usual.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.platform.config import Settings
from app.platform.context import Platform
from app.platform.metrics import JOB_QUEUE_DEPTH, REQUEST_LATENCY, SEAT_SYNC_DIRTY, SEAT_SYNC_LAG

log = structlog.get_logger()

REQUEST_ID_HEADER = b"x-request-id"
# A client-supplied id is kept only when it is short and plain, so it cannot forge log lines.
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")
UNMATCHED_ROUTE = "<unmatched>"
SLOW_REQUEST_SECONDS = 1.0
SCRAPE_TIMEOUT_SECONDS = 2.0
JOB_STATUSES = ("todo", "doing")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class ObservabilityMiddleware:
    """Request id in, request id out, latency by route template; pure ASGI for negligible overhead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = scope.get("route")
                template = getattr(route, "path", None) or UNMATCHED_ROUTE
                REQUEST_LATENCY.labels(scope["method"], template, str(status)).observe(elapsed)
                if status >= 500 or elapsed >= SLOW_REQUEST_SECONDS:
                    # nginx keeps the access log; the API logs only what someone must look at.
                    log.warning(
                        "request_failed" if status >= 500 else "request_slow",
                        method=scope["method"],
                        route=template,
                        status=status,
                        duration_ms=round(elapsed * 1000, 1),
                    )


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            if _VALID_REQUEST_ID.match(value):
                return str(value.decode())
            break
    return uuid.uuid4().hex


def install_observability(app: FastAPI) -> None:
    app.add_middleware(ObservabilityMiddleware)
    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)


async def metrics_endpoint(request: Request) -> Response:
    context: Platform = request.app.state.context
    values = await read_live_gauges(context)
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        registry = CollectorRegistry()
        registry.register(_MultiProcessWithLiveGauges(directory, values))
        body = generate_latest(registry)
    else:
        for status, depth in values.queue.items():
            JOB_QUEUE_DEPTH.labels(status).set(depth)
        SEAT_SYNC_LAG.set(values.lag)
        SEAT_SYNC_DIRTY.set(values.dirty)
        body = generate_latest(REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@dataclass
class LiveGauges:
    queue: dict[str, float]  # procrastinate job status -> jobs
    lag: float  # seconds since the last seat write-back
    dirty: float  # flights awaiting write-back


async def read_live_gauges(context: Platform) -> LiveGauges:
    """Queue depth from procrastinate's table, write-back state from Redis; NaN for what does not answer."""
    queue, (lag, dirty) = await asyncio.gather(_queue_depth(context), _seat_sync_state(context))
    return LiveGauges(queue, lag, dirty)


async def _queue_depth(context: Platform) -> dict[str, float]:
    query = text(
        "SELECT status::text, count(*) FROM procrastinate_jobs"
        " WHERE status IN ('todo', 'doing') GROUP BY status"
    )

    async def read() -> dict[str, float]:
        async with context.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        counts = {str(status): float(count) for status, count in rows}
        return {status: counts.get(status, 0.0) for status in JOB_STATUSES}

    try:
        return await asyncio.wait_for(read(), SCRAPE_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("metrics_queue_depth_unavailable", error=repr(exc))
        return dict.fromkeys(JOB_STATUSES, math.nan)


async def _seat_sync_state(context: Platform) -> tuple[float, float]:
    async def read() -> tuple[float, float]:
        async with context.redis.pipeline(transaction=False) as pipe:
            pipe.get(context.keys.seat_sync_last_run)
            pipe.scard(context.keys.seat_sync_dirty)
            last_run, dirty = await pipe.execute()
        # Never written back since Redis started: unknown, not zero.
        lag = max(time.time() - float(last_run), 0.0) if last_run is not None else math.nan
        return lag, float(dirty)

    try:
        return await asyncio.wait_for(read(), SCRAPE_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("metrics_seat_sync_unavailable", error=repr(exc))
        return math.nan, math.nan


class _MultiProcessWithLiveGauges:
    """The samples of every worker process, with the scrape-time gauges computed once, here.

    The gauge objects of app.platform.metrics would otherwise also appear once per process from
    their mmap files (a label-less metric writes its 0 at import), doubling those families.
    """

    def __init__(self, directory: str, values: LiveGauges) -> None:
        self.directory = directory
        self.values = values

    def collect(self) -> Iterable[Metric]:
        depth, lag, dirty = (
            next(iter(gauge.describe())) for gauge in (JOB_QUEUE_DEPTH, SEAT_SYNC_LAG, SEAT_SYNC_DIRTY)
        )
        live = {depth.name, lag.name, dirty.name}
        processes = MultiProcessCollector(None, self.directory)  # type: ignore[no-untyped-call]
        for family in processes.collect():  # type: ignore[no-untyped-call]
            if family.name not in live:
                yield family
        depth_family = GaugeMetricFamily(depth.name, depth.documentation, labels=["status"])
        for status, value in self.values.queue.items():
            depth_family.add_metric([status], value)
        yield depth_family
        yield GaugeMetricFamily(lag.name, lag.documentation, value=self.values.lag)
        yield GaugeMetricFamily(dirty.name, dirty.documentation, value=self.values.dirty)


def prepare_metrics_dir(settings: Settings) -> Path | None:
    """Before the API server forks its workers: give them one empty multiprocess directory.

    An operator's PROMETHEUS_MULTIPROC_DIR is honoured; with several workers and none set, one
    under the temp dir (named by port, so two servers on one host never share it) is used.
    Samples of a previous run are wiped, as prometheus_client requires.
    """
    configured = os.environ.get(MULTIPROC_ENV)
    if not configured and settings.web_concurrency == 1:
        return None
    directory = Path(configured or Path(tempfile.gettempdir()) / f"flightdesk-metrics-{settings.port}")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory
