from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.platform.deps import PlatformDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "PostgreSQL or Redis does not answer"}})
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
