"""A real three-master Redis Cluster on loopback, for the tests and benches that run on a cluster.

Each node is a `redis-server --cluster-enabled yes` on a free port whose bus port (port + 10000)
is free too; `redis-cli --cluster create` assigns the 16,384 slots. Nodes keep nothing on disk,
so a node restarted by a fault test comes back empty, as a lost master would.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import redis


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_ports(count: int, start: int = 30000) -> list[int]:
    """Ports whose cluster bus port (port + 10000, at most 65535) is free as well."""
    ports: list[int] = []
    port = start
    while len(ports) < count and port + 10000 <= 65535:
        if _free(port) and _free(port + 10000):
            ports.append(port)
        port += 1
    if len(ports) < count:
        raise RuntimeError("no free loopback ports for a Redis Cluster")
    return ports


def redis_binaries() -> tuple[str, str]:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        raise RuntimeError(
            "redis-server and redis-cli are needed for a Redis Cluster (apt-get install redis)"
        )
    return server, cli


@dataclass
class RedisClusterNodes:
    ports: list[int]
    workdir: Path
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """A seed node's URL, as REDIS_URL takes it with REDIS_CLUSTER=true."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start_node(self, port: int) -> None:
        server, _ = redis_binaries()
        node_dir = self.workdir / str(port)
        node_dir.mkdir(parents=True, exist_ok=True)
        self.processes[port] = subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(node_dir / "nodes.conf"),
                "--cluster-node-timeout",
                "2000",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(node_dir),
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with suppress(redis.RedisError):
                if redis.Redis(port=port).ping():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {port} did not start")

    def kill_node(self, port: int) -> None:
        """kill -9 one node: its data is gone (no persistence), as after a crash."""
        process = self.processes.pop(port)
        process.kill()
        process.wait()

    def restart_node_empty(self, port: int) -> None:
        """Bring a killed node back with no data but its cluster identity (nodes.conf), so it rejoins
        owning its slots, empty."""
        self.start_node(port)
        self.wait_ok()

    def wait_ok(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = []
            for port in self.ports:
                with suppress(redis.RedisError):
                    info = redis.Redis(port=port).execute_command("CLUSTER INFO")
                    states.append(info.get("cluster_state") == "ok")
            if len(states) == len(self.ports) and all(states):
                return
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")

    def stop(self) -> None:
        for port in list(self.processes):
            self.kill_node(port)


@contextmanager
def redis_cluster(masters: int = 3) -> Iterator[RedisClusterNodes]:
    _, cli = redis_binaries()
    nodes = RedisClusterNodes(free_cluster_ports(masters), Path(tempfile.mkdtemp(prefix="fd-cluster-")))
    try:
        for port in nodes.ports:
            nodes.start_node(port)
        subprocess.run(
            [
                cli,
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in nodes.ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        nodes.wait_ok()
        yield nodes
    finally:
        nodes.stop()
        shutil.rmtree(nodes.workdir, ignore_errors=True)
