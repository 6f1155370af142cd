"""Every setting FlightDesk reads, from the environment (see the README's configuration table)."""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

INSECURE_SECRETS = frozenset({"", "changeme", "change-me", "secret", "changethis"})
HOSTNAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)


# DATA_DIR when unset (also read by app/__init__, before the settings exist: numba_cache).
DEFAULT_DATA_DIR = Path("./.data")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    web_concurrency: int = Field(default=1, ge=1, le=64)
    # Worker processes `make run` starts (app/cli.py); any number side by side stay correct.
    worker_processes: int = Field(default=1, ge=1, le=64)

    database_url: str | None = None
    db_connect_timeout_seconds: float = Field(default=5, gt=0)
    # DATABASE_URL is a PgBouncer in transaction mode (API replicas; docs/scaling.md): no prepared
    # statement outlives its transaction, as consecutive transactions may run on other servers.
    database_pgbouncer: bool = False
    # Per statement, API only (workers run long bulk statements): a frozen database answers 503.
    # Applied by app/platform/db.py to every connection of the process's pool.
    db_command_timeout_seconds: float = Field(default=15, gt=0)
    redis_url: str | None = None
    # REDIS_URL is then a seed node of a Redis Cluster (docs/scaling.md).
    redis_cluster: bool = False
    # Every Redis key starts with this; tests give each run its own, so runs never collide.
    redis_key_prefix: str = "fd"
    seat_updates_channel: str = "seat_updates"
    data_dir: Path = DEFAULT_DATA_DIR

    jwt_secret: str | None = None
    jwt_expire_minutes: int = Field(default=60, ge=1)
    jwt_algorithm: Literal["HS256"] = "HS256"

    payment_success_rate: float = Field(default=0.9, ge=0.0, le=1.0)
    payment_latency_ms: int = Field(default=200, ge=0)
    seat_sync_interval_seconds: float = Field(default=43200, gt=0)
    pending_timeout_seconds: float = Field(default=300, gt=0)
    seat_reservation: Literal["lua", "lock-watch"] = "lua"
    # Flights departing within this many minutes are neither searchable nor bookable.
    booking_cutoff_minutes: int = Field(default=30, ge=0, le=1440)
    # An order on hold must be paid within this many minutes, or it expires and its seats return.
    hold_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    # smtp://host:port (smtps:// for TLS); unset: notifications stay in the app.
    smtp_url: str | None = None
    smtp_from: str = "FlightDesk <no-reply@flightdesk.invalid>"
    # A sender's claim on a notification lasts this long: a killed sender's e-mails are retried
    # after it (docs/operations.md, "E-mail").
    notification_lease_seconds: float = Field(default=60, ge=3, le=3600)

    max_stops: int = Field(default=2, ge=0, le=2)
    min_connection_minutes: int = Field(default=45, ge=0)
    max_layover_minutes: int = Field(default=720, ge=1)
    default_timezone: str = "UTC"

    max_upload_mb: float = Field(default=50, gt=0)
    max_upload_rows: int = Field(default=2_000_000, ge=1)
    demo_data: bool = True

    login_rate_limit: str = "10/15minutes"
    login_client_rate_limit: str = "30/minute"
    register_rate_limit: str = "30/hour"
    # How long a login or registration waits for a free password-hashing slot before its 429.
    password_hash_wait_seconds: float = Field(default=5.0, gt=0, le=300)
    # Manage-booking look-ups (reference + family name) per client address.
    order_lookup_rate_limit: str = "20/minute"
    # Peers whose X-Forwarded-For is believed (addresses, networks or host names; comma-separated).
    trusted_proxies: Annotated[list[str], NoDecode] = []
    cors_origins: list[str] = []
    frontend_dist: Path = Path("frontend/dist")
    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_entries(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                if not HOSTNAME.fullmatch(entry):
                    raise ValueError(f"not an address, network or host name: {entry!r}") from None
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.app_env == "production":
            if (
                self.jwt_secret is None
                or self.jwt_secret.lower() in INSECURE_SECRETS
                or len(self.jwt_secret) < 32
            ):
                raise ValueError("APP_ENV=production needs JWT_SECRET: at least 32 random characters")
            if not self.database_url or not self.redis_url:
                raise ValueError("APP_ENV=production needs DATABASE_URL and REDIS_URL")
            if ":password@" in self.database_url:
                raise ValueError("APP_ENV=production refuses the seed's default database password")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        return to_driver_url(self.require_database_url(), "postgresql+asyncpg")

    @property
    def psycopg_url(self) -> str:
        """Plain libpq URL, for psycopg (the job queue) and tools outside the process's pool."""
        return to_driver_url(self.require_database_url(), "postgresql")

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("DATABASE_URL is not set and no embedded PostgreSQL was started")
        return self.database_url

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise RuntimeError("REDIS_URL is not set and no embedded Redis was started")
        return self.redis_url

    def resolved_jwt_secret(self) -> str:
        """The configured secret, or in development one generated once and kept under DATA_DIR."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt_secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        self.jwt_secret = path.read_text().strip()
        return self.jwt_secret


def to_driver_url(url: str, scheme: str) -> str:
    _, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    return f"{scheme}://{rest}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
