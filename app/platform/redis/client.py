"""The Redis client and the key layout.

Keys of one flight share the hash tag ``{f:<flight id>}`` so that every multi-key operation on a
flight (seat counter, lock) stays in one Redis Cluster slot.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Sequence
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline, PubSub
from redis.asyncio.cluster import ClusterPipeline, ClusterPubSub, RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisClusterException

from app.platform.config import Settings
from app.platform.redis.multiplex import encode


def create_redis(settings: Settings, *, max_connections: int = 200) -> Redis:
    """The process's client: a single Redis, or with REDIS_CLUSTER a cluster client seeded by
    REDIS_URL. Typed as ``Redis``: every command FlightDesk sends is one both clients take (keys of
    one slot per command, script and transaction; see docs/scaling.md), and the few places whose
    form differs on a cluster test ``isinstance(redis, RedisCluster)``."""
    if settings.redis_cluster:
        cluster = RedisCluster.from_url(
            settings.require_redis_url(),
            decode_responses=False,
            max_connections=max_connections,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=30,
        )
        return cast(Redis, cluster)
    return Redis.from_url(
        settings.require_redis_url(),
        decode_responses=False,
        max_connections=max_connections,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
    )


# The cluster client -> a plain client per node (see node_client).
_node_clients: weakref.WeakKeyDictionary[RedisCluster, dict[str, Redis]] = weakref.WeakKeyDictionary()
_NODE_CLIENT_OPTIONS = ("username", "password", "socket_connect_timeout", "socket_timeout", "max_connections")


async def node_client(redis: Redis, key: str) -> Redis:
    """``redis`` itself, or on a cluster a plain client of the node owning ``key``'s slot: for the
    lock-watch strategy, whose WATCH/MULTI and lock polls all touch one flight's slot. redis-py's
    async cluster pipeline runs each command of a transaction through ``asyncio.run`` in a new
    thread, on a connection shared with this event loop (concurrent transactions fail: "bound to
    a different event loop"), and its cluster client answers one connection error under hundreds
    of concurrent lock polls by resetting the node's connections, in use by other requests. A slot
    moved by resharding answers MOVED (an error: the request is answered 503); the cluster client
    learns the new owner with its next command on that slot."""
    if not isinstance(redis, RedisCluster):
        return redis
    await _learn_slots(redis)
    node = redis.get_node_from_key(key)
    clients = _node_clients.setdefault(redis, {})
    client = clients.get(node.name)
    if client is None:
        options = {
            k: redis.connection_kwargs[k] for k in _NODE_CLIENT_OPTIONS if k in redis.connection_kwargs
        }
        client = clients[node.name] = Redis(host=node.host, port=node.port, **options)
    return client


async def _learn_slots(redis: RedisCluster) -> None:
    """Load the slot map if the client has none yet (it loads it lazily, on its first command):
    ``get_node_from_key`` and ``ssubscribe`` only read it."""
    try:
        await redis.initialize()  # returns at once when the map is loaded and current
    except RedisClusterException as exc:  # no node reachable: an outage, as the client's own commands
        raise RedisConnectionError(str(exc)) from exc


async def close_node_clients(redis: Redis) -> None:
    if isinstance(redis, RedisCluster):
        for client in _node_clients.pop(redis, {}).values():
            await client.aclose()


async def queue_script(
    pipe: Pipeline | ClusterPipeline, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any]
) -> None:
    """Queue a script call on a pipeline. A cluster pipeline refuses EVALSHA (a node restarted
    empty lost its script cache, and the pipeline cannot load it there): it sends the script
    itself (EVAL, a few hundred bytes; the node caches the compiled script by its SHA)."""
    if isinstance(pipe, ClusterPipeline):
        pipe.execute_command("EVAL", script.script, len(keys), *keys, *args)
    else:
        await script(keys=keys, args=args, client=pipe)


async def run_script_packed(
    redis: Redis, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any]
) -> Any:
    """One EVALSHA on a single Redis with many or large arguments, packed by ``multiplex.encode``
    and sent on a connection of the client's own pool: redis-py's packer spent ~6 ms of CPU on
    the ~1,400 arguments (0.9 MB) of a hub flight change's patch. NOSCRIPT (a restarted Redis)
    loads the script and sends the call again; a failed exchange drops the connection, so that
    no half-read reply reaches its next user. Errors are redis-py's (outage -> 503 unchanged)."""
    packed = encode("EVALSHA", script.sha, len(keys), *keys, *args)
    pool = redis.connection_pool
    connection = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        await connection.send_packed_command(packed)
        try:
            return await connection.read_response()
        except NoScriptError:
            await connection.send_command("SCRIPT", "LOAD", script.script)
            await connection.read_response()
            await connection.send_packed_command(packed)
            return await connection.read_response()
    except BaseException:
        await connection.disconnect()
        raise
    finally:
        await pool.release(connection)


def publish(pipe: Pipeline | ClusterPipeline, channel: str, message: str) -> None:
    """Queue a seat_updates message. On a cluster a sharded message (SPUBLISH): it goes to the one
    shard owning the channel's slot, where plain PUBLISH is copied to every node over the bus;
    the worker listens with SSUBSCRIBE there (app/flights/tasks.py)."""
    if isinstance(pipe, ClusterPipeline):
        pipe.execute_command("SPUBLISH", channel, message)
    else:
        pipe.publish(channel, message)


async def subscribe(redis: Redis, channel: str) -> PubSub:
    """A subscription to ``channel`` as ``publish`` sends to it (SSUBSCRIBE on a cluster: the
    client connects to the shard owning the channel's slot)."""
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    if isinstance(pubsub, ClusterPubSub):
        await _learn_slots(pubsub.cluster)
        await pubsub.ssubscribe(channel)
    else:
        await pubsub.subscribe(channel)
    return pubsub


async def next_message(pubsub: PubSub, wait_seconds: float) -> dict[str, Any] | None:
    """The next message of a ``subscribe`` subscription, or None after ``wait_seconds``."""
    message: dict[str, Any] | None
    if isinstance(pubsub, ClusterPubSub):
        message = await pubsub.get_sharded_message(ignore_subscribe_messages=True, timeout=wait_seconds)
    else:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=wait_seconds)
    return message


