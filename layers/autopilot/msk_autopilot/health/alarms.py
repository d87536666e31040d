"""The alarms the health monitor keeps for every opted-in cluster, declared as units (pure).

Each `AlarmUnit` names its metrics, statistic, period, evaluation periods, comparison, where its
threshold comes from, which broker kinds publish what it reads, why it matters and its source
(AWS's guidance: bestpractices.html, the aws-msk-mcp-server's constants and the agent toolkit's
monitor-and-alarm guide). `health_alarm_requests` turns the catalogue into PutMetricAlarm requests
for one cluster; `disk_trigger_requests` does the same for the storage scaler's per-broker disk
alarms, whose state changes EventBridge routes to the scaler. The CPU, throughput and throttle
alarms (ids cpu, bytes-in, bytes-out, produce-throttle, fetch-throttle, per broker of every
cluster) wake the broker scaler the same way: its rule matches their names' endings.

Ownership: every alarm of ours has a name under one of our prefixes *and* a description that
starts with one of our markers and ends with the cluster's ARN in parentheses. Only alarms with
both are ever updated, muted or deleted. Names are deterministic (prefix, cluster, broker, unit),
so PutMetricAlarm's upsert by name keeps repeated and concurrent syncs free of duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

from msk_autopilot.capacity.guidance import throughput_guidance
from msk_autopilot.events import AlarmStateChange
from msk_autopilot.health.limits import is_express, partition_limits
from msk_autopilot.msk import ClusterSnapshot
from msk_autopilot.outcome import Outcome, Status
from msk_autopilot.storage.metrics import DISK_METRIC, KAFKA_NAMESPACE

__all__ = [
    "ALARMS",
    "CLUSTER_TAG",
    "DISK_ALARM_MARKER",
    "HEALTH_ALARM_MARKER",
    "AlarmThresholds",
    "AlarmUnit",
    "BrokerKind",
    "DiskTrigger",
    "Scope",
    "broker_kind",
    "cluster_arn_of_alarm",
    "cluster_name_of_arn",
    "disk_trigger_requests",
    "health_alarm_requests",
    "owned_alarm",
    "owned_request",
]

DISK_ALARM_MARKER = "msk-autopilot disk alarm"
HEALTH_ALARM_MARKER = "msk-autopilot health alarm"
CLUSTER_TAG = "msk-autopilot:cluster-arn"
_CLUSTER_ARN = re.compile(r"\((arn:aws[a-z-]*:kafka:[^)\s]+)\)\Z")
_BYTES_PER_MB = 1_000_000  # MSK states Express quotas in MBps


class BrokerKind(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"
    SERVERLESS = "serverless"


def broker_kind(cluster: ClusterSnapshot) -> BrokerKind:
    if cluster.provisioned is None:
        return BrokerKind.SERVERLESS
    if is_express(cluster.provisioned.broker_node_group_info.instance_type):
        return BrokerKind.EXPRESS
    return BrokerKind.STANDARD


class Scope(StrEnum):
    BROKER = "per broker"  # dimensions "Cluster Name" + "Broker ID"
    CLUSTER = "per cluster"  # dimension "Cluster Name" only


class AlarmThresholds(msgspec.Struct, frozen=True, kw_only=True):
    """The thresholds that are settings (template parameters), with AWS's guidance as defaults."""

    cpu_percent: float = 60.0
    disk_backstop_percent: float = 85.0
    heap_percent: float = 60.0
    connections_per_broker: int = 2700  # 90 % of the 3,000 IAM connections a broker takes
    express_throughput_percent: float = 80.0


class DiskTrigger(msgspec.Struct, frozen=True, kw_only=True):
    """The storage scaler's per-broker disk alarms: its trigger, no actions of their own."""

    prefix: str  # the template's event rule to the scaler matches on it
    threshold_percent: float
    evaluation_periods: int
    period_seconds: int = 300


type Threshold = Callable[[AlarmThresholds, ClusterSnapshot], float | None]


