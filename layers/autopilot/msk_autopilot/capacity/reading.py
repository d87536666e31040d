"""What the broker scaler reads of one cluster besides DescribeClusterV2: its brokers and their
zones (ListNodes), an hourly utilization history per broker (GetMetricData, Period 3600), where
its partitions are (the topic APIs, else the PartitionCount metric) and an estimate of their size.

MSK's APIs never report a partition's size. A Standard broker's KafkaDataLogsDiskUsed (percent
of its volume) spread over the replicas it holds gives the bytes per replica on that broker; an
Express cluster's StorageUsed over its partitions gives the bytes per partition. The reassignment
plan's bytes to move are estimates from these, and None when neither metric has a value.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
from botocore.exceptions import ClientError

from msk_autopilot.aws import error_code, pages
from msk_autopilot.capacity.policy import BrokerSample
from msk_autopilot.capacity.reassignment import (
    Broker,
    PartitionPlacement,
    from_describe_topic_partitions,
)
from msk_autopilot.storage.metrics import DISK_METRIC, KAFKA_NAMESPACE

__all__ = [
    "ClusterPlacement",
    "broker_history",
    "read_brokers",
    "read_placement",
]

_HOUR = 3600
_QUERIES_PER_CALL = 500  # GetMetricData's limit
_LOAD_METRICS = ("CpuUser", "CpuSystem", "BytesInPerSec", "BytesOutPerSec")
_THROTTLE_METRICS = ("ProduceThrottleTime", "FetchThrottleTime")  # Express only
# MSK's own topics stay on a broker it removes (msk-remove-broker.html): never planned to move.
_CANARY_TOPICS = frozenset({"__amazon_msk_canary", "__amazon_msk_canary_state"})
_GIB = 1 << 30


class ClusterPlacement(msgspec.Struct, frozen=True, kw_only=True):
    """Partitions per broker, and where each partition is when the topic APIs tell."""

    partitions_per_broker: int  # the most replicas any broker holds
    partitions: tuple[PartitionPlacement, ...] | None  # None without the topic APIs
    source: str  # "DescribeTopicPartitions" or "PartitionCount metric"


def read_brokers(kafka: Any, cluster_arn: str) -> list[Broker]:
    """The cluster's brokers with their zone (client subnet: one per Availability Zone)."""
    brokers = []
    for page in pages(kafka.list_nodes, ClusterArn=cluster_arn):
        for node in page.get("NodeInfoList", []):
            info = node.get("BrokerNodeInfo")
            if info is not None:
                brokers.append(Broker(int(info["BrokerId"]), str(info["ClientSubnet"])))
    return sorted(brokers, key=lambda broker: broker.broker_id)


def _dimensions(cluster_name: str, broker_id: int | None) -> list[dict[str, str]]:
    dimensions = [{"Name": "Cluster Name", "Value": cluster_name}]
    if broker_id is not None:
        dimensions.append({"Name": "Broker ID", "Value": str(broker_id)})
    return dimensions


