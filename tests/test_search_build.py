"""The full rebuild's forked build processes (BuildProcess) write exactly what one process writes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.context import AppContext
from app.search import build, index, storage
from tests.test_search_updates import network


async def index_contents(context: AppContext) -> dict[bytes, dict[bytes, bytes]]:
    """Every origin-day hash, without its generation counter (each write bumps it)."""
    contents: dict[bytes, dict[bytes, bytes]] = {}
    async for key in context.redis.scan_iter(match=context.keys.search_day("*", "*"), count=1000):
        fields: Any = await context.redis.hgetall(key)
        contents[key] = {f: v for f, v in fields.items() if f != storage.GEN}
    return contents


async def test_a_rebuild_on_forked_build_processes_writes_what_one_process_writes(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    context: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await network(client, admin_headers, 6)
    assert await index.rebuild(context)
    in_process = await index_contents(context)
    assert any(len(fields) > 1 for fields in in_process.values())  # lists were written
    monkeypatch.setattr(build, "PARALLEL_MIN_FLIGHTS", 0)
    monkeypatch.setattr(build.os, "cpu_count", lambda: 2)
    assert await index.rebuild(context)
    assert await index_contents(context) == in_process
