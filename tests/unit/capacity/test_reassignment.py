"""The reassignment planner: balance, zones, minimality, idempotence, drains and its JSON."""

import json
import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msk_autopilot.capacity.reassignment import (
    Broker,
    PartitionPlacement,
    ReassignmentPlan,
    from_describe_topic_partitions,
    plan_drain,
    plan_reassignment,
)

ZONES = ("use1-az1", "use1-az2", "use1-az3")


def brokers(count, zones=ZONES):
    """Broker ids 1..count, round robin over the zones as MSK numbers them."""
    return [
        Broker(broker_id, zones[(broker_id - 1) % len(zones)]) for broker_id in range(1, count + 1)
    ]


def striped(partitions, broker_count, replication=3, topic="orders", size=None):
    """Partitions placed the way Kafka creates them on `broker_count` brokers: one replica per
    zone, leaders round robin."""
    per_zone = broker_count // len(ZONES)
    placements = []
    for number in range(partitions):
        replicas = tuple(
            1 + (zone + len(ZONES) * ((number + zone) % per_zone)) for zone in range(replication)
        )
        rotation = number % replication
        placements.append(
            PartitionPlacement(topic, number, replicas[rotation:] + replicas[:rotation], size)
        )
    return placements


def after(partitions, plan: ReassignmentPlan):
    moved = {(p.topic, p.partition): p.replicas for p in plan.partitions}
    return [moved.get((p.topic, p.partition), p.replicas) for p in partitions]


def zone_bound(partitions, cluster, draining=frozenset()):
    """The fewest replica moves that balance a cluster whose partitions keep one replica per
    zone: per zone, max(excess over ceil, shortfall under floor) of the receiving brokers."""
    counts = Counter(b for p in partitions for b in p.replicas)
    receivers = [b for b in cluster if b.broker_id not in draining]
    average = sum(len(p.replicas) for p in partitions) / len(receivers)
    low, high = math.floor(average), math.ceil(average)
    total = 0
    for zone in {b.zone for b in cluster}:
        drained = sum(
            counts[b.broker_id] for b in cluster if b.zone == zone and b.broker_id in draining
        )
        excess = drained + sum(
            max(0, counts[b.broker_id] - high) for b in receivers if b.zone == zone
        )
        shortfall = sum(max(0, low - counts[b.broker_id]) for b in receivers if b.zone == zone)
        total += max(excess, shortfall)
    return total


def assert_valid(partitions, cluster, plan, draining=frozenset()):
    zones = {b.broker_id: b.zone for b in cluster}
    placed = after(partitions, plan)
    for replicas in placed:
        assert len(set(replicas)) == len(replicas)
        assert len({zones[b] for b in replicas}) == len(replicas), replicas
    counts = Counter(b for replicas in placed for b in replicas)
    receiving = [counts[b.broker_id] for b in cluster if b.broker_id not in draining]
    assert max(receiving) - min(receiving) <= 1
    assert all(counts[b] == 0 for b in draining)
    assert plan.balanced
    assert dict(plan.replicas_per_broker) == {b.broker_id: counts[b.broker_id] for b in cluster}


def test_scale_out_from_three_to_six_brokers_fills_the_new_ones():
    partitions = striped(30, 3, size=1_000)
    plan = plan_reassignment(partitions, brokers(6))
    assert_valid(partitions, brokers(6), plan)
    assert dict(plan.replicas_per_broker) == dict.fromkeys(range(1, 7), 15)
    assert plan.replicas_moved == 45  # 15 to each new broker, within its zone
    assert plan.replicas_moved == zone_bound(partitions, brokers(6))
    assert plan.bytes_moved == 45_000
    leaders = plan.leaders_per_broker.values()
    assert max(leaders) - min(leaders) <= 1


def test_the_json_is_what_kafka_reassign_partitions_reads():
    partitions = striped(6, 3)
    plan = plan_reassignment(partitions, brokers(6))
    document = json.loads(plan.reassignment_json())
    assert document["version"] == 1
    entry = document["partitions"][0]
    assert set(entry) == {"topic", "partition", "replicas", "log_dirs"}
    assert entry["log_dirs"] == ["any"] * len(entry["replicas"])
    assert len(document["partitions"]) == len(plan.partitions)
    assert plan.partitions_moved == sum(
        set(p.replicas) != set(o.replicas)
        for p in plan.partitions
        for o in partitions
        if (o.topic, o.partition) == (p.topic, p.partition)
    )


def test_a_balanced_cluster_gets_an_empty_plan():
    partitions = striped(12, 6)
    plan = plan_reassignment(partitions, brokers(6))
    assert plan.partitions == ()
    assert plan.replicas_moved == plan.partitions_moved == 0
    assert plan.bytes_moved == 0
    assert json.loads(plan.reassignment_json()) == {"version": 1, "partitions": []}


def test_a_plan_applied_then_planned_again_is_empty():
    partitions = striped(40, 3)
    plan = plan_reassignment(partitions, brokers(9))
    moved = {(p.topic, p.partition): p for p in plan.partitions}
    applied = [moved.get((p.topic, p.partition), p) for p in partitions]
    assert plan_reassignment(applied, brokers(9)).partitions == ()


