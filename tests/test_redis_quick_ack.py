"""The read multiplexer acknowledges a reply's data at once while more of it is still to come
(TCP_QUICKACK, Linux): a delayed ACK stalled multi-megabyte replies for 41 ms (bench/redis_reads.py)."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

from app.context import AppContext
from app.platform.redis.multiplex import Multiplexed, encode
from tests.infra import single_redis_only

pytestmark = [
    single_redis_only,
    pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="a Linux socket option"),
]


class _Recorded:
    """The protocol's socket, its quick-ack requests counted (then passed on)."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.quick_acks = 0

    def setsockopt(self, level: int, option: int, value: int) -> None:
        if (level, option) == (socket.IPPROTO_TCP, socket.TCP_QUICKACK):
            self.quick_acks += 1
        self.sock.setsockopt(level, option, value)


async def test_a_reply_arriving_in_parts_is_acknowledged_at_once_and_a_whole_one_is_not(
    context: AppContext,
) -> None:
    reads = Multiplexed.for_client(context.redis)
    assert reads is not None
    big = os.urandom(4 << 20)
    key = context.keys.search_day("QAK", "2031-01-01")
    await context.redis.hset(key, mapping={"big": big, "small": b"x"})
    try:
        protocol = await reads._protocol()
        assert protocol.socket is not None, "a TCP connection on Linux asks for quick ACKs"
        recorded = protocol.socket = _Recorded(protocol.socket)
        assert await reads.execute(encode("HMGET", key, "small")) == [b"x"]
        assert recorded.quick_acks == 0, "a reply read whole needs no early acknowledgement"
        assert await reads.execute(encode("HMGET", key, "big")) == [big]
        assert recorded.quick_acks > 0
    finally:
        reads.close()