@dataclass(frozen=True, kw_only=True)
class AlarmUnit:
    id: str
    metrics: tuple[str, ...]  # AWS/Kafka metric names, m1, m2... in `expression`
    statistic: str
    period_seconds: int
    evaluation_periods: int
    comparison: str  # CloudWatch ComparisonOperator
    threshold: Threshold  # None: does not apply to this cluster (no published limit, no IAM)
    threshold_text: str  # how the threshold reads in the README
    scope: Scope
    kinds: frozenset[BrokerKind]
    why: str
    source: str
    expression: str | None = None  # metric math over the metrics, when more than one is read

    @property
    def summary(self) -> str:
        """The metric column of the README table."""
        return self.expression_text or " + ".join(self.metrics)

    @property
    def expression_text(self) -> str | None:
        if self.expression is None:
            return None
        text = self.expression
        for index, metric in enumerate(self.metrics, start=1):
            text = text.replace(f"m{index}", metric)
        return text


def _setting(field: str) -> Threshold:
    def threshold(thresholds: AlarmThresholds, cluster: ClusterSnapshot) -> float | None:
        return float(getattr(thresholds, field))

    return threshold


def _constant(value: float) -> Threshold:
    return lambda thresholds, cluster: value


def _instance_type(cluster: ClusterSnapshot) -> str:
    return cluster.provisioned.broker_node_group_info.instance_type if cluster.provisioned else ""


def _recommended_partitions(thresholds: AlarmThresholds, cluster: ClusterSnapshot) -> float | None:
    limits = partition_limits(_instance_type(cluster))
    return None if limits is None else float(limits.recommended)


def _iam_connections(thresholds: AlarmThresholds, cluster: ClusterSnapshot) -> float | None:
    # Only IAM access control has a published per-broker connection limit (3,000).
    if (
        cluster.provisioned is None
        or not cluster.provisioned.client_authentication.sasl.iam.enabled
    ):
        return None
    return float(thresholds.connections_per_broker)


def _throughput_bytes(egress_factor: float) -> Threshold:
    """Bytes per second per broker: on Express the share of the size's sustained quota
    (`express_throughput_percent`), on Standard the size's throughput guidance itself; the broker
    scaler sizes up above either, so its alarm wakes the scaler where the policy acts."""

    def threshold(thresholds: AlarmThresholds, cluster: ClusterSnapshot) -> float | None:
        instance_type = _instance_type(cluster)
        guidance = throughput_guidance(instance_type)
        if guidance is None:
            return None
        share = thresholds.express_throughput_percent / 100 if is_express(instance_type) else 1.0
        return round(guidance.ingress_mbps * egress_factor * share * _BYTES_PER_MB, 1)

    return threshold


_STANDARD = frozenset({BrokerKind.STANDARD})
_PROVISIONED = frozenset({BrokerKind.STANDARD, BrokerKind.EXPRESS})
_EXPRESS = frozenset({BrokerKind.EXPRESS})
_GUIDANCE = "MSK best practices; aws-msk-mcp-server"

