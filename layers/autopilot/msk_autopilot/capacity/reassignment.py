"""The partition reassignment new or leaving Standard brokers need (pure).

New Standard brokers hold no partitions until a reassignment moves replicas onto them, and a
broker can only be removed once it holds none. `plan_reassignment` balances replicas and
preferred leaders over the brokers; `plan_drain` also empties the given brokers. Both return the
JSON `kafka-reassign-partitions --execute --reassignment-json-file` takes.

Balance: every broker ends with floor(R/B) or ceil(R/B) of the R replicas (B brokers taking
replicas), and each partition's replicas stay in distinct zones: a replica moves within its zone,
or to a zone the partition has no other replica in. Minimality: each move takes a replica from
the fullest broker to the emptiest one it may go to (the feasible pair furthest apart); a move
from the fullest to the emptiest broker lowers max(excess over ceil, shortfall under floor) by
one, and that maximum is the fewest moves that can balance the brokers. When every partition has
one replica per zone (replication factor = zone count, MSK's default on three zones) replicas
never leave their zone and the plan moves exactly the sum over zones of that bound. Among a
broker's replicas it moves followers before leaders and small partitions before large ones.

Leaders: the preferred leader is the first replica of the list, which Kafka's automatic leader
rebalancing (on by default in MSK) makes the leader; the plan then reorders replica lists (no
data moves) so that preferred leaders per broker differ by at most one where the replica
placement allows it, handing leadership along chains of brokers that share partitions.
The current leader reported by DescribeTopicPartitions is not needed for either.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Collection, Iterable, Mapping, Sequence

import msgspec

__all__ = [
    "Broker",
    "PartitionPlacement",
    "ReassignmentPlan",
    "from_describe_topic_partitions",
    "plan_drain",
    "plan_reassignment",
]


class Broker(msgspec.Struct, frozen=True):
    broker_id: int
    zone: str  # Availability Zone (or its id)


class PartitionPlacement(msgspec.Struct, frozen=True):
    topic: str
    partition: int
    replicas: tuple[int, ...]  # broker ids, preferred leader first
    size_bytes: int | None = None  # the partition's size on one replica, when known


class ReassignmentPlan(msgspec.Struct, frozen=True, kw_only=True):
    partitions: tuple[PartitionPlacement, ...]  # new placements of the partitions that change
    partitions_moved: int  # partitions whose replica set changes (the rest only reorder)
    replicas_moved: int
    bytes_moved: int | None  # None when a moved partition's size is unknown
    replicas_per_broker: Mapping[int, int]  # after the plan
    leaders_per_broker: Mapping[int, int]  # preferred leaders after the plan
    balanced: bool  # replicas per broker differ by at most one (drained brokers aside)

    def reassignment_json(self) -> str:
        """The plan as `kafka-reassign-partitions --reassignment-json-file` reads it."""
        return json.dumps(
            {
                "version": 1,
                "partitions": [
                    {
                        "topic": placement.topic,
                        "partition": placement.partition,
                        "replicas": list(placement.replicas),
                        "log_dirs": ["any"] * len(placement.replicas),
                    }
                    for placement in self.partitions
                ],
            }
        )


def from_describe_topic_partitions(
    topic: str,
    partitions: Iterable[Mapping[str, object]],
    sizes: Mapping[int, int] | None = None,
) -> list[PartitionPlacement]:
    """Placements from the `Partitions` of MSK's DescribeTopicPartitions response."""
    placements = []
    for info in partitions:
        number = info["Partition"]
        replicas = info["Replicas"]
        if not isinstance(number, int) or not isinstance(replicas, list):
            raise TypeError(f"topic {topic}: a partition without Partition or Replicas")
        placements.append(
            PartitionPlacement(
                topic,
                number,
                tuple(int(broker) for broker in replicas),
                None if sizes is None else sizes.get(number),
            )
        )
    return placements


def plan_reassignment(
    partitions: Sequence[PartitionPlacement], brokers: Sequence[Broker]
) -> ReassignmentPlan:
    """Balance `partitions` over `brokers` (those holding none, e.g. new ones, included)."""
    return _plan(partitions, brokers, frozenset())


