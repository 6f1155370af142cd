"""One pipelined Redis connection shared by every concurrent search read (single Redis only).

redis-py spends ~50-100 us of CPU per command on its pool, retry, timeout and parser layers, as
much as the rest of a cached search. The read path sends only idempotent reads, so it can use a
much thinner client: one connection, commands written in the order their callers wait for them
(the writes of one loop iteration go out as one), replies parsed by hiredis and handed back in
that order.

Behaviour kept from redis-py: AUTH and SELECT from the URL, an error reply raises the same
``redis.exceptions`` class (``NoScriptError`` for NOSCRIPT), a lost or broken connection raises
``redis.exceptions.ConnectionError`` (the API answers 503) after one retry on a fresh connection,
a reply not arriving within ``socket_timeout`` raises ``redis.exceptions.TimeoutError``.
While replies are still arriving the connection acknowledges at once (``TCP_QUICKACK``, Linux):
Linux's delayed ACK held a multi-megabyte reply (a hub change's list read) for 41 ms in about one
read of 600 (bench/redis_reads.py).
``for_client`` returns None when the client is not a plain TCP single Redis (TLS, Unix socket,
Cluster): callers then use redis-py.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import time
from collections import deque
from typing import Any, cast

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

_WATCH_SECONDS = 0.5
# None where the platform has no quick-ack option; the bench sets QUICK_ACK False to compare.
_TCP_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
QUICK_ACK = True


def encode(*args: bytes | str | int) -> bytes:
    """A command in RESP (arrays of bulk strings)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        value = arg if isinstance(arg, bytes) else str(arg).encode()
        # The value itself copied once, by the join (a hub change's patch script carries ~1 MB of
        # lists: formatting each into its bulk string first copied it twice, ~3 ms).
        parts += (b"$%d\r\n" % len(value), value, b"\r\n")
    return b"".join(parts)


@functools.lru_cache(maxsize=1 << 16)
def bulk(arg: bytes | str) -> bytes:
    """One short argument (a key, a field name) as a RESP bulk string, memoised: airport names and
    day keys repeat (a hub change's ~150 HMGETs of ~20 names each cost ~3 ms through ``encode``)."""
    value = arg if isinstance(arg, bytes) else arg.encode()
    return b"$%d\r\n%s\r\n" % (len(value), value)


class _Protocol(asyncio.Protocol):
    def __init__(self, timeout: float) -> None:
        self.reader = hiredis.Reader(replyError=ResponseError)
        self.waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.transport: asyncio.Transport | None = None
        self.socket: Any = None  # set where quick acknowledgements apply (TCP on Linux)
        self.buffer: list[bytes] = []
        self.lost: Exception | None = None
        self.timeout = timeout
        self.loop = asyncio.get_running_loop()
        self.watch = self.loop.call_later(_WATCH_SECONDS, self._check)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if QUICK_ACK and _TCP_QUICKACK is not None and sock is not None and sock.family != socket.AF_UNIX:
            self.socket = sock

    def send(self, command: bytes) -> asyncio.Future[Any]:
        if self.lost is not None:
            raise self.lost
        future: asyncio.Future[Any] = self.loop.create_future()
        self.waiting.append((future, time.monotonic()))
        if not self.buffer:  # first command of this loop iteration: one write for all of them
            self.loop.call_soon(self._flush)
        self.buffer.append(command)
        return future

    def _flush(self) -> None:
        if self.lost is None and self.buffer and self.transport is not None:
            self.transport.write(b"".join(self.buffer))
        self.buffer.clear()

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            while (reply := self.reader.gets()) is not False:
                future, _ = self.waiting.popleft()
                if not future.done():  # its caller may have been cancelled
                    future.set_result(reply)
        except Exception as exc:  # a protocol error: nothing after it can be trusted
            self._fail(RedisConnectionError(f"Redis protocol error: {exc!r}"))
            return
        if self.waiting and self.socket is not None:
            # More to come: acknowledge what arrived now. With the ack delayed (up to 40 ms),
            # Redis, its congestion window spent after an idle spell, stalls mid-reply; the
            # kernel leaves quick-ack mode on its own, so it is asked for after every read.
            with contextlib.suppress(OSError):
                self.socket.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError(f"Connection to Redis lost: {exc!r}"))

    def _check(self) -> None:
        if self.lost is not None:
            return
        if self.waiting and time.monotonic() - self.waiting[0][1] > self.timeout:
            self._fail(RedisTimeoutError("Timeout reading from Redis"))
            return
        self.watch = self.loop.call_later(_WATCH_SECONDS, self._check)

    def _fail(self, exc: Exception) -> None:
        if self.lost is None:
            self.lost = exc
        self.watch.cancel()
        while self.waiting:
            future, _ = self.waiting.popleft()
            if not future.done():
                future.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()


