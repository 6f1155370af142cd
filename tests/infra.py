"""Real PostgreSQL and Redis for the tests: the machine's servers when present, else embedded ones.

Each test run gets its own database and its own Redis key prefix, and removes both at the end.
With FLIGHTDESK_TEST_REDIS_CLUSTER=1 (`make test-cluster`) Redis is a three-master Redis Cluster
the run starts on free loopback ports (tests/redis_cluster.py) and the app runs with REDIS_CLUSTER.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis

from app.platform.config import to_driver_url
from tests.redis_cluster import RedisClusterNodes, redis_cluster

CLUSTER = os.environ.get("FLIGHTDESK_TEST_REDIS_CLUSTER") == "1"
# The search read path's multiplexed connection (app/platform/redis/multiplex.py) exists only on a
# single Redis; on a cluster the reads go through redis-py and these tests have nothing to test.
single_redis_only = pytest.mark.skipif(CLUSTER, reason="the multiplexed search reader is single-Redis only")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class TestServers:
    admin_database_url: str  # a database to connect to for CREATE / DROP DATABASE
    redis_url: str
    run_id: str
    cluster: RedisClusterNodes | None = None  # REDIS_URL is a seed node of this cluster

    @property
    def redis_cluster(self) -> bool:
        return self.cluster is not None

    @property
    def database_name(self) -> str:
        return f"fd_test_{self.run_id}"

    @property
    def database_url(self) -> str:
        base, _, _ = self.admin_database_url.rpartition("/")
        return f"{base}/{self.database_name}"

    @property
    def redis_prefix(self) -> str:
        return f"fdt_{self.run_id}"


@contextmanager
def test_servers() -> Iterator[TestServers]:
    with ExitStack() as stack:
        cluster = stack.enter_context(redis_cluster()) if CLUSTER else None
        with _test_servers(cluster.url if cluster else None) as servers:
            servers.cluster = cluster
            yield servers


@contextmanager
def _test_servers(cluster_url: str | None) -> Iterator[TestServers]:
    embedded = None
    admin_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = cluster_url or os.environ.get("TEST_REDIS_URL")
    force_embedded = os.environ.get("FLIGHTDESK_TEST_EMBEDDED") == "1"
    if admin_url is None and not force_embedded and _reachable("127.0.0.1", 5432):
        admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    if redis_url is None and not force_embedded and _reachable("127.0.0.1", 6379):
        redis_url = "redis://127.0.0.1:6379/0"
    if admin_url is None or redis_url is None:
        from app.platform.embedded import EmbeddedServers

        embedded = EmbeddedServers(Path(tempfile.mkdtemp(prefix="flightdesk-test-")))
        admin_url = admin_url or embedded.start_postgres()
        redis_url = redis_url or embedded.start_redis()
    servers = TestServers(admin_url, redis_url, secrets.token_hex(4))
    with psycopg.connect(to_driver_url(admin_url, "postgresql"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{servers.database_name}"')
    try:
        yield servers
    finally:
        with psycopg.connect(to_driver_url(admin_url, "postgresql"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{servers.database_name}" WITH (FORCE)')
        if cluster_url is None:  # a run's own cluster is stopped with everything in it
            client = redis.Redis.from_url(redis_url)
            batch: list[bytes] = []
            for key in client.scan_iter(match=f"{servers.redis_prefix}:*", count=5000):
                batch.append(key)
                if len(batch) >= 5000:
                    client.unlink(*batch)
                    batch.clear()
            if batch:
                client.unlink(*batch)
            client.close()
        if embedded is not None:
            embedded.stop()
