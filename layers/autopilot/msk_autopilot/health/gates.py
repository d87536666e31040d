"""The health gates: declared units that say whether a cluster may take a kind of change (pure).

Each `Gate` names what it reads, which kinds of change it blocks and why, and judges a
`HealthReading` into a `GateResult`. `evaluate` runs the gates that block a kind and turns
their results into a `GateVerdict`: a gate that blocks holds the change; a gate that cannot tell
(metrics missing) holds it when the kind is closed-when-unknown (rolling changes, broker
removal) and lets it pass otherwise (storage growth, SCRAM association, adding brokers).

No gate blocks the change that remedies what it measures: CPU does not block a larger broker size
or more brokers; the partition limit does not block them either; no metric gate blocks storage
growth, which is urgent and restarts no broker. Adding a gate is adding one `Gate` to `GATES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from msk_autopilot.health.change import ChangeKind, Deferral
from msk_autopilot.health.limits import is_express, partition_limits
from msk_autopilot.msk import ClusterSnapshot, Operation

__all__ = [
    "GATES",
    "MAINTENANCE_OPERATION_TYPES",
    "WINDOW",
    "Gate",
    "GateResult",
    "GateState",
    "GateVerdict",
    "HealthReading",
    "MetricNeed",
    "Sample",
    "evaluate",
    "gates_for",
]

WINDOW = timedelta(minutes=15)  # how far back the metric gates look
CPU_LIMIT_PERCENT = 60.0  # AWS: keep CpuUser + CpuSystem under 60 % (bestpractices.html)
# MSK's own maintenance: Standard brokers are patched in MAINTENANCE, Express in BROKER_UPDATE.
MAINTENANCE_OPERATION_TYPES = frozenset({"SECURITY_PATCHING", "BROKER_UPDATE"})

_ALL = frozenset(ChangeKind)
_ROLLING = frozenset(kind for kind in ChangeKind if kind.rolling)


class GateState(StrEnum):
    CLEAR = "clear"
    BLOCK = "block"
    UNKNOWN = "unknown"  # the gate's data is missing: the kind's default decides
    NOT_APPLICABLE = "not_applicable"  # the cluster's kind never publishes what the gate reads


class GateResult(msgspec.Struct, frozen=True):
    gate: str
    state: GateState
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"gate": self.gate, "state": self.state.value, "reason": self.reason}


class Sample(msgspec.Struct, frozen=True):
    at: datetime
    value: float


class MetricNeed(msgspec.Struct, frozen=True):
    """One AWS/Kafka metric a gate reads over `WINDOW`, at one-minute periods."""

    name: str
    per_broker: bool  # dimensions Cluster Name + Broker ID, else Cluster Name only
    statistic: str  # CloudWatch statistic per period


class HealthReading(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the gates judge, read once per check.

    `metrics` maps a metric name to its series: per broker ID, or under "cluster" for cluster
    metrics. A metric absent from the mapping was not read; one present with no samples was read
    and had none (unknown).
    """

    cluster: ClusterSnapshot
    operations: Sequence[Operation] = ()
    metrics: Mapping[str, Mapping[str, Sequence[Sample]]] = {}


@dataclass(frozen=True)
class Gate:
    id: str
    summary: str  # what must hold for a change to pass
    reads: tuple[str, ...]  # API calls and metrics, for the README and for permissions
    blocks: frozenset[ChangeKind]
    why: str  # why it blocks these kinds and lets the others pass
    judge: Callable[[HealthReading], GateResult]
    metrics: tuple[MetricNeed, ...] = ()


class GateVerdict(msgspec.Struct, frozen=True):
    change: ChangeKind
    results: list[GateResult]

    @property
    def held_by(self) -> list[GateResult]:
        """The results that hold the change: blocks, and unknowns where the kind is closed."""
        closed = self.change.closed_when_unknown
        return [
            result
            for result in self.results
            if result.state is GateState.BLOCK or (closed and result.state is GateState.UNKNOWN)
        ]

    @property
    def admitted(self) -> bool:
        return not self.held_by

    @property
    def deferral(self) -> Deferral | None:
        held = self.held_by
        if not held:
            return None
        first = held[0]
        reason = first.reason
        if first.state is GateState.UNKNOWN:
            reason = f"{reason} ({self.change.value} waits when a gate cannot tell)"
        return Deferral(first.gate, reason, self.change)

    def to_dict(self) -> dict[str, object]:
        return {"change": self.change.value, "gates": [r.to_dict() for r in self.results]}