def plan_drain(
    partitions: Sequence[PartitionPlacement],
    brokers: Sequence[Broker],
    draining: Collection[int],
) -> ReassignmentPlan:
    """Move every replica off the `draining` brokers, balancing the rest, before a scale-in."""
    unknown = set(draining) - {broker.broker_id for broker in brokers}
    if unknown:
        raise ValueError(f"cannot drain unknown brokers {sorted(unknown)}")
    return _plan(partitions, brokers, frozenset(draining))


def _plan(
    partitions: Sequence[PartitionPlacement],
    brokers: Sequence[Broker],
    draining: frozenset[int],
) -> ReassignmentPlan:
    zones = {broker.broker_id: broker.zone for broker in brokers}
    for placement in partitions:
        strangers = set(placement.replicas) - zones.keys()
        if strangers:
            raise ValueError(
                f"{placement.topic}-{placement.partition} is on unknown brokers {sorted(strangers)}"
            )
    receivers = [broker.broker_id for broker in brokers if broker.broker_id not in draining]
    if not receivers:
        raise ValueError("no broker would be left to hold the partitions")
    state = _Placement(partitions, zones)
    moves = 0
    while (move := state.next_move(receivers, draining)) is not None:
        state.move(*move)
        moves += 1
    replicas, held = state.replicas, state.held
    _balance_leaders(replicas, receivers)
    changed = [
        (placement, tuple(new))
        for placement, new in zip(partitions, replicas, strict=True)
        if tuple(new) != placement.replicas
    ]
    moved = [placement for placement, new in changed if set(new) != set(placement.replicas)]
    counts = {broker_id: len(indexes) for broker_id, indexes in held.items()}
    receiving = [counts[broker_id] for broker_id in receivers]
    return ReassignmentPlan(
        partitions=tuple(
            msgspec.structs.replace(placement, replicas=new) for placement, new in changed
        ),
        partitions_moved=len(moved),
        replicas_moved=moves,
        bytes_moved=_bytes_moved(changed),
        replicas_per_broker=counts,
        leaders_per_broker=_leaders(replicas, counts.keys()),
        balanced=max(receiving) - min(receiving) <= 1
        and all(counts[broker_id] == 0 for broker_id in draining),
    )


class _Placement:
    """Where every replica is while the plan is made, with each broker's preference order of the
    replicas it would give away (followers before leaders, small before large)."""

    def __init__(self, partitions: Sequence[PartitionPlacement], zones: Mapping[int, str]) -> None:
        self.replicas = [list(placement.replicas) for placement in partitions]
        self.held: dict[int, set[int]] = {broker_id: set() for broker_id in zones}
        for index, replica_list in enumerate(self.replicas):
            for broker_id in replica_list:
                self.held[broker_id].add(index)
        self._sizes = [placement.size_bytes or 0 for placement in partitions]
        self._zones = zones
        self._order: dict[int, deque[int]] = {}  # broker id -> held indexes, preferred first

    def move(self, index: int, source: int, target: int) -> None:
        replica_list = self.replicas[index]
        replica_list[replica_list.index(source)] = target
        self.held[source].discard(index)
        self.held[target].add(index)
        self._order.pop(target, None)  # it holds a new replica: sort again when it gives one

    def next_move(
        self, receivers: Sequence[int], draining: frozenset[int]
    ) -> tuple[int, int, int] | None:
        """The next replica move (partition index, from, to), or None when balanced or stuck:
        drains first, then the pair of brokers furthest apart, within a zone among equals."""
        count = {broker_id: len(indexes) for broker_id, indexes in self.held.items()}
        pairs = [
            (source, target)
            for source in self.held
            if self.held[source]
            for target in receivers
            if source in draining or count[source] - count[target] >= 2
        ]
        pairs.sort(
            key=lambda pair: (
                pair[0] not in draining,
                -(count[pair[0]] - count[pair[1]]),
                self._zones[pair[0]] != self._zones[pair[1]],
                pair,
            )
        )
        for source, target in pairs:
            for index in self._preferred(source):
                if (
                    index in self.held[source]
                    and index not in self.held[target]
                    and _zone_allows(self.replicas[index], source, target, self._zones)
                ):
                    return index, source, target
        return None

    def _preferred(self, broker_id: int) -> deque[int]:
        held = self.held[broker_id]
        if broker_id not in self._order:
            self._order[broker_id] = deque(
                sorted(
                    held,
                    key=lambda index: (
                        self.replicas[index][0] == broker_id,
                        self._sizes[index],
                        index,
                    ),
                )
            )
        order = self._order[broker_id]
        while order and order[0] not in held:  # given away since it was sorted
            order.popleft()
        return order


