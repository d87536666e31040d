"""The health gates, judged on readings built by hand: each gate defers exactly the kinds of change
it declares and no others, a healthy cluster takes every kind, and missing metrics fall back to
each kind's documented default (closed for rolling changes and broker removal, open otherwise)."""

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from msk_autopilot.health.change import ChangeKind
from msk_autopilot.health.gates import (
    GATES,
    GateState,
    HealthReading,
    Sample,
    evaluate,
)
from msk_autopilot.health.limits import PartitionLimits, partition_limits
from msk_autopilot.msk import ClusterSnapshot, Operation

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
MINUTES = [NOW - timedelta(minutes=back) for back in range(15, 0, -1)]  # the gates' window
ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/uuid-1"
CONFIGURATION = "arn:aws:kafka:us-east-1:123456789012:configuration/msk-autopilot-orders/uuid-2"
BROKERS = ("1", "2", "3")
GATE_IDS = [gate.id for gate in GATES]


def cluster(instance_type: str = "kafka.m5.large", **changes: Any) -> ClusterSnapshot:
    info: dict[str, Any] = {
        "ClusterArn": ARN,
        "ClusterName": "orders",
        "State": "ACTIVE",
        "Provisioned": {
            "BrokerNodeGroupInfo": {"InstanceType": instance_type},
            "NumberOfBrokerNodes": len(BROKERS),
            "CurrentBrokerSoftwareInfo": {
                "KafkaVersion": "3.8.x",
                "ConfigurationArn": CONFIGURATION,
                "ConfigurationRevision": 3,
            },
        },
        **changes,
    }
    return ClusterSnapshot.from_api(info)


SERVERLESS = ClusterSnapshot.from_api(
    {
        "ClusterArn": ARN,
        "ClusterName": "orders",
        "ClusterType": "SERVERLESS",
        "State": "ACTIVE",
        "Serverless": {"VpcConfigs": [{"SubnetIds": ["subnet-a"]}]},
    }
)


def steady(value: float, owners: Sequence[str] = BROKERS) -> dict[str, list[Sample]]:
    """The same value every minute of the window, for each broker (or "cluster")."""
    return {owner: [Sample(at, value) for at in MINUTES] for owner in owners}


def with_sample(
    series: Mapping[str, list[Sample]], owner: str, at: datetime, value: float
) -> dict[str, list[Sample]]:
    """`series` with `owner`'s sample at minute `at` replaced by `value`."""
    changed = {key: list(samples) for key, samples in series.items()}
    changed[owner] = [Sample(s.at, value) if s.at == at else s for s in changed[owner]]
    return changed


HEALTHY_METRICS: dict[str, dict[str, list[Sample]]] = {
    "PartitionCount": steady(900),
    "UnderReplicatedPartitions": steady(0),
    "OfflinePartitionsCount": steady(0, ["cluster"]),
    "UnderMinIsrPartitionCount": steady(0),
    "ActiveControllerCount": steady(1, ["cluster"]),  # read with Sum: 1 per minute
    "CpuUser": steady(30),
    "CpuSystem": steady(10),
}


def healthy(snapshot: ClusterSnapshot | None = None) -> HealthReading:
    return HealthReading(
        cluster=snapshot or cluster(),
        metrics=HEALTHY_METRICS,
    )


def metric(reading: HealthReading, name: str, series: dict[str, list[Sample]]) -> HealthReading:
    return msgspec.structs.replace(reading, metrics={**reading.metrics, name: series})


def running(operation_type: str) -> Operation:
    return Operation(
        operation_arn=f"{ARN}/operation/1",
        operation_type=operation_type,
        operation_state="UPDATE_IN_PROGRESS",
        start_time=NOW - timedelta(minutes=5),
    )


