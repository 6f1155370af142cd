"""Large pipelined reads through the search read multiplexer, with and without quick ACKs.

    .venv/bin/python -m bench.redis_reads [--reads 3000] [--megabytes 4]

Starts its own Redis (embedded, like bench/search.py), stores ~``--megabytes`` MB in 25 hashes
(a hub flight change's list read: ~150 HMGETs, 3-5 MB), then reads them all in one batch of
HMGETs through ``multiplex.Multiplexed``, 20 ms apart (an idle spell, as between admin changes),
alternating blocks of 100 reads with ``TCP_QUICKACK`` (the default) and without. Prints per mode
the median, p99 and max, and how many reads took over 20 ms: Linux's delayed ACK (40 ms) stalls
some reads without quick ACKs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import redis.asyncio as aioredis

from app.platform.embedded import EmbeddedServers
from app.platform.redis import multiplex

HASHES = 25


async def run(url: str, reads: int, megabytes: float) -> dict[bool, list[float]]:
    client = aioredis.Redis.from_url(url)
    fields = 40
    value = os.urandom(int(megabytes * 2**20 / HASHES / fields))
    for h in range(HASHES):
        await client.hset(f"bench:{h}", mapping={f"f{k}": value for k in range(fields)})
    commands = [
        multiplex.encode("HMGET", f"bench:{h}", *(f"f{k}" for k in range(fields))) for h in range(HASHES)
    ]
    times: dict[bool, list[float]] = {True: [], False: []}
    for block in range(reads // 100):
        quick = block % 2 == 0
        multiplex.QUICK_ACK = quick  # read when the connection is made: a fresh one per block
        reads_ = multiplex.Multiplexed.for_client(client)
        assert reads_ is not None
        for _ in range(100):
            started = time.perf_counter()
            await reads_.execute_many(*commands)
            times[quick].append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.02)
        reads_.close()
    multiplex.QUICK_ACK = True
    await client.aclose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--megabytes", type=float, default=4.0)
    args = parser.parse_args()
    embedded = EmbeddedServers(Path(tempfile.mkdtemp(prefix="fd-bench-reads-")))
    try:
        url = embedded.start_redis()
        times = asyncio.run(run(url, args.reads, args.megabytes))
    finally:
        embedded.stop()
    for quick, values in times.items():
        values.sort()
        print(
            f"{'quick ACKs' if quick else 'delayed ACKs':12} {len(values)} reads of {args.megabytes:g} MB:"
            f" median {statistics.median(values):.1f} ms, p99 {values[int(0.99 * len(values))]:.1f} ms,"
            f" max {values[-1]:.1f} ms, over 20 ms: {sum(v > 20 for v in values)}"
        )


if __name__ == "__main__":
    main()