def _query(
    query_id: str, cluster_name: str, broker_id: int | None, metric: str, *, stat: str
) -> dict[str, Any]:
    """One hourly statistic of a broker's (or the cluster's) metric."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": KAFKA_NAMESPACE,
                "MetricName": metric,
                "Dimensions": _dimensions(cluster_name, broker_id),
            },
            "Period": _HOUR,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def _metric_data(
    cloudwatch: Any, queries: Sequence[dict[str, Any]], start: datetime, end: datetime
) -> Iterator[Mapping[str, Any]]:
    """Every MetricDataResult of `queries`, 500 queries per call, every page."""
    for first in range(0, len(queries), _QUERIES_PER_CALL):
        request: dict[str, Any] = {
            "MetricDataQueries": list(queries[first : first + _QUERIES_PER_CALL]),
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            response = cloudwatch.get_metric_data(**request)
            yield from response.get("MetricDataResults", [])
            token = response.get("NextToken")
            if not token:
                break
            request["NextToken"] = token


def broker_history(
    cloudwatch: Any,
    cluster_name: str,
    broker_ids: Sequence[int],
    *,
    start: datetime,
    end: datetime,
    express: bool,
) -> dict[str, list[BrokerSample]]:
    """Hourly averages per broker from `start` to `end`, oldest first: CpuUser + CpuSystem,
    BytesInPerSec, BytesOutPerSec and, on Express, ProduceThrottleTime + FetchThrottleTime.
    An hour counts when the broker reported CPU in it; a metric missing in it counts as 0."""
    metrics = _LOAD_METRICS + (_THROTTLE_METRICS if express else ())
    queries = [
        _query(f"b{broker_id}_m{index}", cluster_name, broker_id, metric, stat="Average")
        for broker_id in broker_ids
        for index, metric in enumerate(metrics)
    ]
    values: dict[tuple[int, str], dict[datetime, float]] = defaultdict(dict)
    for result in _metric_data(cloudwatch, queries, start, end):
        broker, index = str(result["Id"]).removeprefix("b").split("_m")
        series = values[int(broker), metrics[int(index)]]
        for timestamp, value in zip(result["Timestamps"], result["Values"], strict=True):
            series[timestamp] = float(value)
    history: dict[str, list[BrokerSample]] = {}
    for broker_id in broker_ids:
        user, system = values[broker_id, "CpuUser"], values[broker_id, "CpuSystem"]
        hours = sorted(user.keys() | system.keys())

        def at(metric: str, hour: datetime, broker_id: int = broker_id) -> float:
            return values[broker_id, metric].get(hour, 0.0)

        history[str(broker_id)] = [
            BrokerSample(
                cpu_percent=at("CpuUser", hour) + at("CpuSystem", hour),
                bytes_in_per_second=at("BytesInPerSec", hour),
                bytes_out_per_second=at("BytesOutPerSec", hour),
                throttle_ms=sum(at(metric, hour) for metric in _THROTTLE_METRICS),
            )
            for hour in hours
        ]
    return history


def read_placement(
    kafka: Any,
    cloudwatch: Any,
    cluster_arn: str,
    cluster_name: str,
    broker_ids: Sequence[int],
    *,
    now: datetime,
    volume_gib: int | None,
) -> ClusterPlacement:
    """Partitions per broker from the topic APIs where the cluster offers them (Kafka 3.6 or
    later), else from the PartitionCount metric; partition sizes estimated (see the module)."""
    topics = _topic_partitions(kafka, cluster_arn)
    if topics is None:
        counts = _latest(cloudwatch, cluster_name, broker_ids, "PartitionCount", now)
        return ClusterPlacement(
            partitions_per_broker=int(max(counts.values(), default=0)),
            partitions=None,
            source="PartitionCount metric",
        )
    replicas = Counter(broker for placement in topics for broker in placement.replicas)
    partitions_per_broker = max((replicas[broker] for broker in broker_ids), default=0)
    movable = [placement for placement in topics if placement.topic not in _CANARY_TOPICS]
    sizes = _partition_bytes(
        cloudwatch, cluster_name, broker_ids, movable, replicas, now=now, volume_gib=volume_gib
    )
    if sizes is not None:
        movable = [
            msgspec.structs.replace(placement, size_bytes=size)
            for placement, size in zip(movable, sizes, strict=True)
        ]
    return ClusterPlacement(
        partitions_per_broker=partitions_per_broker,
        partitions=tuple(movable),
        source="DescribeTopicPartitions",
    )


def _topic_partitions(kafka: Any, cluster_arn: str) -> list[PartitionPlacement] | None:
    """Every partition's replicas, or None when the cluster does not offer the topic APIs."""
    placements: list[PartitionPlacement] = []
    try:
        names = [
            str(topic["TopicName"])
            for page in pages(kafka.list_topics, ClusterArn=cluster_arn)
            for topic in page.get("Topics", [])
        ]
        for name in names:
            for page in pages(
                kafka.describe_topic_partitions, ClusterArn=cluster_arn, TopicName=name
            ):
                placements.extend(from_describe_topic_partitions(name, page.get("Partitions", [])))
    except ClientError as error:
        if error_code(error) == "BadRequestException":  # Kafka before 3.6
            return None
        raise
    return placements


def _latest(
    cloudwatch: Any,
    cluster_name: str,
    broker_ids: Sequence[int] | None,
    metric: str,
    now: datetime,
) -> dict[int | None, float]:
    """The last hour's Maximum of `metric` per broker (or for the cluster: `broker_ids` None)."""
    targets: Sequence[int | None] = [None] if broker_ids is None else broker_ids
    queries = [
        _query(f"q{index}", cluster_name, target, metric, stat="Maximum")
        for index, target in enumerate(targets)
    ]
    found: dict[int | None, float] = {}
    for result in _metric_data(cloudwatch, queries, now - timedelta(hours=1), now):
        if result["Values"]:
            found[targets[int(str(result["Id"])[1:])]] = float(result["Values"][-1])
    return found


def _partition_bytes(
    cloudwatch: Any,
    cluster_name: str,
    broker_ids: Sequence[int],
    placements: Sequence[PartitionPlacement],
    replicas: Mapping[int, int],
    *,
    now: datetime,
    volume_gib: int | None,
) -> list[int] | None:
    """Each partition's estimated size, or None when no metric tells."""
    if volume_gib is None:  # Express: StorageUsed over the partitions
        stored = _latest(cloudwatch, cluster_name, None, "StorageUsed", now).get(None)
        total = len(placements)
        if stored is None or not total:
            return None
        return [int(stored / total)] * total
    used = _latest(cloudwatch, cluster_name, broker_ids, DISK_METRIC, now)
    if not used:
        return None
    per_replica = {
        broker: used[broker] / 100 * volume_gib * _GIB / replicas[broker]
        for broker in used
        if broker is not None and replicas.get(broker)
    }
    sizes = []
    for placement in placements:
        known = [per_replica[broker] for broker in placement.replicas if broker in per_replica]
        if not known:
            return None
        sizes.append(int(sum(known) / len(known)))
    return sizes
