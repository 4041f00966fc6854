"""Where a crawl may connect: the public internet, and only the internal hosts listed.

A feed entry, a redirect or an API's answer can name any address. Fetched, an address inside
our own network (loopback, the private ranges, link-local with the cloud metadata service at
169.254.169.254, shared CGNAT space…) would turn the crawler into a way to read internal
services and store their answers as items analysts read (SSRF). So every destination is
checked, by name and by every address it resolves to, and an internal one is refused unless
``crawl.allowed_internal_hosts`` lists its name or a network holding its address.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Address = IPv4Address | IPv6Address

# Names of cloud metadata services; they resolve to link-local addresses where they exist,
# but a resolver we do not see (a proxy's) may answer for them.
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
    }
)
_NAT64 = IPv6Network("64:ff9b::/96")  # IPv4 addresses reached through a NAT64 gateway


class ForbiddenDestination(Exception):
    """A request to an internal address nobody allowed; never fetched, never stored."""

    cause = "internal_address"


def _embedded_ipv4(address: Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), which is what is reached."""
    if not isinstance(address, IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def internal_kind(address: Address) -> str | None:
    """Why ``address`` is not on the public internet (e.g. "loopback"), or None if it is."""
    address = _embedded_ipv4(address) or address
    for kind, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return kind
    return None if address.is_global else "not global"  # CGNAT 100.64/10, documentation…


def literal_address(host: str) -> Address | None:
    """The address ``host`` spells (``[::1]`` too), or None for a name."""
    try:
        return ip_address(host.strip("[]"))
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (empty when it does not: the fetch fails on its own)."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [ip_address(str(info[4][0]).split("%")[0]) for info in found]


@dataclass(frozen=True, slots=True)
class DestinationPolicy:
    """The allowed internal hosts: names (admitted whatever they resolve to) and networks."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPv4Network | IPv6Network, ...] = ()

    @classmethod
    def allowing(cls, entries: Iterable[str]) -> DestinationPolicy:
        """From ``crawl.allowed_internal_hosts``: host names, addresses or networks (CIDR)."""
        names: set[str] = set()
        networks = []
        for entry in entries:
            try:
                networks.append(ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(_normal_name(entry))
        return cls(frozenset(names), tuple(networks))

    def refusal(self, host: str, addresses: Iterable[Address]) -> str | None:
        """Why a connection to ``host`` at ``addresses`` is refused, or None when it may go."""
        name = _normal_name(host)
        if name in self.names:
            return None
        if name in METADATA_HOSTS:
            return f"{host} is a cloud metadata service"
        for address in addresses:
            kind = internal_kind(address)
            if kind is not None and not any(address in net for net in self.networks):
                return f"{host} resolves to {address} ({kind})"
        return None

    def check(self, host: str, addresses: Iterable[Address]) -> None:
        """Raise ForbiddenDestination when ``refusal`` has a reason."""
        reason = self.refusal(host, addresses)
        if reason is not None:
            raise ForbiddenDestination(reason)


def _normal_name(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()
