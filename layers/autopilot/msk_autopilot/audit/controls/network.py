"""What "reachable from the internet" means for a security-group rule (AUTOPILOT.5).

The rule: an inbound source fails when the public addresses it admits number more than a /16
of IPv4 (65,536 addresses) or a /32 of IPv6 (2**96 addresses), however the CIDR is spelled
(0.0.0.0/0, 0.0.0.0/1, 8.0.0.0/7, ::/0, 2000::/3, or host bits set as in 8.8.8.8/7). Public means
outside the IANA special-purpose blocks that are not globally reachable (private, shared,
loopback, link-local, documentation, benchmarking, multicast, reserved; for IPv6, anything
outside global unicast 2000::/3, and its documentation prefixes). Why these thresholds: a /16 of
IPv4 and a /32 of IPv6 are the largest blocks one organization is commonly allocated (a former
class B network; a regional registry's minimum allocation to a provider), so a wider source
admits networks its owner cannot vouch for: it is the internet, not a partner. A narrower public
source (an office's /24, a partner's /16) passes: naming who may connect is the point.

Ports: only those the cluster's kind listens on (port-info.html): provisioned brokers (Standard
and Express) 9092 plaintext, 9094 TLS, 9096 SASL/SCRAM, 9098 IAM and their IPv6 listeners
20092-20098, the public listeners 9194/9196/9198 only while public access is on, and ZooKeeper's
2181/2182; serverless clusters 9098 only (IAM over TLS, the only access they offer).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from msk_autopilot.audit.controls.registry import IpPermission
from msk_autopilot.msk import ClusterSnapshot

__all__ = [
    "PROVISIONED_PORTS",
    "PUBLIC_LISTENER_PORTS",
    "SERVERLESS_PORTS",
    "WIDEST_PUBLIC_SOURCE",
    "broad_sources",
    "cluster_ports",
    "exposed_ports",
    "public_addresses",
    "too_broad",
]

type Network = ipaddress.IPv4Network | ipaddress.IPv6Network

PROVISIONED_PORTS: tuple[int, ...] = (
    9092,
    9094,
    9096,
    9098,
    20092,
    20094,
    20096,
    20098,
    2181,
    2182,
)
PUBLIC_LISTENER_PORTS: tuple[int, ...] = (9194, 9196, 9198)
SERVERLESS_PORTS: tuple[int, ...] = (9098,)
# The most public addresses a source may admit: a /16 of IPv4, a /32 of IPv6.
WIDEST_PUBLIC_SOURCE: dict[int, int] = {4: 2 ** (32 - 16), 6: 2 ** (128 - 32)}

# Where public addresses are drawn from, and the blocks within it that are not public (IANA
# IPv4 and IPv6 Special-Purpose Address Registries, entries not "globally reachable").
_PUBLIC_SPACE: dict[int, tuple[Network, ...]] = {
    4: (ipaddress.ip_network("0.0.0.0/0"),),
    6: (ipaddress.ip_network("2000::/3"),),
}
_NOT_PUBLIC: dict[int, tuple[Network, ...]] = {
    4: tuple(
        ipaddress.collapse_addresses(
            ipaddress.IPv4Network(block)
            for block in (
                "0.0.0.0/8",
                "10.0.0.0/8",
                "100.64.0.0/10",
                "127.0.0.0/8",
                "169.254.0.0/16",
                "172.16.0.0/12",
                "192.0.0.0/24",
                "192.0.2.0/24",
                "192.168.0.0/16",
                "198.18.0.0/15",
                "198.51.100.0/24",
                "203.0.113.0/24",
                "224.0.0.0/4",
                "240.0.0.0/4",
            )
        )
    ),
    6: tuple(
        ipaddress.collapse_addresses(
            ipaddress.IPv6Network(block) for block in ("2001:db8::/32", "3fff::/20")
        )
    ),
}


def _overlap(a: Network, b: Network) -> int:
    """Addresses two CIDR blocks share (one holds the other, or they are disjoint)."""
    if a.version != b.version:
        return 0
    if a.subnet_of(b):  # type: ignore[arg-type]  # same version, checked above
        return a.num_addresses
    if b.subnet_of(a):  # type: ignore[arg-type]
        return b.num_addresses
    return 0


def public_addresses(cidr: str) -> int:
    """How many public addresses a source CIDR admits (0 for one that is not a CIDR)."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return 0
    space = sum(_overlap(network, block) for block in _PUBLIC_SPACE[network.version])
    return space - sum(_overlap(network, block) for block in _NOT_PUBLIC[network.version])


def too_broad(cidr: str) -> bool:
    """Whether a source admits more public addresses than the rule allows."""
    try:
        version: int = ipaddress.ip_network(cidr, strict=False).version
    except ValueError:
        return False
    return public_addresses(cidr) > WIDEST_PUBLIC_SOURCE[version]


def cluster_ports(cluster: ClusterSnapshot) -> tuple[int, ...]:
    """The ports the cluster's kind listens on (see the module docstring)."""
    if cluster.provisioned is None:
        return SERVERLESS_PORTS
    access = cluster.provisioned.broker_node_group_info.connectivity_info.public_access.type
    public = access not in (None, "DISABLED")
    return PROVISIONED_PORTS + (PUBLIC_LISTENER_PORTS if public else ())


_TCP_PROTOCOLS = ("-1", "tcp", "6")


def broad_sources(rule: IpPermission) -> list[str]:
    """The rule's sources that are too broad (any protocol)."""
    return [r.cidr_ip for r in rule.ip_ranges if too_broad(r.cidr_ip)] + [
        r.cidr_ipv6 for r in rule.ipv6_ranges if too_broad(r.cidr_ipv6)
    ]


def exposed_ports(rule: IpPermission, ports: Sequence[int]) -> list[int]:
    """Which of `ports` a rule opens to a too-broad source."""
    if rule.ip_protocol not in _TCP_PROTOCOLS or not broad_sources(rule):
        return []
    if rule.ip_protocol == "-1" or rule.from_port is None:
        return list(ports)
    last = rule.to_port if rule.to_port is not None else rule.from_port
    return [port for port in ports if rule.from_port <= port <= last]