class Multiplexed:
    def __init__(
        self, host: str, port: int, *, username: str | None, password: str | None, db: int, timeout: float
    ) -> None:
        self.host, self.port, self.db = host, port, db
        self.username, self.password = username, password
        self.timeout = timeout
        self.protocol: _Protocol | None = None
        self.connecting: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    @classmethod
    def for_client(cls, client: Redis) -> Multiplexed | None:
        if type(client) is not Redis:  # a RedisCluster has no single pool (nor connection_pool)
            return None
        pool = client.connection_pool
        if pool.connection_class is not Connection:
            return None
        kwargs = pool.connection_kwargs
        return cls(
            kwargs.get("host", "localhost"),
            int(kwargs.get("port", 6379)),
            username=kwargs.get("username"),
            password=kwargs.get("password"),
            db=int(kwargs.get("db", 0) or 0),
            timeout=float(kwargs.get("socket_timeout") or 5),
        )

    async def execute(self, command: bytes) -> Any:
        """Send one encoded command and return its reply (see ``execute_many``)."""
        return (await self.execute_many(command))[0]

    async def execute_many(self, *commands: bytes) -> list[Any]:
        """Send encoded commands in one write and return their replies; one retry on a fresh
        connection when the connection was lost (only for idempotent commands, which is all the
        read path sends)."""
        try:
            replies = await self._send(commands)
        except RedisConnectionError:
            replies = await self._send(commands)
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise NoScriptError(str(reply)) if str(reply).startswith("NOSCRIPT") else reply
        return replies

    async def _send(self, commands: tuple[bytes, ...]) -> list[Any]:
        protocol = await self._protocol()
        futures = [protocol.send(command) for command in commands]
        try:
            return [await future for future in futures]
        except BaseException:
            for future in futures:  # all failed together: retrieve every exception, not only one
                if future.done() and not future.cancelled():
                    future.exception()
            raise

    async def _protocol(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        protocol = self.protocol
        if protocol is not None and protocol.lost is None and protocol.loop is loop:
            return protocol
        if self.connecting is None or self.connecting[0] is not loop:  # a new loop: the tests'
            self.connecting = (loop, asyncio.Lock())
        async with self.connecting[1]:
            protocol = self.protocol
            if protocol is None or protocol.lost is not None or protocol.loop is not loop:
                protocol = self.protocol = await self._connect()
            return protocol

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(lambda: _Protocol(self.timeout), self.host, self.port), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise RedisConnectionError(f"Error connecting to Redis {self.host}:{self.port}: {exc!r}") from exc
        setup: list[bytes] = []
        if self.password is not None:
            auth = (self.username, self.password) if self.username else (self.password,)
            setup.append(encode("AUTH", *auth))
        if self.db:
            setup.append(encode("SELECT", self.db))
        for command in setup:
            reply = await protocol.send(command)
            if isinstance(reply, ResponseError):
                protocol._fail(RedisConnectionError(f"Redis refused the connection setup: {reply}"))
                raise protocol.lost or reply
        return protocol

    def close(self) -> None:
        protocol, self.protocol = self.protocol, None
        if protocol is not None and not protocol.loop.is_closed():
            protocol._fail(RedisConnectionError("Connection closed by the application"))