ALARMS: tuple[AlarmUnit, ...] = (
    AlarmUnit(
        id="cpu",
        metrics=("CpuUser", "CpuSystem"),
        expression="m1 + m2",
        statistic="Average",
        period_seconds=300,
        evaluation_periods=3,
        comparison="GreaterThanThreshold",
        threshold=_setting("cpu_percent"),
        threshold_text="> `CpuAlarmPercent` (60 %) for 15 minutes",
        scope=Scope.BROKER,
        kinds=_PROVISIONED,
        why="a broker over 60 % has no headroom to take a peer's load during a restart or failure",
        source=_GUIDANCE,
    ),
    AlarmUnit(
        id="disk",
        metrics=(DISK_METRIC,),
        statistic="Maximum",
        period_seconds=300,
        evaluation_periods=1,
        comparison="GreaterThanThreshold",
        threshold=_setting("disk_backstop_percent"),
        threshold_text="> `DiskBackstopAlarmPercent` (85 %)",
        scope=Scope.BROKER,
        kinds=_STANDARD,
        why="a backstop behind the storage scaler: the disk is filling faster than it grows it",
        source=_GUIDANCE,
    ),
    AlarmUnit(
        id="under-replicated",
        metrics=("UnderReplicatedPartitions",),
        statistic="Maximum",
        period_seconds=60,
        evaluation_periods=15,
        comparison="GreaterThanThreshold",
        threshold=_constant(0),
        threshold_text="> 0 for 15 minutes",
        scope=Scope.BROKER,
        kinds=_STANDARD,
        why="replicas that stay behind leave partitions one failure away from data loss",
        source=_GUIDANCE,
    ),
    AlarmUnit(
        id="under-min-isr",
        metrics=("UnderMinIsrPartitionCount",),
        statistic="Maximum",
        period_seconds=60,
        evaluation_periods=1,
        comparison="GreaterThanOrEqualToThreshold",
        threshold=_constant(1),
        threshold_text=">= 1",
        scope=Scope.BROKER,
        kinds=_PROVISIONED,
        why="producers with acks=all are refused on these partitions now",
        source=_GUIDANCE,
    ),
    AlarmUnit(
        id="offline-partitions",
        metrics=("OfflinePartitionsCount",),
        statistic="Maximum",
        period_seconds=60,
        evaluation_periods=1,
        comparison="GreaterThanThreshold",
        threshold=_constant(0),
        threshold_text="> 0",
        scope=Scope.CLUSTER,
        kinds=_STANDARD,
        why="a partition without a leader can be neither written nor read",
        source=_GUIDANCE,
    ),
    AlarmUnit(
        id="active-controller",
        metrics=("ActiveControllerCount",),
        expression="ABS(m1 - 1)",
        statistic="Sum",
        period_seconds=60,
        evaluation_periods=5,
        comparison="GreaterThanThreshold",
        threshold=_constant(0),
        threshold_text="summed over brokers != 1 for 5 minutes",
        scope=Scope.CLUSTER,
        kinds=_PROVISIONED,
        why="without exactly one controller, leadership and metadata changes stall",
        source=_GUIDANCE,
    ),
    AlarmUnit(
        id="heap",
        metrics=("HeapMemoryAfterGC",),
        statistic="Maximum",
        period_seconds=300,
        evaluation_periods=3,
        comparison="GreaterThanThreshold",
        threshold=_setting("heap_percent"),
        threshold_text="> `HeapAlarmPercent` (60 %) for 15 minutes",
        scope=Scope.BROKER,
        kinds=_STANDARD,
        why="heap still full after garbage collection ends in long pauses or OutOfMemoryError",
        source=_GUIDANCE,
    ),
    AlarmUnit(
        id="partitions",
        metrics=("PartitionCount",),
        statistic="Maximum",
        period_seconds=300,
        evaluation_periods=1,
        comparison="GreaterThanThreshold",
        threshold=_recommended_partitions,
        threshold_text="> the broker size's recommended partitions (replicas included)",
        scope=Scope.BROKER,
        kinds=_STANDARD,
        why="past the recommendation performance degrades; past the maximum MSK refuses "
        "configuration, SCRAM, version and shrink updates",
        source="MSK best practices (right-size your cluster)",
    ),
    AlarmUnit(
        id="connections",
        metrics=("ConnectionCount",),
        statistic="Maximum",
        period_seconds=300,
        evaluation_periods=1,
        comparison="GreaterThanThreshold",
        threshold=_iam_connections,
        threshold_text="> `ConnectionAlarmCount` (2700) per broker, IAM clusters only",
        scope=Scope.BROKER,
        kinds=_PROVISIONED,
        why="a broker takes at most 3,000 IAM connections; past that clients are refused",
        source="MSK best practices; MSK quotas (IAM access control)",
    ),
    AlarmUnit(
        id="produce-throttle",
        metrics=("ProduceThrottleTime",),
        statistic="Average",
        period_seconds=300,
        evaluation_periods=1,
        comparison="GreaterThanThreshold",
        threshold=_constant(0),
        threshold_text="> 0",
        scope=Scope.BROKER,
        kinds=_EXPRESS,
        why="Express throttles producers past the broker's quota: clients are slowed now",
        source="MSK Express brokers; aws-msk-mcp-server",
    ),
    AlarmUnit(
        id="fetch-throttle",
        metrics=("FetchThrottleTime",),
        statistic="Average",
        period_seconds=300,
        evaluation_periods=1,
        comparison="GreaterThanThreshold",
        threshold=_constant(0),
        threshold_text="> 0",
        scope=Scope.BROKER,
        kinds=_EXPRESS,
        why="Express throttles consumers past the broker's quota: clients are slowed now",
        source="MSK Express brokers; aws-msk-mcp-server",
    ),
    AlarmUnit(
        id="bytes-in",
        metrics=("BytesInPerSec",),
        statistic="Average",
        period_seconds=300,
        evaluation_periods=3,
        comparison="GreaterThanThreshold",
        threshold=_throughput_bytes(1.0),
        threshold_text="Express: > `ExpressThroughputAlarmPercent` (80 %) of the size's ingress "
        "quota; Standard: > the size's ingress guidance; for 15 minutes",
        scope=Scope.BROKER,
        kinds=_PROVISIONED,
        why="near the sustained ingress quota (Express throttles next) or past the size's "
        "guidance: the broker scaler adds brokers or a larger size",
        source="MSK Express brokers (quotas); aws-msk-mcp-server (Standard guidance)",
    ),
    AlarmUnit(
        id="bytes-out",
        metrics=("BytesOutPerSec",),
        statistic="Average",
        period_seconds=300,
        evaluation_periods=3,
        comparison="GreaterThanThreshold",
        threshold=_throughput_bytes(2.0),
        threshold_text="as bytes-in, against egress (twice ingress); for 15 minutes",
        scope=Scope.BROKER,
        kinds=_PROVISIONED,
        why="near the sustained egress quota (Express throttles next) or past the size's "
        "guidance: the broker scaler adds brokers or a larger size",
        source="MSK Express brokers (quotas); aws-msk-mcp-server (Standard guidance)",
    ),
)


