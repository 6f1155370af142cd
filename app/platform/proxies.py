"""Who the client is: the socket peer, unless the peer is a proxy listed in TRUSTED_PROXIES.

Behind nginx every connection comes from nginx, and the client is what nginx appended to
X-Forwarded-For. Anybody can send that header, so it is believed only from a trusted peer, and only
as far as trusted proxies vouch for each other: walking the list from the right (the hop nearest to
us), the client is the first address that is not a trusted proxy. Whatever a client wrote at the
left of the header itself is never reached.

TRUSTED_PROXIES holds addresses, networks and host names (compose: `frontend`, the nginx service,
whose address changes when its container is re-created). Names are resolved when a client address
is asked for and the last answer is older than RESOLVE_EVERY seconds, as nginx re-resolves the API.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import socket
import time
from collections.abc import Sequence

import structlog

log = structlog.get_logger()

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

RESOLVE_EVERY = 10.0
RESOLVE_TIMEOUT = 2.0


def parse_address(text: str | None) -> IPAddress | None:
    """An address as a peer or X-Forwarded-For gives it (IPv4-mapped IPv6 read as IPv4); None if it
    is none."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    def __init__(self, entries: Sequence[str]) -> None:
        self.networks: list[IPNetwork] = []
        self.hostnames: list[str] = []
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hostnames.append(entry)
        self.resolved: frozenset[IPAddress] = frozenset()
        self.resolved_at = -math.inf

    def trusts(self, address: IPAddress) -> bool:
        return address in self.resolved or any(address in network for network in self.networks)

    async def client(self, peer: str | None, forwarded_for: Sequence[str]) -> str:
        """The client's address, from the socket peer and the request's X-Forwarded-For headers."""
        address = parse_address(peer)
        if address is None:
            return peer or "unknown"
        if not forwarded_for or not (self.networks or self.hostnames):
            return str(address)
        await self._resolve_names()
        hops = [hop for header in forwarded_for for hop in header.split(",")]
        while hops and self.trusts(address):
            previous = parse_address(hops.pop())
            if previous is None:
                # A trusted proxy passed on something that is no address: the proxy answers for it.
                break
            address = previous
        return str(address)

    async def _resolve_names(self) -> None:
        if not self.hostnames or time.monotonic() - self.resolved_at < RESOLVE_EVERY:
            return
        self.resolved_at = time.monotonic()  # before awaiting: concurrent requests do not all resolve
        loop = asyncio.get_running_loop()
        found: set[IPAddress] = set()
        for name in self.hostnames:
            try:
                async with asyncio.timeout(RESOLVE_TIMEOUT):
                    infos = await loop.getaddrinfo(name, None, type=socket.SOCK_STREAM)
            except (OSError, TimeoutError) as exc:
                # Keep the previous answer: a proxy that is briefly unresolvable is still the proxy.
                log.warning("trusted_proxy_unresolved", name=name, error=repr(exc))
                return
            found.update(a for info in infos if (a := parse_address(str(info[4][0]))) is not None)
        self.resolved = frozenset(found)
