"""Booking endpoints — filled in by the booking issue."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["booking"])