# One reading per gate that makes that gate block and leaves the others as healthy as they can be.
BLOCKERS: dict[str, Callable[[HealthReading], HealthReading]] = {
    "cluster-active": lambda r: msgspec.structs.replace(r, cluster=cluster(State="UPDATING")),
    "msk-maintenance": lambda r: msgspec.structs.replace(
        r, operations=(running("SECURITY_PATCHING"),)
    ),
    "partition-limit": lambda r: metric(
        r, "PartitionCount", with_sample(steady(900), "2", MINUTES[-1], 1501)
    ),
    "under-replicated": lambda r: metric(
        r, "UnderReplicatedPartitions", with_sample(steady(0), "1", MINUTES[4], 3)
    ),
    "offline-partitions": lambda r: metric(
        r, "OfflinePartitionsCount", with_sample(steady(0, ["cluster"]), "cluster", MINUTES[7], 1)
    ),
    "under-min-isr": lambda r: metric(
        r, "UnderMinIsrPartitionCount", with_sample(steady(0), "3", MINUTES[0], 2)
    ),
    "active-controller": lambda r: metric(
        r, "ActiveControllerCount", with_sample(steady(1, ["cluster"]), "cluster", MINUTES[9], 0)
    ),
    "cpu": lambda r: metric(r, "CpuUser", with_sample(steady(30), "1", MINUTES[3], 51)),
    "customer-action": lambda r: msgspec.structs.replace(
        r, cluster=cluster(CustomerActionStatus="CRITICAL_ACTION_REQUIRED")
    ),
}


def held_by(reading: HealthReading, change: ChangeKind) -> list[str]:
    return [result.gate for result in evaluate(reading, change).held_by]


def test_every_gate_has_a_reading_that_blocks_it():
    assert set(BLOCKERS) == set(GATE_IDS)


@pytest.mark.parametrize("gate", GATES, ids=GATE_IDS)
def test_each_blocking_reading_blocks_its_gate(gate):
    assert gate.judge(BLOCKERS[gate.id](healthy())).state is GateState.BLOCK


@pytest.mark.parametrize("change", list(ChangeKind))
@pytest.mark.parametrize("gate", GATES, ids=GATE_IDS)
def test_a_blocking_gate_defers_exactly_the_kinds_it_declares(gate, change):
    reading = BLOCKERS[gate.id](healthy())
    verdict = evaluate(reading, change)
    if change in gate.blocks:
        assert gate.id in held_by(reading, change)
        assert verdict.deferral is not None
        assert verdict.deferral.change is change
    else:
        assert verdict.admitted, verdict.to_dict()


@pytest.mark.parametrize("change", list(ChangeKind))
def test_a_healthy_cluster_takes_every_kind_of_change(change):
    verdict = evaluate(healthy(), change)
    assert verdict.admitted
    assert {result.state for result in verdict.results} == {GateState.CLEAR}


def test_no_gate_blocks_the_change_that_remedies_what_it_measures():
    blocks = {gate.id: gate.blocks for gate in GATES}
    assert ChangeKind.BROKER_TYPE_LARGER not in blocks["cpu"]
    assert ChangeKind.BROKER_COUNT_UP not in blocks["cpu"]
    assert ChangeKind.BROKER_TYPE_LARGER not in blocks["partition-limit"]
    assert ChangeKind.BROKER_COUNT_UP not in blocks["partition-limit"]
    # Storage growth is urgent: only the gates under which MSK refuses every change hold it.
    storage = {gate.id for gate in GATES if ChangeKind.STORAGE_GROWTH in gate.blocks}
    assert storage == {"cluster-active", "msk-maintenance"}


# --- missing metrics ----------------------------------------------------------------------------

CLOSED_WHEN_UNKNOWN = {
    ChangeKind.CONFIGURATION,
    ChangeKind.BROKER_TYPE_LARGER,
    ChangeKind.BROKER_TYPE_SMALLER,
    ChangeKind.KAFKA_VERSION,
    ChangeKind.REMEDIATION,
    ChangeKind.BROKER_COUNT_DOWN,
}
METRIC_GATES = [gate.id for gate in GATES if gate.metrics]

READ_BUT_EMPTY = HealthReading(
    cluster=cluster(),
    metrics={name: {owner: [] for owner in series} for name, series in HEALTHY_METRICS.items()},
)
NOT_READ = HealthReading(cluster=cluster())


