"""GET /api/v1/search — filled in by the search issue."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["search"])