def cluster_name_of_arn(cluster_arn: str) -> str:
    """arn:...:cluster/<name>/<uuid>: cluster names are unique in an account and Region."""
    return cluster_arn.split(":cluster/", 1)[-1].split("/", 1)[0]


def cluster_arn_of_alarm(description: str | None) -> str | None:
    """The cluster an alarm of ours watches, from the description it was created with."""
    if not description or not description.startswith((DISK_ALARM_MARKER, HEALTH_ALARM_MARKER)):
        return None
    match = _CLUSTER_ARN.search(description)
    return match.group(1) if match else None


def firing_alarm_cluster(
    event: AlarmStateChange,
    *,
    marker: str,
    metrics: Callable[[frozenset[str]], bool],
    kind: str,
) -> str | Outcome:
    """The cluster an alarm of ours (its description starts with `marker`, its metrics pass
    `metrics`) watches, when the alarm entered ALARM; otherwise the SKIPPED outcome saying why."""
    detail = event.detail
    names = frozenset(
        metric.metric_stat.metric.name
        for metric in detail.configuration.metrics
        if metric.metric_stat is not None
    )
    description = detail.configuration.description or ""
    cluster_arn = cluster_arn_of_alarm(description)
    if cluster_arn is None or not description.startswith(marker) or not metrics(names):
        return Outcome(
            Status.SKIPPED,
            f"alarm {detail.alarm_name} is not a {kind} alarm of msk-autopilot",
            {"alarm": detail.alarm_name},
        )
    if detail.state.value != "ALARM":
        return Outcome(
            Status.SKIPPED,
            f"alarm {detail.alarm_name} is {detail.state.value}, not ALARM",
            {"alarm": detail.alarm_name},
        )
    return cluster_arn


def owned_alarm(alarm: dict[str, Any], marker: str) -> bool:
    """Whether an alarm (DescribeAlarms' shape) carries our `marker` and names its cluster."""
    description = str(alarm.get("AlarmDescription", ""))
    return description.startswith(marker) and cluster_arn_of_alarm(description) is not None


def _dimensions(cluster: ClusterSnapshot, broker: str | None) -> list[dict[str, str]]:
    dimensions = [{"Name": "Cluster Name", "Value": cluster.cluster_name}]
    if broker is not None:
        dimensions.append({"Name": "Broker ID", "Value": broker})
    return dimensions


