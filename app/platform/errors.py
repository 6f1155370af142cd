"""Domain errors raised by services, and how the API turns them (and outages) into responses."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import asyncpg
import redis.exceptions
import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import decimal_encoder, jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger()

SECRET_FIELDS = frozenset({"password"})


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: object) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    status_code = 422


class TooManyRequests(DomainError):
    status_code = 429

    def __init__(self, detail: object, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class PayloadTooLarge(DomainError):
    status_code = 413


class ServiceUnavailable(DomainError):
    status_code = 503


# Failures of PostgreSQL or Redis being unreachable: the client should retry, this is not a bug.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    # A Redis Cluster with a master down: its slots answer CLUSTERDOWN / are uncovered until it is back.
    redis.exceptions.ClusterDownError,
    redis.exceptions.SlotNotCoveredError,
    redis.exceptions.TryAgainError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    # The raw driver's own connection errors (the booking hot path uses asyncpg directly; through
    # SQLAlchemy they arrive wrapped, and is_outage looks at the cause).
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    ConnectionError,
    TimeoutError,
    OSError,
)


# uvloop raises a bare RuntimeError when redis-py writes to a socket the server has just reset
# (seen killing Redis during a booking storm); it is an outage, not a bug.
_CLOSED_TRANSPORT = "unable to perform operation on <TCPTransport closed=True"


def _socket_taken_away(exc: BaseException) -> bool:
    """redis-py's async cluster client, when a command to a node fails (a master down), disconnects
    that node's connections that other requests are using: their next write finds no socket and
    raises AttributeError inside redis-py's connection module. An outage, not a bug of ours."""
    if not isinstance(exc, AttributeError) or exc.obj is not None:
        return False
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and frame.tb_frame.f_code.co_filename.endswith(_REDIS_CONNECTION_MODULE)


_REDIS_CONNECTION_MODULE = os.path.join("redis", "asyncio", "connection.py")


def is_outage(exc: BaseException) -> bool:
    if isinstance(exc, OUTAGE_ERRORS) or _socket_taken_away(exc):
        return True
    if isinstance(exc, RuntimeError) and str(exc).startswith(_CLOSED_TRANSPORT):
        return True
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError) or is_outage_cause(exc)
    return False


def is_outage_cause(exc: BaseException) -> bool:
    cause = exc.__cause__ or getattr(exc, "orig", None)
    seen = 0
    while cause is not None and seen < 5:
        if isinstance(cause, OUTAGE_ERRORS):
            return True
        cause = cause.__cause__
        seen += 1
    return False


def _redact_secrets(error: dict[str, Any]) -> dict[str, Any]:
    """A 422 echoes the offending input; never a password (proxies and clients log error bodies)."""
    if any(part in SECRET_FIELDS for part in error.get("loc", ())):
        return {k: v for k, v in error.items() if k not in ("input", "ctx")}
    return error


def _bytes_as_text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def _text_as_utf8(value: str) -> str:
    # An unpaired surrogate (JSON can spell one, \ud800) has no UTF-8 form: echoed as that escape.
    return value if value.isascii() else value.encode("utf-8", "backslashreplace").decode("utf-8")


def _finite_number(value: float) -> float | str:
    # JSON has no NaN or Infinity (Python's parser takes them): echoed as the text that was sent.
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _finite_decimal(value: Decimal) -> int | float | str:
    return decimal_encoder(value) if value.is_finite() else _finite_number(float(value))


# What a 422 echoes of the request, made encodable: whatever was sent, the answer is valid JSON.
_ECHO_ENCODERS: dict[Any, Callable[[Any], Any]] = {
    bytes: _bytes_as_text,
    str: _text_as_utf8,
    float: _finite_number,
    Decimal: _finite_decimal,
}


# FastAPI's answer when a body cannot even be decoded (JSON that is not UTF-8, a broken form).
_BODY_NOT_PARSED = "There was an error parsing the body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.detail == _BODY_NOT_PARSED:
            # The contract: 422 for invalid input, in the shape of FastAPI's own JSON decode error.
            error = {"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error", "input": {}}
            ctx = {"error": "the body could not be decoded"}
            return JSONResponse({"detail": [{**error, "ctx": ctx}]}, status_code=422)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_redact_secrets(dict(error)) for error in exc.errors()]
        # FastAPI's own handler fails with a 500 on bytes, NaN and lone surrogates (fuzzing).
        body = jsonable_encoder(errors, custom_encoder=_ECHO_ENCODERS)
        return JSONResponse({"detail": body}, status_code=422)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        headers = None
        if exc.status_code in (429, 503):
            headers = {"Retry-After": str(getattr(exc, "retry_after", 1))}
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    async def _maybe_outage(request: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):
            log.warning("dependency_unavailable", path=request.url.path, error=repr(exc))
            return JSONResponse(
                {"detail": "A backing service is unavailable; please retry shortly."},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        log.exception("unhandled_error", path=request.url.path)
        return JSONResponse({"detail": "Internal server error"}, status_code=500)

    for error_type in (*OUTAGE_ERRORS, sa_exc.SQLAlchemyError, redis.exceptions.RedisError, Exception):
        app.add_exception_handler(error_type, _maybe_outage)
