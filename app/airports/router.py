from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.accounts.deps import ContextDep
from app.airports import service as airports

router = APIRouter(prefix="/api/v1", tags=["airports"])


@router.get("/airports", response_model=list[str])
async def list_airports(context: ContextDep) -> Response:
    """Sorted names of every airport that appears in a flight."""
    return Response(await airports.list_names(context), media_type="application/json")