def _metric_body(unit: AlarmUnit, cluster: ClusterSnapshot, broker: str | None) -> dict[str, Any]:
    dimensions = _dimensions(cluster, broker)
    if unit.expression is None:
        return {
            "Namespace": KAFKA_NAMESPACE,
            "MetricName": unit.metrics[0],
            "Dimensions": dimensions,
            "Statistic": unit.statistic,
            "Period": unit.period_seconds,
        }
    queries: list[dict[str, Any]] = [
        {
            "Id": f"m{index}",
            "MetricStat": {
                "Metric": {
                    "Namespace": KAFKA_NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": dimensions,
                },
                "Period": unit.period_seconds,
                "Stat": unit.statistic,
            },
            "ReturnData": False,
        }
        for index, metric in enumerate(unit.metrics, start=1)
    ]
    queries.append(
        {"Id": "e1", "Expression": unit.expression, "Label": unit.id, "ReturnData": True}
    )
    return {"Metrics": queries}


def owned_request(
    *,
    name: str,
    marker: str,
    subject: str,
    cluster: ClusterSnapshot,
    body: dict[str, Any],
) -> dict[str, Any]:
    """A PutMetricAlarm request carrying our ownership marks (description marker, tag)."""
    return {
        "AlarmName": name,
        "AlarmDescription": (
            f"{marker}: {subject} of {cluster.cluster_name} ({cluster.cluster_arn})"
        ),
        **body,
        "Tags": [{"Key": CLUSTER_TAG, "Value": cluster.cluster_arn}],
    }


def health_alarm_requests(
    cluster: ClusterSnapshot, thresholds: AlarmThresholds, *, prefix: str, topic_arn: str
) -> dict[str, dict[str, Any]]:
    """PutMetricAlarm requests by name for the units that apply to `cluster`'s broker kind.

    Serverless clusters get none: MSK runs their brokers and publishes no broker metric.
    """
    kind = broker_kind(cluster)
    wanted: dict[str, dict[str, Any]] = {}
    for unit in ALARMS:
        if kind not in unit.kinds:
            continue
        threshold = unit.threshold(thresholds, cluster)
        if threshold is None:
            continue
        brokers: list[str | None] = (
            list(cluster.broker_ids) if unit.scope is Scope.BROKER else [None]
        )
        for broker in brokers:
            where = "" if broker is None else f"broker-{broker}-"
            name = f"{prefix}{cluster.cluster_name}-{where}{unit.id}"
            subject = unit.id if broker is None else f"{unit.id} of broker {broker}"
            body = {
                **_metric_body(unit, cluster, broker),
                "EvaluationPeriods": unit.evaluation_periods,
                "Threshold": threshold,
                "ComparisonOperator": unit.comparison,
                "TreatMissingData": "missing",
                "AlarmActions": [topic_arn],
                "OKActions": [topic_arn],
            }
            wanted[name] = owned_request(
                name=name, marker=HEALTH_ALARM_MARKER, subject=subject, cluster=cluster, body=body
            )
    return wanted


def disk_trigger_requests(
    cluster: ClusterSnapshot, trigger: DiskTrigger
) -> dict[str, dict[str, Any]]:
    """The storage scaler's disk alarms: one per broker of a Standard cluster (Express and
    Serverless brokers publish no per-broker disk metric). State changes reach the scaler through
    EventBridge, so they have no actions."""
    if broker_kind(cluster) is not BrokerKind.STANDARD:
        return {}
    wanted: dict[str, dict[str, Any]] = {}
    for broker in cluster.broker_ids:
        name = f"{trigger.prefix}{cluster.cluster_name}-broker-{broker}"
        body = {
            "Namespace": KAFKA_NAMESPACE,
            "MetricName": DISK_METRIC,
            "Dimensions": _dimensions(cluster, broker),
            "Statistic": "Maximum",
            "Period": trigger.period_seconds,
            "EvaluationPeriods": trigger.evaluation_periods,
            "Threshold": trigger.threshold_percent,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "missing",
        }
        wanted[name] = owned_request(
            name=name,
            marker=DISK_ALARM_MARKER,
            subject=f"{DISK_METRIC} of broker {broker}",
            cluster=cluster,
            body=body,
        )
    return wanted
