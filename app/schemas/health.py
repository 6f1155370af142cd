"""What the liveness and readiness probes answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    postgres: Literal["ok", "down"]
    redis: Literal["ok", "down"]
