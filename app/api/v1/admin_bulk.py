"""Bulk CSV upload endpoints — filled in by the bulk-upload issue."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.api.deps import get_admin_user

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(get_admin_user)])
