"""Rate limits on login failures and registrations, counted in Redis with the `limits` library."""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter

from app.core.config import Settings
from app.core.errors import TooManyRequests


def parse_limit(spec: str) -> RateLimitItem | None:
    """'10/15minutes' style; '0' (or empty) disables the limit."""
    spec = spec.strip()
    if spec in ("", "0"):
        return None
    return parse(spec)


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        scheme = "async+redis+cluster://" if settings.redis_cluster else "async+redis://"
        url = settings.require_redis_url().replace("redis://", scheme, 1)
        storage = RedisClusterStorage if settings.redis_cluster else RedisStorage
        self.storage = storage(url, implementation="redispy", key_prefix=f"{settings.redis_key_prefix}:rl")
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.login = parse_limit(settings.login_rate_limit)
        self.register = parse_limit(settings.register_rate_limit)

    async def check_login(self, username: str, client: str) -> None:
        if self.login and not await self.limiter.test(self.login, "login", username.casefold(), client):
            raise TooManyRequests("Too many failed login attempts; try again later")

    async def record_login_failure(self, username: str, client: str) -> None:
        if self.login:
            await self.limiter.hit(self.login, "login", username.casefold(), client)

    async def hit_register(self, client: str) -> None:
        if self.register and not await self.limiter.hit(self.register, "register", client):
            raise TooManyRequests("Too many registrations from this address; try again later")
