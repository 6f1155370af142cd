from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from app.platform.deps import PlatformDep


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    postgres: Literal["ok", "down"]
    redis: Literal["ok", "down"]


router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Health:
    return Health(status="ok")


# The JSONResponse is sent as built; the models document its body for both status codes.
@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "PostgreSQL or Redis does not answer"}},
)
async def readyz(context: PlatformDep) -> JSONResponse:
    async def postgres() -> bool:
        async with context.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    async def redis() -> bool:
        return bool(await context.redis.ping())

    checks = {"postgres": postgres(), "redis": redis()}
    results = await asyncio.gather(
        *(asyncio.wait_for(check, timeout=2) for check in checks.values()), return_exceptions=True
    )
    status = {name: result is True for name, result in zip(checks, results, strict=True)}
    ok = all(status.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", **{k: "ok" if v else "down" for k, v in status.items()}},
        status_code=200 if ok else 503,
    )