def test_unknown_sizes_leave_bytes_unknown():
    plan = plan_reassignment(striped(6, 3), brokers(6))
    assert plan.replicas_moved > 0
    assert plan.bytes_moved is None


def test_a_drain_empties_the_brokers_and_balances_the_rest():
    cluster = brokers(6)
    partitions = striped(24, 6, size=10)
    plan = plan_drain(partitions, cluster, {4, 5, 6})
    assert_valid(partitions, cluster, plan, frozenset({4, 5, 6}))
    assert plan.replicas_moved == zone_bound(partitions, cluster, frozenset({4, 5, 6})) == 36
    assert plan.bytes_moved == 360


def test_a_drain_of_an_unknown_broker_is_refused():
    with pytest.raises(ValueError, match=r"unknown brokers \[9\]"):
        plan_drain(striped(3, 3), brokers(3), {9})


def test_replicas_on_unknown_brokers_are_refused():
    with pytest.raises(ValueError, match=r"orders-0 is on unknown brokers \[7\]"):
        plan_reassignment([PartitionPlacement("orders", 0, (1, 2, 7))], brokers(3))


def test_describe_topic_partitions_responses_become_placements():
    response = [
        {"Partition": 0, "Leader": 2, "Replicas": [2, 3, 1], "Isr": [2, 3, 1]},
        {"Partition": 1, "Leader": 3, "Replicas": [3, 1, 2], "Isr": [3, 1]},
    ]
    placements = from_describe_topic_partitions("orders", response, sizes={0: 512})
    assert placements == [
        PartitionPlacement("orders", 0, (2, 3, 1), 512),
        PartitionPlacement("orders", 1, (3, 1, 2), None),
    ]


def test_two_zone_clusters_with_replication_two_stay_in_distinct_zones():
    cluster = brokers(6, zones=ZONES[:2])
    partitions = [PartitionPlacement("t", n, (1 + 2 * (n % 2), 2)) for n in range(10)]
    plan = plan_reassignment(partitions, cluster)
    assert_valid(partitions, cluster, plan)


# --- properties ----------------------------------------------------------------------------------


@st.composite
def zoned_clusters(draw, min_per_zone=1):
    """Three zones with the same number of brokers, partitions with one replica per zone placed
    anywhere in each zone (the shape MSK's Standard clusters take), some brokers empty."""
    per_zone = draw(st.integers(min_per_zone, 4))
    cluster = brokers(3 * per_zone)
    in_zone = {zone: [b.broker_id for b in cluster if b.zone == zone] for zone in ZONES}
    partitions = []
    for number in range(draw(st.integers(0, 40))):
        replicas = [draw(st.sampled_from(in_zone[zone])) for zone in ZONES]
        partitions.append(PartitionPlacement("t", number, tuple(draw(st.permutations(replicas)))))
    return cluster, partitions


@settings(max_examples=150, deadline=None)
@given(zoned_clusters())
def test_plans_balance_keep_zones_and_move_the_fewest_replicas(case):
    cluster, partitions = case
    plan = plan_reassignment(partitions, cluster)
    if partitions:
        assert_valid(partitions, cluster, plan)
    assert plan.replicas_moved == zone_bound(partitions, cluster)
    changed = sum(
        len(set(new) - set(p.replicas))
        for p, new in zip(partitions, after(partitions, plan), strict=True)
    )
    assert changed == plan.replicas_moved


@settings(max_examples=80, deadline=None)
@given(zoned_clusters(min_per_zone=2))
def test_drains_empty_one_broker_per_zone_and_move_the_fewest_replicas(case):
    cluster, partitions = case
    # Scale-in removes one broker per zone: the highest-numbered row.
    draining = frozenset(range(len(cluster) - 2, len(cluster) + 1))
    plan = plan_drain(partitions, cluster, draining)
    if partitions:
        assert_valid(partitions, cluster, plan, draining)
    assert plan.replicas_moved == zone_bound(partitions, cluster, draining)


@settings(max_examples=80, deadline=None)
@given(zoned_clusters())
def test_plans_are_idempotent(case):
    cluster, partitions = case
    plan = plan_reassignment(partitions, cluster)
    moved = {(p.topic, p.partition): p for p in plan.partitions}
    applied = [moved.get((p.topic, p.partition), p) for p in partitions]
    assert plan_reassignment(applied, cluster).partitions == ()


@settings(max_examples=150, deadline=None)
@given(zoned_clusters())
def test_preferred_leaders_end_within_one_of_each_other(case):
    cluster, partitions = case
    plan = plan_reassignment(partitions, cluster)
    leaders = Counter(replicas[0] for replicas in after(partitions, plan))
    counts = [leaders[b.broker_id] for b in cluster]
    assert max(counts) - min(counts) <= 1
    assert dict(plan.leaders_per_broker) == {b.broker_id: leaders[b.broker_id] for b in cluster}
