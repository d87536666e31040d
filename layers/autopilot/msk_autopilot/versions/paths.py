"""Upgrade paths through MSK's compatibility graph, the ZooKeeper-to-KRaft checklist, and whether a
cluster's configuration revision must change with the upgrade.

The graph is GetCompatibleKafkaVersions called without a ClusterArn: for each source version, the
versions MSK lets a cluster on it move to. Nothing here is hard-coded about which hops exist: MSK
offers ZooKeeper to KRaft in place only where it lists a KRaft target from a ZooKeeper version
(today from 3.9.x; REFERENCE.md "Kafka versions").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence

import msgspec

from msk_autopilot.versions.catalogue import is_kraft, version_key

__all__ = [
    "KRAFT_MIGRATION_PREREQUISITES",
    "CompatibilityGraph",
    "Prerequisite",
    "PrerequisiteCheck",
    "kraft_migration_hop",
    "missing_path_reason",
    "needs_compatible_configuration",
    "unmet",
    "upgrade_path",
]

CompatibilityGraph = Mapping[str, Sequence[str]]


class Prerequisite(msgspec.Struct, frozen=True):
    """One documented condition for migrating ZooKeeper to KRaft in place."""

    key: str
    text: str


class PrerequisiteCheck(msgspec.Struct, frozen=True):
    """A prerequisite as the I/O layer found it: met, not met, or None when only people can tell."""

    key: str
    met: bool | None
    detail: str = ""


# zk-to-kraft-migration.html, "Prerequisites" (MSK developer guide). The I/O layer checks what
# DescribeClusterV2 shows and leaves the rest (client and tool usage) for the operator to confirm.
KRAFT_MIGRATION_PREREQUISITES: tuple[Prerequisite, ...] = (
    Prerequisite("three_zones", "Standard brokers span 3 Availability Zones (Express always do)"),
    Prerequisite("on_3_9_zookeeper", "the cluster runs 3.9.x in ZooKeeper mode"),
    Prerequisite("active_no_pending", "the cluster is ACTIVE with no pending operations"),
    Prerequisite(
        "zookeeper_access_disabled",
        "Standard clusters: ZooKeeper client access is disabled (UpdateConnectivity "
        "ZookeeperAccess.Enabled=false)",
    ),
    Prerequisite(
        "no_zookeeper_tools", "no tool (old Cruise Control, admin scripts) uses ZooKeeper"
    ),
    Prerequisite(
        "bootstrap_clients", "every client connects with --bootstrap-server, not --zookeeper"
    ),
    Prerequisite(
        "not_public_and_open_monitoring",
        "public access and open monitoring are not both enabled",
    ),
    Prerequisite("not_t3_small", "the brokers are not kafka.t3.small"),
    Prerequisite(
        "no_dynamic_advertised_listeners", "advertised.listeners is not set dynamically on brokers"
    ),
)


def unmet(checks: Sequence[PrerequisiteCheck]) -> tuple[PrerequisiteCheck, ...]:
    """The checks that block a migration: not met, or unknown (a migration is not undone)."""
    return tuple(check for check in checks if check.met is not True)


def upgrade_path(graph: CompatibilityGraph, current: str, target: str) -> tuple[str, ...] | None:
    """The hops from `current` to `target` (target last; () when equal), or None when none exists.

    Fewest hops first; among equally short paths, each hop goes to the newest version that still
    reaches the target in the fewest hops.
    """
    if current == target:
        return ()
    to_target = _hops_to(graph, target)
    if current not in to_target:
        return None
    path: list[str] = []
    node = current
    while node != target:
        remaining = to_target[node] - 1
        node = max(
            (step for step in graph.get(node, ()) if to_target.get(step) == remaining),
            key=version_key,
        )
        path.append(node)
    return tuple(path)


def _hops_to(graph: CompatibilityGraph, target: str) -> dict[str, int]:
    """Fewest hops from each version to `target` (breadth first over the reversed graph)."""
    sources: dict[str, list[str]] = {}
    for source, targets in graph.items():
        for step in targets:
            sources.setdefault(step, []).append(source)
    hops = {target: 0}
    queue = deque([target])
    while queue:
        node = queue.popleft()
        for source in sources.get(node, ()):
            if source not in hops:
                hops[source] = hops[node] + 1
                queue.append(source)
    return hops


def kraft_migration_hop(current: str, path: Sequence[str]) -> str | None:
    """The hop of `path` that moves a ZooKeeper cluster to KRaft, or None."""
    previous = current
    for hop in path:
        if is_kraft(hop) and not is_kraft(previous):
            return hop
        previous = hop
    return None


def missing_path_reason(graph: CompatibilityGraph, current: str, target: str) -> str:
    """Why MSK offers no path from `current` to `target`, in words an operator can act on."""
    if version_key(target) < version_key(current) or (is_kraft(current) and not is_kraft(target)):
        return f"MSK does not downgrade: {current} cannot move to {target}"
    if is_kraft(target) and not is_kraft(current):
        migrations = sorted(
            (
                source
                for source, steps in graph.items()
                if not is_kraft(source) and any(map(is_kraft, steps))
            ),
            key=version_key,
        )
        if not migrations:
            return (
                f"MSK offers no in-place ZooKeeper to KRaft migration from any version; "
                f"{target} needs a new KRaft cluster"
            )
        return (
            f"MSK lists no path from {current} to {target}: ZooKeeper to KRaft in place is offered "
            f"only from {', '.join(migrations)}"
        )
    if current not in graph:
        return f"MSK lists no upgrade from {current}"
    return f"MSK lists no path from {current} to {target}"


def needs_compatible_configuration(revision_kafka_versions: Sequence[str], next_hop: str) -> bool:
    """Whether the cluster's configuration revision must change before MSK accepts `next_hop`.

    A configuration applies to the versions in its KafkaVersions; one created without the list
    (empty) is taken as usable with every version.
    """
    return bool(revision_kafka_versions) and next_hop not in revision_kafka_versions
