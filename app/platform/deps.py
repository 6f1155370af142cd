"""The platform's FastAPI dependency: the process's resources, for platform routes (health)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.platform.context import Platform


async def get_platform(request: Request) -> Platform:
    # async on purpose: FastAPI runs a plain `def` dependency in the thread pool, a hop per request.
    platform: Platform = request.app.state.context
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]