# --- judges -------------------------------------------------------------------------------------


def _result(gate: str, state: GateState, reason: str) -> GateResult:
    return GateResult(gate, state, reason)


def _active(reading: HealthReading) -> GateResult:
    cluster = reading.cluster
    if cluster.state != "ACTIVE":
        return _result("cluster-active", GateState.BLOCK, f"cluster is {cluster.state}")
    if cluster.active_operation_arn:
        return _result(
            "cluster-active",
            GateState.BLOCK,
            f"operation {cluster.active_operation_arn} is running",
        )
    running = next((op for op in reading.operations if op.running), None)
    if running is not None:
        return _result(
            "cluster-active",
            GateState.BLOCK,
            f"operation {running.operation_type} is {running.operation_state}",
        )
    return _result("cluster-active", GateState.CLEAR, "ACTIVE with no operation running")


def _maintenance(reading: HealthReading) -> GateResult:
    if reading.cluster.state == "MAINTENANCE":
        return _result("msk-maintenance", GateState.BLOCK, "MSK is maintaining the cluster")
    running = next(
        (
            op
            for op in reading.operations
            if op.running and op.operation_type in MAINTENANCE_OPERATION_TYPES
        ),
        None,
    )
    if running is not None:
        return _result(
            "msk-maintenance",
            GateState.BLOCK,
            f"MSK maintenance {running.operation_type} is {running.operation_state}",
        )
    return _result("msk-maintenance", GateState.CLEAR, "no MSK maintenance running")


def _instance_type(cluster: ClusterSnapshot) -> str | None:
    if cluster.provisioned is None:
        return None
    return cluster.provisioned.broker_node_group_info.instance_type


def _series(reading: HealthReading, metric: str) -> Mapping[str, Sequence[Sample]]:
    return reading.metrics.get(metric, {})


def _latest_max(series: Mapping[str, Sequence[Sample]]) -> tuple[str, float] | None:
    """The series (broker) whose latest sample is highest, with that sample."""
    latest = {
        key: max(samples, key=lambda s: s.at).value for key, samples in series.items() if samples
    }
    if not latest:
        return None
    key = max(latest, key=lambda k: latest[k])
    return key, latest[key]


def _partitions(reading: HealthReading) -> GateResult:
    gate = "partition-limit"
    instance_type = _instance_type(reading.cluster)
    limits = partition_limits(instance_type) if instance_type else None
    if limits is None:
        return _result(gate, GateState.NOT_APPLICABLE, f"no published limit for {instance_type}")
    highest = _latest_max(_series(reading, "PartitionCount"))
    if highest is None:
        return _result(gate, GateState.UNKNOWN, "no PartitionCount samples in the last 15 minutes")
    broker, count = highest
    if count > limits.maximum:
        return _result(
            gate,
            GateState.BLOCK,
            f"broker {broker} holds {count:.0f} partitions, over the {limits.maximum} MSK allows "
            f"for updates on {instance_type}",
        )
    return _result(gate, GateState.CLEAR, f"at most {count:.0f} of {limits.maximum} partitions")


def _zero_metric(gate: str, metric: str, *, express: bool) -> Callable[[HealthReading], GateResult]:
    """A gate that needs `metric` to be 0 in every sample of the window."""

    def judge(reading: HealthReading) -> GateResult:
        cluster = reading.cluster
        instance_type = _instance_type(cluster)
        if instance_type is None or (not express and is_express(instance_type)):
            return _result(gate, GateState.NOT_APPLICABLE, f"{metric} is not published here")
        series = _series(reading, metric)
        samples = [(key, s) for key, values in series.items() for s in values]
        if not samples:
            return _result(gate, GateState.UNKNOWN, f"no {metric} samples in the last 15 minutes")
        where, worst = max(samples, key=lambda pair: pair[1].value)
        if worst.value > 0:
            at = "" if where == "cluster" else f" on broker {where}"
            return _result(
                gate,
                GateState.BLOCK,
                f"{metric} was {worst.value:.0f}{at} at {worst.at:%H:%M} UTC",
            )
        return _result(gate, GateState.CLEAR, f"{metric} 0 for the last 15 minutes")

    return judge


