"""Password hashing (Argon2 via pwdlib) and JWT access tokens (PyJWT, algorithm pinned)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import argon2
import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.platform.errors import TooManyRequests

T = TypeVar("T")

# argon2-cffi's default (RFC 9106's low-memory profile): each hash or check holds 64 MiB.
ARGON2_MEMORY_KIB = argon2.DEFAULT_MEMORY_COST
password_hash = PasswordHash((Argon2Hasher(memory_cost=ARGON2_MEMORY_KIB),))

# Verified against when the username is unknown, so a miss costs the same as a wrong password.
_DUMMY_HASH = password_hash.hash("flightdesk-timing-equaliser")


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    if hashed is None:
        password_hash.verify(password, _DUMMY_HASH)
        return False
    return password_hash.verify(password, hashed)


# How long a login or registration waits for a free hashing slot before it is answered 429
# (PASSWORD_HASH_WAIT_SECONDS).
HASH_WAIT_SECONDS = 5.0
# The hashing threads' nice value (Linux: per thread, inherited by Argon2's lane threads), so the
# event loop keeps its share of the CPU while hashes run: a login storm does not slow search down.
HASH_THREAD_NICENESS = 10


class PasswordWork:
    """Argon2 hashes and checks (and other CPU-heavy password work) for one process: run in a few
    low-priority threads of their own, off the event loop, at most ``slots`` at once. A request that
    finds every slot busy for HASH_WAIT_SECONDS gets 429 with Retry-After: a spray of logins queues
    in memory as a few coroutines, not as 64 MiB hashes."""

    def __init__(self, slots: int, wait_seconds: float = HASH_WAIT_SECONDS) -> None:
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._gate = asyncio.Semaphore(slots)
        self._threads = ThreadPoolExecutor(slots, "password", initializer=_lower_thread_priority)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._gate.acquire()
        except TimeoutError:
            raise TooManyRequests("The server is busy checking passwords; try again in a moment") from None
        try:
            future = asyncio.get_running_loop().run_in_executor(self._threads, fn, *args)
        except BaseException:
            self._gate.release()
            raise
        # The slot is free when the thread is done, even if this request is cancelled before that.
        future.add_done_callback(self._release)
        return await asyncio.shield(future)

    def _release(self, future: asyncio.Future[T]) -> None:
        self._gate.release()
        if not future.cancelled():
            future.exception()  # retrieved here, in case the request that awaited it is gone

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


def _lower_thread_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, 0, HASH_THREAD_NICENESS)


def hashing_slots(processes: int) -> int:
    """Hashes one API process may run at once: its share (of ``processes``) of half the memory
    available, in Argon2 memory costs, and no more than its share of the CPUs; at least 1."""
    processes = max(1, processes)
    by_memory = available_memory() // 2 // processes // (ARGON2_MEMORY_KIB * 1024)
    by_cpu = usable_cpus() // processes
    return max(1, min(by_memory, by_cpu))


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def available_memory() -> int:
    """Bytes that can still be used: the kernel's MemAvailable, or less under a cgroup limit (a
    container's memory limit, cgroup v2 or v1)."""
    found: list[int] = []
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        with contextlib.suppress(OSError, ValueError):
            limit = Path(limit_file).read_text().strip()
            if limit != "max" and int(limit) < 1 << 60:
                found.append(int(limit) - int(Path(usage_file).read_text()))
    return max(0, min(found)) if found else 1 << 30


def create_access_token(user_id: uuid.UUID, *, secret: str, algorithm: str, expire_minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=expire_minutes)}
    return jwt.encode(claims, secret, algorithm=algorithm)


class InvalidToken(Exception):
    pass


def decode_access_token(token: str, *, secret: str, algorithm: str) -> uuid.UUID:
    try:
        user_id, expires = _verified(token, secret, algorithm)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
    if expires <= time.time():  # PyJWT's own rule (no leeway), for a token verified while still valid
        raise InvalidToken("Signature has expired")
    return user_id


@lru_cache(maxsize=8192)
def _verified(token: str, secret: str, algorithm: str) -> tuple[uuid.UUID, float]:
    """The subject and expiry of a token whose signature and claims checked out. Cached by the whole
    token string (signature included, so only a token that verified once can hit) with the secret
    and algorithm: PyJWT's checks cost more than the rest of a cached search or a booking's
    request handling. Failures raise and are never cached; expiry is checked on every use."""
    claims = jwt.decode(token, secret, algorithms=[algorithm], options={"require": ["exp", "sub", "iat"]})
    return uuid.UUID(str(claims["sub"])), float(claims["exp"])