@pytest.mark.parametrize("reading", [READ_BUT_EMPTY, NOT_READ], ids=["no samples", "not read"])
@pytest.mark.parametrize("gate", [g for g in GATES if g.id in METRIC_GATES], ids=METRIC_GATES)
def test_a_gate_without_its_data_is_unknown_never_a_crash(gate, reading):
    assert gate.judge(reading).state is GateState.UNKNOWN


@pytest.mark.parametrize("change", list(ChangeKind))
def test_missing_metrics_hold_rolling_changes_and_broker_removal_only(change):
    verdict = evaluate(READ_BUT_EMPTY, change)
    assert change.closed_when_unknown is (change in CLOSED_WHEN_UNKNOWN)
    if change in CLOSED_WHEN_UNKNOWN:
        assert verdict.deferral is not None
        assert "waits when a gate cannot tell" in verdict.deferral.reason
    else:
        assert verdict.admitted, verdict.to_dict()
        unknown = [r.gate for r in verdict.results if r.state is GateState.UNKNOWN]
        assert bool(unknown) is (change is not ChangeKind.STORAGE_GROWTH)  # reads no metric


# --- broker kinds -------------------------------------------------------------------------------

EXPRESS_METRICS = {
    name: series
    for name, series in HEALTHY_METRICS.items()
    if name not in {"UnderReplicatedPartitions", "OfflinePartitionsCount"}
}


def test_express_publishes_no_under_replication_or_offline_partitions():
    reading = HealthReading(cluster=cluster("express.m7g.large"), metrics=EXPRESS_METRICS)
    states = {gate.id: gate.judge(reading).state for gate in GATES}
    assert states["under-replicated"] is GateState.NOT_APPLICABLE
    assert states["offline-partitions"] is GateState.NOT_APPLICABLE
    assert states["partition-limit"] is GateState.NOT_APPLICABLE  # no published limit
    assert states["under-min-isr"] is GateState.CLEAR  # Express publishes this one
    for change in ChangeKind:
        assert evaluate(reading, change).admitted, change


def test_express_still_held_by_the_metrics_it_publishes():
    reading = HealthReading(
        cluster=cluster("express.m7g.large"),
        metrics={
            **EXPRESS_METRICS,
            "UnderMinIsrPartitionCount": with_sample(steady(0), "2", MINUTES[5], 1),
        },
    )
    assert held_by(reading, ChangeKind.CONFIGURATION) == ["under-min-isr"]
    assert evaluate(reading, ChangeKind.BROKER_COUNT_UP).admitted


def test_serverless_is_judged_only_by_what_applies():
    states = {gate.id: gate.judge(HealthReading(cluster=SERVERLESS)).state for gate in GATES}
    assert states == {
        "cluster-active": GateState.CLEAR,
        "msk-maintenance": GateState.CLEAR,
        "partition-limit": GateState.NOT_APPLICABLE,
        "under-replicated": GateState.NOT_APPLICABLE,
        "offline-partitions": GateState.NOT_APPLICABLE,
        "under-min-isr": GateState.NOT_APPLICABLE,
        "active-controller": GateState.NOT_APPLICABLE,
        "cpu": GateState.NOT_APPLICABLE,
        "customer-action": GateState.CLEAR,
    }
    for change in ChangeKind:
        assert evaluate(HealthReading(cluster=SERVERLESS), change).admitted, change


def test_express_maintenance_is_broker_update_on_an_active_cluster():
    reading = msgspec.structs.replace(
        healthy(cluster("express.m7g.large")), operations=(running("BROKER_UPDATE"),)
    )
    maintenance = next(gate for gate in GATES if gate.id == "msk-maintenance")
    assert maintenance.judge(reading).state is GateState.BLOCK
    assert "BROKER_UPDATE" in maintenance.judge(reading).reason


# --- partition limits (REFERENCE: "Limits that block changes") ----------------------------------