def _controller(reading: HealthReading) -> GateResult:
    gate = "active-controller"
    if _instance_type(reading.cluster) is None:
        return _result(gate, GateState.NOT_APPLICABLE, "serverless clusters publish no controller")
    series = _series(reading, "ActiveControllerCount")
    per_minute: dict[datetime, float] = {}
    for samples in series.values():
        for sample in samples:
            per_minute[sample.at] = per_minute.get(sample.at, 0.0) + sample.value
    if not per_minute:
        return _result(
            gate, GateState.UNKNOWN, "no ActiveControllerCount samples in the last 15 minutes"
        )
    wrong = sorted((at, total) for at, total in per_minute.items() if total != 1)
    if wrong:
        at, total = wrong[-1]
        return _result(
            gate, GateState.BLOCK, f"{total:.0f} active controllers at {at:%H:%M} UTC, not 1"
        )
    return _result(gate, GateState.CLEAR, "one active controller for the last 15 minutes")


def _cpu(reading: HealthReading) -> GateResult:
    gate = "cpu"
    if _instance_type(reading.cluster) is None:
        return _result(gate, GateState.NOT_APPLICABLE, "serverless clusters publish no CPU")
    user, system = _series(reading, "CpuUser"), _series(reading, "CpuSystem")
    busiest: tuple[float, str, datetime] | None = None
    for broker, samples in user.items():
        system_at = {s.at: s.value for s in system.get(broker, ())}
        for sample in samples:
            if sample.at not in system_at:
                continue
            total = sample.value + system_at[sample.at]
            if busiest is None or total > busiest[0]:
                busiest = (total, broker, sample.at)
    if busiest is None:
        return _result(gate, GateState.UNKNOWN, "no CpuUser and CpuSystem samples in 15 minutes")
    total, broker, at = busiest
    if total >= CPU_LIMIT_PERCENT:
        return _result(
            gate,
            GateState.BLOCK,
            f"broker {broker} CPU (user + system) {total:.0f} % at {at:%H:%M} UTC, "
            f"at or over {CPU_LIMIT_PERCENT:.0f} %",
        )
    return _result(gate, GateState.CLEAR, f"CPU at most {total:.0f} % (broker {broker})")


def _customer_action(reading: HealthReading) -> GateResult:
    gate = "customer-action"
    status = reading.cluster.customer_action_status or "NONE"
    if status == "CRITICAL_ACTION_REQUIRED":
        return _result(
            gate,
            GateState.BLOCK,
            "MSK reports CRITICAL_ACTION_REQUIRED (storage alert): grow storage first",
        )
    return _result(gate, GateState.CLEAR, f"CustomerActionStatus {status}")


# --- the registry -------------------------------------------------------------------------------

_REPLICA_SAFETY = _ROLLING | {ChangeKind.BROKER_COUNT_DOWN}

