"""Settings refuse unsafe production defaults and accept safe ones."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.platform.config import Settings

SAFE = {
    "app_env": "production",
    "jwt_secret": "s" * 48,
    "database_url": "postgresql://flightdesk:a-long-random-password@db:5432/flights",
    "redis_url": "redis://redis:6379/0",
}


def test_production_with_real_secrets_starts() -> None:
    assert Settings(**SAFE).app_env == "production"


@pytest.mark.parametrize(
    "override",
    [
        {"jwt_secret": None},
        {"jwt_secret": "changeme"},
        {"jwt_secret": "short"},
        {"database_url": None},
        {"redis_url": None},
        {"database_url": "postgresql://user:password@postgres:5432/flights"},
    ],
)
def test_production_refuses_unsafe_settings(override: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**{**SAFE, **override})


def test_unknown_default_timezone_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(default_timezone="Mars/Olympus")