@pytest.mark.parametrize(
    ("instance_type", "limits"),
    [
        ("kafka.t3.small", PartitionLimits(300, 300)),
        ("kafka.m5.large", PartitionLimits(1000, 1500)),
        ("kafka.m7g.xlarge", PartitionLimits(1000, 1500)),
        ("kafka.m5.2xlarge", PartitionLimits(2000, 3000)),
        ("kafka.m7g.2xlarge", PartitionLimits(2000, 3000)),
        ("kafka.m5.4xlarge", PartitionLimits(4000, 6000)),
        ("kafka.m5.24xlarge", PartitionLimits(4000, 6000)),
        ("kafka.m7g.16xlarge", PartitionLimits(4000, 6000)),
        ("express.m7g.large", None),
        ("kafka.m6.large", None),
        ("kafka.m5.huge", None),
    ],
)
def test_partition_limits_per_broker_size(instance_type, limits):
    assert partition_limits(instance_type) == limits


@pytest.mark.parametrize("instance_type", ["kafka.t3.small", "kafka.m5.large", "kafka.m7g.4xlarge"])
def test_the_partition_gate_allows_the_maximum_and_blocks_above_it(instance_type):
    gate = next(gate for gate in GATES if gate.id == "partition-limit")
    maximum = partition_limits(instance_type).maximum
    at_limit = metric(healthy(cluster(instance_type)), "PartitionCount", steady(maximum))
    assert gate.judge(at_limit).state is GateState.CLEAR
    over = metric(
        at_limit, "PartitionCount", with_sample(steady(maximum), "3", MINUTES[-1], maximum + 1)
    )
    result = gate.judge(over)
    assert result.state is GateState.BLOCK
    assert f"broker 3 holds {maximum + 1} partitions" in result.reason


def test_the_partition_gate_reads_each_broker_s_latest_count():
    gate = next(gate for gate in GATES if gate.id == "partition-limit")
    shrunk = with_sample(steady(1600), "1", MINUTES[-1], 1200)  # partitions moved off broker 1
    reading = metric(healthy(), "PartitionCount", {"1": shrunk["1"], "2": steady(1200)["2"]})
    assert gate.judge(reading).state is GateState.CLEAR


# --- the active controller and CPU --------------------------------------------------------------

CONTROLLER = next(gate for gate in GATES if gate.id == "active-controller")
CPU = next(gate for gate in GATES if gate.id == "cpu")


def test_active_controllers_are_summed_per_minute():
    moved = {  # the controller moves from broker 1 to broker 2 halfway through the window
        "1": [Sample(at, 1.0 if i < 7 else 0.0) for i, at in enumerate(MINUTES)],
        "2": [Sample(at, 0.0 if i < 7 else 1.0) for i, at in enumerate(MINUTES)],
        "3": [Sample(at, 0.0) for at in MINUTES],
    }
    assert CONTROLLER.judge(metric(healthy(), "ActiveControllerCount", moved)).state is (
        GateState.CLEAR
    )
    two = with_sample(moved, "3", MINUTES[10], 1.0)
    result = CONTROLLER.judge(metric(healthy(), "ActiveControllerCount", two))
    assert result.state is GateState.BLOCK
    assert result.reason == f"2 active controllers at {MINUTES[10]:%H:%M} UTC, not 1"
    none = with_sample(steady(1, ["cluster"]), "cluster", MINUTES[2], 0.0)
    result = CONTROLLER.judge(metric(healthy(), "ActiveControllerCount", none))
    assert result.reason == f"0 active controllers at {MINUTES[2]:%H:%M} UTC, not 1"


def test_cpu_is_user_plus_system_at_the_same_minute():
    # 50 % user and 15 % system, but never at the same minute: at most 55 %
    user = with_sample(steady(5), "1", MINUTES[3], 50)
    system = with_sample(steady(5), "1", MINUTES[8], 15)
    apart = metric(metric(healthy(), "CpuUser", user), "CpuSystem", system)
    assert CPU.judge(apart).state is GateState.CLEAR
    together = metric(apart, "CpuSystem", with_sample(system, "1", MINUTES[3], 10))
    result = CPU.judge(together)
    assert result.state is GateState.BLOCK
    assert result.reason.startswith("broker 1 CPU (user + system) 60 %")


def test_cpu_without_system_samples_is_unknown():
    reading = metric(healthy(), "CpuSystem", {broker: [] for broker in BROKERS})
    assert CPU.judge(reading).state is GateState.UNKNOWN