class Keys:
    """Names of every Redis key FlightDesk writes, under one configurable prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def flight_tag(self, flight_id: uuid.UUID | str) -> str:
        return f"{self.prefix}:{{f:{flight_id}}}"

    def seats(self, flight_id: uuid.UUID | str) -> str:
        return f"{self.flight_tag(flight_id)}:seats"

    def flight_lock(self, flight_id: uuid.UUID | str) -> str:
        return f"{self.flight_tag(flight_id)}:lock"

    def seat_generation(self, flight_id: uuid.UUID | str) -> str:
        """Random token, renewed whenever the seat counter is recreated from PostgreSQL."""
        return f"{self.flight_tag(flight_id)}:gen"

    @property
    def epoch(self) -> str:
        """Exists while Redis holds state FlightDesk wrote; its absence means Redis lost its data."""
        # Tagged like the write-back set: on a cluster, a master lost with that set loses this key
        # too, so the next write-back syncs every flight instead of missing the lost ones.
        return f"{self.prefix}:{{sync}}:epoch"

    @property
    def airports(self) -> str:
        # :2: spellings merged by migration 0006 (a list cached before it would name both).
        return f"{self.prefix}:airports:2"

    @property
    def seat_sync_dirty(self) -> str:
        """Set of flight ids whose seat count awaits write-back to PostgreSQL."""
        return f"{self.prefix}:{{sync}}:seat_sync:dirty"

    @property
    def seat_sync_last_run(self) -> str:
        """Unix time of the last completed write-back."""
        return f"{self.prefix}:seat_sync:last_run"

    def flight_card(self, flight_id: uuid.UUID | str) -> str:
        """Search: the flight's pre-serialised JSON, without its live available_seats. Versioned:
        v2 added the flight's status, and a card of the old shape is never read again."""
        return f"{self.flight_tag(flight_id)}:card2"

    def search_day(self, origin: str, day: str) -> str:
        """Search: hash destination -> best itineraries from ``origin`` on local date ``day``."""
        return f"{self.prefix}:search:{{o:{origin}}}:{day}"

    @property
    def search_format(self) -> str:
        """Search: the index format and rules it was built with; absent while (re)building."""
        return f"{self.prefix}:search:format"

    @property
    def search_lock(self) -> str:
        """Search: held (short TTL, renewed) while a full rebuild runs, so only one runs at a time."""
        return f"{self.prefix}:search:lock"

    @property
    def search_update_lock(self) -> str:
        """Search: serialises the incremental updates of small flight changes (short TTL)."""
        return f"{self.prefix}:search:update_lock"

    @property
    def search_dirty(self) -> str:
        """Search: set of "origin<TAB>date" origin-days awaiting recomputation by the worker."""
        return f"{self.prefix}:search:dirty"

    @property
    def search_origins(self) -> str:
        """Search: set of the airports the index holds origin-days for."""
        return f"{self.prefix}:search:origins"

    @property
    def search_requested(self) -> str:
        """Search: short-lived marker debouncing the read path's reindex requests."""
        return f"{self.prefix}:search:requested"

    @property
    def search_timetable_head(self) -> str:
        """The timetable feed's head: a hash of epoch and seq (app/search/timetable.py)."""
        return f"{self.prefix}:search:{{timetable}}:head"

    @property
    def search_timetable_feed(self) -> str:
        """The timetable feed: a stream of changed flights' ids, entry ``<seq>-1`` per change."""
        return f"{self.prefix}:search:{{timetable}}:feed"

    @property
    def search_max_duration(self) -> str:
        """Search: seconds of the longest flight ever indexed (only raised), bounding invalidation."""
        return f"{self.prefix}:search:max_duration"

    def pattern(self) -> str:
        return f"{self.prefix}:*"
