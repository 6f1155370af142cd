"""The FastAPI application: routers, error handlers, lifespan, and the built frontend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from app.accounts import router as auth
from app.accounts.rate_limit import RateLimits
from app.airports import router as airports
from app.booking import order_router as orders
from app.booking import router as booking
from app.bulk_import import router as admin_bulk
from app.context import AppContext
from app.flights import router as admin
from app.lifecycle import on_api_startup
from app.notifications import router as notifications
from app.operations import router as operations
from app.platform import health
from app.platform.config import Settings, get_settings
from app.platform.errors import install_error_handlers
from app.platform.gc_tuning import tune_for_requests
from app.platform.logging import configure_logging
from app.platform.observability import install_observability
from app.platform.proxies import TrustedProxies
from app.platform.security_headers import SecurityHeadersMiddleware
from app.search import router as search

API_PREFIXES = ("api/", "admin/", "docs", "redoc", "openapi.json", "healthz", "readyz", "metrics")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = AppContext.create(settings, serves_requests=True)
        app.state.context = context
        app.state.rate_limits = RateLimits(settings)
        try:
            await on_api_startup(context)
            tune_for_requests()
            yield
        finally:
            await context.close()

    app = FastAPI(
        title="FlightDesk",
        version="0.1.0",
        description="Real-time flight search and booking.",
        lifespan=lifespan,
    )
    app.state.trusted_proxies = TrustedProxies(settings.trusted_proxies)
    install_error_handlers(app)
    install_observability(app)
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    # Routes are matched in order: the public hot path right after the health probes.
    for router in (
        health.router,
        search.router,
        booking.router,
        orders.router,
        airports.router,
        auth.router,
        admin.router,
        airports.admin_router,
        admin_bulk.router,
        operations.router,
        notifications.router,
    ):
        app.include_router(router)
    mount_frontend(app, settings.frontend_dist)
    return app


def mount_frontend(app: FastAPI, dist: Path) -> None:
    """Serve the built SPA; unknown non-API paths get index.html so client-side routes survive reload."""
    index = dist / "index.html"
    if not index.is_file():
        return
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str) -> FileResponse:
        if path.startswith(API_PREFIXES):
            raise HTTPException(status_code=404, detail="Not Found")
        return FileResponse(built_file(root, path) or index)


def built_file(root: Path, path: str) -> Path | None:
    """The file under ``root`` that the URL path names, if any. A path no file can have (a NUL,
    a name longer than the filesystem allows) names none: the filesystem raises on those."""
    if not path or "\x00" in path:
        return None
    try:
        candidate = (root / path).resolve()
        return candidate if candidate.is_relative_to(root) and candidate.is_file() else None
    except (OSError, ValueError):
        return None


def __getattr__(name: str) -> FastAPI:
    # `uvicorn app.main:app` (the seed's command) builds the app on first access, not at import.
    if name == "app":
        return create_app()
    raise AttributeError(name)
