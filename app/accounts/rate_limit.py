"""Rate limits on logins, registrations and order look-ups, counted in Redis with the `limits` library.

A client is what app.platform.proxies says it is; an IPv6 client is counted by its /64, the block one
host is given and can pick addresses from at will.
"""

from __future__ import annotations

import ipaddress
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter

from app.platform.config import Settings
from app.platform.errors import TooManyRequests
from app.platform.proxies import parse_address


def parse_limit(spec: str) -> RateLimitItem | None:
    """'10/15minutes' style; '0' (or empty) disables the limit."""
    spec = spec.strip()
    if spec in ("", "0"):
        return None
    return parse(spec)


def client_key(client: str) -> str:
    address = parse_address(client)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address) if address is not None else client


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        scheme = "async+redis+cluster://" if settings.redis_cluster else "async+redis://"
        url = settings.require_redis_url().replace("redis://", scheme, 1)
        storage = RedisClusterStorage if settings.redis_cluster else RedisStorage
        self.storage = storage(url, implementation="redispy", key_prefix=f"{settings.redis_key_prefix}:rl")
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.login = parse_limit(settings.login_rate_limit)
        self.login_client = parse_limit(settings.login_client_rate_limit)
        self.register = parse_limit(settings.register_rate_limit)
        self.order_lookup = parse_limit(settings.order_lookup_rate_limit)

    async def hit_login_attempt(self, client: str) -> None:
        """Every login attempt of a client, whatever the username: a spray of usernames stops here."""
        key = client_key(client)
        if self.login_client and not await self.limiter.hit(self.login_client, "login-client", key):
            raise TooManyRequests(
                "Too many login attempts from this address; try again later",
                await self._retry_after(self.login_client, "login-client", key),
            )

    async def check_login(self, username: str, client: str) -> None:
        key = (username.casefold(), client_key(client))
        if self.login and not await self.limiter.test(self.login, "login", *key):
            raise TooManyRequests(
                "Too many failed login attempts; try again later",
                await self._retry_after(self.login, "login", *key),
            )

    async def record_login_failure(self, username: str, client: str) -> None:
        if self.login:
            await self.limiter.hit(self.login, "login", username.casefold(), client_key(client))

    async def hit_register(self, client: str) -> None:
        key = client_key(client)
        if self.register and not await self.limiter.hit(self.register, "register", key):
            raise TooManyRequests(
                "Too many registrations from this address; try again later",
                await self._retry_after(self.register, "register", key),
            )

    async def hit_order_lookup(self, client: str) -> None:
        """Manage-booking look-ups (reference + family name): a guess of references stops here."""
        key = client_key(client)
        if self.order_lookup and not await self.limiter.hit(self.order_lookup, "order-lookup", key):
            raise TooManyRequests(
                "Too many order look-ups from this address; try again later",
                await self._retry_after(self.order_lookup, "order-lookup", key),
            )

    async def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        stats = await self.limiter.get_window_stats(item, *identifiers)
        return math.ceil(stats.reset_time - time.time())