GATES: tuple[Gate, ...] = (
    Gate(
        id="cluster-active",
        summary="cluster ACTIVE, no ActiveOperationArn, no operation running",
        reads=("DescribeClusterV2", "ListClusterOperationsV2"),
        blocks=_ALL,
        why="MSK refuses every change otherwise; acting cannot help, so storage waits too",
        judge=_active,
    ),
    Gate(
        id="msk-maintenance",
        summary="no MSK maintenance (SECURITY_PATCHING, BROKER_UPDATE) in progress",
        reads=("DescribeClusterV2", "ListClusterOperationsV2"),
        blocks=_ALL,
        why="MSK is restarting brokers itself; a change now stacks restarts (storage included: "
        "a Standard cluster in MAINTENANCE refuses updates)",
        judge=_maintenance,
    ),
    Gate(
        id="partition-limit",
        summary="partitions per broker at most the size's maximum for update operations",
        reads=("AWS/Kafka PartitionCount per broker",),
        blocks=frozenset(
            {
                ChangeKind.CONFIGURATION,
                ChangeKind.SCRAM_ASSOCIATION,
                ChangeKind.KAFKA_VERSION,
                ChangeKind.BROKER_TYPE_SMALLER,
            }
        ),
        why="MSK refuses these over the maximum; a larger size or more brokers is the remedy",
        judge=_partitions,
        metrics=(MetricNeed("PartitionCount", per_broker=True, statistic="Maximum"),),
    ),
    Gate(
        id="under-replicated",
        summary="UnderReplicatedPartitions 0 for 15 minutes (not published by Express)",
        reads=("AWS/Kafka UnderReplicatedPartitions per broker",),
        blocks=_REPLICA_SAFETY,
        why="restarting a broker while replicas lag can take partitions offline; storage growth "
        "restarts nothing and may be the cure",
        judge=_zero_metric("under-replicated", "UnderReplicatedPartitions", express=False),
        metrics=(MetricNeed("UnderReplicatedPartitions", per_broker=True, statistic="Maximum"),),
    ),
    Gate(
        id="offline-partitions",
        summary="OfflinePartitionsCount 0 for 15 minutes (not published by Express)",
        reads=("AWS/Kafka OfflinePartitionsCount",),
        blocks=_REPLICA_SAFETY,
        why="the cluster is already unavailable for some partitions; a restart makes it worse",
        judge=_zero_metric("offline-partitions", "OfflinePartitionsCount", express=False),
        metrics=(MetricNeed("OfflinePartitionsCount", per_broker=False, statistic="Maximum"),),
    ),
    Gate(
        id="under-min-isr",
        summary="UnderMinIsrPartitionCount 0 for 15 minutes",
        reads=("AWS/Kafka UnderMinIsrPartitionCount per broker",),
        blocks=_REPLICA_SAFETY,
        why="acks=all producers already fail on these partitions; a restart widens the outage",
        judge=_zero_metric("under-min-isr", "UnderMinIsrPartitionCount", express=True),
        metrics=(MetricNeed("UnderMinIsrPartitionCount", per_broker=True, statistic="Maximum"),),
    ),
    Gate(
        id="active-controller",
        summary="ActiveControllerCount summed over brokers exactly 1 in every minute of 15",
        reads=("AWS/Kafka ActiveControllerCount",),
        blocks=_REPLICA_SAFETY | {ChangeKind.BROKER_COUNT_UP},
        why="without exactly one controller, leadership cannot move off a restarting broker",
        judge=_controller,
        metrics=(MetricNeed("ActiveControllerCount", per_broker=False, statistic="Sum"),),
    ),
    Gate(
        id="cpu",
        summary="CpuUser + CpuSystem under 60 % on every broker for 15 minutes",
        reads=("AWS/Kafka CpuUser per broker", "AWS/Kafka CpuSystem per broker"),
        blocks=(_ROLLING - {ChangeKind.BROKER_TYPE_LARGER}) | {ChangeKind.BROKER_COUNT_DOWN},
        why="a rolling restart moves a broker's load onto the others; a larger size or more "
        "brokers is the remedy, so those pass",
        judge=_cpu,
        metrics=(
            MetricNeed("CpuUser", per_broker=True, statistic="Average"),
            MetricNeed("CpuSystem", per_broker=True, statistic="Average"),
        ),
    ),
    Gate(
        id="customer-action",
        summary="CustomerActionStatus not CRITICAL_ACTION_REQUIRED",
        reads=("DescribeClusterV2",),
        blocks=_ROLLING | {ChangeKind.BROKER_COUNT_UP, ChangeKind.BROKER_COUNT_DOWN},
        why="MSK says the disks are critically full; restarting or rebalancing then risks a "
        "broker that cannot start, and storage growth is the remedy",
        judge=_customer_action,
    ),
)


def gates_for(change: ChangeKind) -> tuple[Gate, ...]:
    return tuple(gate for gate in GATES if change in gate.blocks)


def evaluate(reading: HealthReading, change: ChangeKind) -> GateVerdict:
    """Judge every gate that blocks `change`, in registry order."""
    return GateVerdict(change, [gate.judge(reading) for gate in gates_for(change)])