def _zone_allows(
    replica_list: Sequence[int], source: int, target: int, zones: Mapping[int, str]
) -> bool:
    """Whether moving the replica on `source` to `target` keeps the partition's zones apart
    (a move within a zone changes nothing)."""
    if zones[source] == zones[target]:
        return True
    return zones[target] not in {zones[broker] for broker in replica_list if broker != source}


def _balance_leaders(replicas: list[list[int]], receivers: Sequence[int]) -> None:
    """Reorder replica lists so preferred leaders per broker differ by at most one where the
    placement allows: hand leadership along a chain (a leader to a follower of a partition it
    leads, that one to a follower of one it leads, ...) from a broker leading most to one leading
    at least two fewer; the brokers in between keep their count. Stops when no chain exists."""
    leaders = Counter(dict.fromkeys(receivers, 0))
    led: dict[int, set[int]] = {}
    for index, replica_list in enumerate(replicas):
        if replica_list:
            leaders[replica_list[0]] += 1
            led.setdefault(replica_list[0], set()).add(index)
    while (chain := _handover_chain(replicas, leaders, led)) is not None:
        for index, leader, follower in chain:
            replica_list = replicas[index]
            replica_list.remove(follower)
            replica_list.insert(0, follower)
            led[leader].discard(index)
            led.setdefault(follower, set()).add(index)
        leaders[chain[0][1]] -= 1
        leaders[chain[-1][2]] += 1


def _handover_chain(
    replicas: Sequence[Sequence[int]], leaders: Counter[int], led: Mapping[int, set[int]]
) -> list[tuple[int, int, int]] | None:
    """The shortest chain of hand-overs (partition index, leader, follower) from a broker
    leading most to one leading at least two fewer, or None."""
    fewest = min(leaders.values())
    for start in sorted(led, key=lambda broker_id: (-leaders[broker_id], broker_id)):
        if leaders[start] - fewest < 2:
            return None
        reached: dict[int, tuple[int, int] | None] = {start: None}  # broker -> (index, from)
        queue = deque([start])
        while queue:
            broker_id = queue.popleft()
            for index in sorted(led.get(broker_id, ())):
                for follower in replicas[index][1:]:
                    if follower in reached:
                        continue
                    reached[follower] = (index, broker_id)
                    if leaders[start] - leaders[follower] >= 2:
                        return _chain(reached, follower)
                    queue.append(follower)
    return None


def _chain(reached: Mapping[int, tuple[int, int] | None], end: int) -> list[tuple[int, int, int]]:
    chain = []
    broker_id = end
    while (step := reached[broker_id]) is not None:
        index, leader = step
        chain.append((index, leader, broker_id))
        broker_id = leader
    return chain[::-1]


def _leaders(replicas: Sequence[Sequence[int]], broker_ids: Iterable[int]) -> dict[int, int]:
    leaders = dict.fromkeys(broker_ids, 0)
    for replica_list in replicas:
        if replica_list:
            leaders[replica_list[0]] += 1
    return leaders


def _bytes_moved(changed: Sequence[tuple[PartitionPlacement, tuple[int, ...]]]) -> int | None:
    total = 0
    for placement, new in changed:
        arriving = len(set(new) - set(placement.replicas))
        if not arriving:
            continue
        if placement.size_bytes is None:
            return None
        total += arriving * placement.size_bytes
    return total
