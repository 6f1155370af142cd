"""The error answers each operation can give, for the OpenAPI schema (contract: "Errors").

Every error body is FastAPI's shape, ``{"detail": "..."}``; 422 is documented by FastAPI itself.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorOut(BaseModel):
    detail: str


_DESCRIPTIONS = {
    401: "Missing, malformed, forged or expired token",
    403: "Admin rights required",
    404: "Not found, or not yours",
    409: "Conflicts with the current state",
    429: "Too many attempts; retry after Retry-After seconds",
    503: "PostgreSQL or Redis is unavailable; retry after Retry-After seconds",
}


def errors(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for these status codes; ``descriptions`` (``e404="Unknown flight"``) override."""
    return {
        code: {"model": ErrorOut, "description": descriptions.get(f"e{code}", _DESCRIPTIONS[code])}
        for code in codes
    }
