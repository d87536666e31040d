"""Where a cluster's partition replicas live: Kafka's rack-aware assignment for new topics and
partitions, and the moves intelligent rebalancing makes when Express brokers are added or
removed (pure; a broker's rack is its Availability Zone, as MSK sets ``broker.rack``).

``assign`` is Kafka's ``AdminUtils.assignReplicasToBrokers`` with racks: brokers are listed
alternating racks, partition p's first replica (its preferred leader) is the (start + p)-th of
that list, and followers go to the next brokers at a shift that grows every len(brokers)
partitions, skipping racks and brokers the partition already uses while others are free. Kafka
picks the start at random; here it is fixed per topic, so runs are repeatable and the leaders of
different topics still start on different brokers.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "PartitionReplicas",
    "assign",
    "balance_leaders",
    "drain",
    "rack_alternated",
    "replica_counts",
    "spread",
]


@dataclass
class PartitionReplicas:
    """One partition's placement, as DescribeTopicPartitions shows it."""

    replicas: list[int]
    leader: int = -1
    isr: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.leader == -1:
            self.leader = self.replicas[0]
        if not self.isr:
            self.isr = list(self.replicas)

    def move(self, source: int, target: int) -> None:
        """Replace the replica on ``source`` by one on ``target`` (in sync once moved); the
        leadership moves with it."""
        self.replicas = [target if broker == source else broker for broker in self.replicas]
        self.isr = [target if broker == source else broker for broker in self.isr]
        if self.leader == source:
            self.leader = target


def rack_alternated(racks: Mapping[int, str]) -> list[int]:
    """Brokers in Kafka's rack-alternated order: the first of each rack, then the second, ..."""
    by_rack: dict[str, list[int]] = {}
    for broker in sorted(racks):
        by_rack.setdefault(racks[broker], []).append(broker)
    columns = [by_rack[rack] for rack in sorted(by_rack)]
    deepest = max((len(column) for column in columns), default=0)
    return [column[row] for row in range(deepest) for column in columns if row < len(column)]


def start_index(topic: str, brokers: int) -> int:
    return zlib.crc32(topic.encode()) % brokers


def assign(
    topic: str,
    partitions: int,
    replication_factor: int,
    racks: Mapping[int, str],
    *,
    first_partition: int = 0,
) -> list[PartitionReplicas]:
    """Replicas for partitions first_partition .. first_partition + partitions - 1 of ``topic``
    on the brokers of ``racks`` (broker ID -> rack); needs replication_factor <= brokers."""
    arranged = rack_alternated(racks)
    count, rack_count = len(arranged), len(set(racks.values()))
    start = start_index(topic, count)
    shift = start
    placed = []
    for partition in range(first_partition, first_partition + partitions):
        if partition > 0 and partition % count == 0:
            shift += 1
        first = (partition + start) % count
        replicas = [arranged[first]]
        used_racks = {racks[arranged[first]]}
        step = 0
        while len(replicas) < replication_factor:
            offset = 1 + (shift * rack_count + step) % (count - 1)
            broker = arranged[(first + offset) % count]
            step += 1
            if (racks[broker] not in used_racks or len(used_racks) == rack_count) and (
                broker not in replicas
            ):
                replicas.append(broker)
                used_racks.add(racks[broker])
        placed.append(PartitionReplicas(replicas))
    return placed


def replica_counts(partitions: Iterable[PartitionReplicas], brokers: Iterable[int]) -> Counter[int]:
    """Replicas per broker (every broker of ``brokers`` present, empty ones at 0)."""
    counts: Counter[int] = Counter(dict.fromkeys(brokers, 0))
    for partition in partitions:
        counts.update(partition.replicas)
    return counts


def spread(
    partitions: list[PartitionReplicas], new_brokers: Iterable[int], racks: Mapping[int, str]
) -> None:
    """Intelligent rebalancing after brokers were added: move replicas within each zone from the
    busiest brokers onto the new ones until the zone is even (no broker more than one replica
    above another), so zone placement stays as it was; then even out the leaders."""
    counts = replica_counts(partitions, racks)
    for new in sorted(new_brokers):
        peers = [broker for broker in racks if racks[broker] == racks[new] and broker != new]
        while peers:
            donor = max(peers, key=lambda broker: (counts[broker], -broker))
            if counts[donor] <= counts[new] + 1:
                break
            candidates = [p for p in partitions if donor in p.replicas and new not in p.replicas]
            if not candidates:
                break
            candidates[-1].move(donor, new)
            counts[donor] -= 1
            counts[new] += 1
    balance_leaders(partitions)


def balance_leaders(partitions: list[PartitionReplicas]) -> None:
    """Make each partition's leader (and preferred leader, its first replica) the replica that
    leads fewest partitions so far, keeping the current leader on a tie."""
    leaders: Counter[int] = Counter()
    for partition in partitions:
        leader = min(
            partition.isr or partition.replicas,
            key=lambda broker: (leaders[broker], broker != partition.leader),
        )
        partition.leader = leader
        partition.replicas = [leader, *(b for b in partition.replicas if b != leader)]
        leaders[leader] += 1


def drain(
    partitions: list[PartitionReplicas], removed: Iterable[int], racks: Mapping[int, str]
) -> None:
    """Intelligent rebalancing before brokers are removed: every replica on a removed broker
    moves to the least loaded remaining broker of the same zone that does not hold the
    partition yet (another zone's when none is free); then leaders are evened out. ``racks``
    covers every broker, removed ones included."""
    gone = set(removed)
    remaining = [broker for broker in racks if broker not in gone]
    counts = replica_counts(partitions, remaining)
    for partition in partitions:
        for source in [broker for broker in partition.replicas if broker in gone]:
            free = [broker for broker in remaining if broker not in partition.replicas]
            same_zone = [broker for broker in free if racks[broker] == racks[source]]
            target = min(same_zone or free, key=lambda broker: (counts[broker], broker))
            partition.move(source, target)
            counts[target] += 1
    balance_leaders(partitions)
