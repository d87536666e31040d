"""Write MSK broker metrics (namespace ``AWS/Kafka``) into moto's CloudWatch.

The data points go in through an ordinary ``cloudwatch`` client, in-process or against the
emulator server, and come back from GetMetricData exactly as MSK's do: per broker, with the
dimensions ``Cluster Name`` and ``Broker ID``, and the cluster metrics (OfflinePartitionsCount,
ActiveControllerCount) with ``Cluster Name`` only. (Real CloudWatch refuses ``AWS/`` namespaces in
PutMetricData; moto accepts them, which is what makes this possible.)
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

NAMESPACE = "AWS/Kafka"
DISK_USED = "KafkaDataLogsDiskUsed"
# CloudWatch accepts at most 1000 data points per PutMetricData call.
_BATCH_SIZE = 1000

# Units MSK reports for the common per-broker metrics; others are written without a unit.
METRIC_UNITS = {
    "KafkaDataLogsDiskUsed": "Percent",
    "KafkaAppLogsDiskUsed": "Percent",
    "RootDiskUsed": "Percent",
    "CpuUser": "Percent",
    "CpuSystem": "Percent",
    "CpuIdle": "Percent",
    "CpuIoWait": "Percent",
    "MemoryUsed": "Bytes",
    "MemoryFree": "Bytes",
    "HeapMemoryAfterGC": "Percent",
    "BytesInPerSec": "Bytes/Second",
    "BytesOutPerSec": "Bytes/Second",
    "MessagesInPerSec": "Count/Second",
    "VolumeQueueLength": "Count",
    "UnderReplicatedPartitions": "Count",
    "UnderMinIsrPartitionCount": "Count",
    "PartitionCount": "Count",
    "OfflinePartitionsCount": "Count",
    "ActiveControllerCount": "Count",
}


def broker_dimensions(cluster_name: str, broker_id: int) -> list[dict[str, str]]:
    return [
        {"Name": "Cluster Name", "Value": cluster_name},
        {"Name": "Broker ID", "Value": str(broker_id)},
    ]


def _datum(
    cluster_name: str, broker_id: int, name: str, value: float, when: datetime
) -> dict[str, Any]:
    datum: dict[str, Any] = {
        "MetricName": name,
        "Dimensions": broker_dimensions(cluster_name, broker_id),
        "Timestamp": when,
        "Value": float(value),
    }
    if name in METRIC_UNITS:
        datum["Unit"] = METRIC_UNITS[name]
    return datum


def _put(cloudwatch: Any, data: list[dict[str, Any]]) -> None:
    for start in range(0, len(data), _BATCH_SIZE):
        cloudwatch.put_metric_data(
            Namespace=NAMESPACE, MetricData=data[start : start + _BATCH_SIZE]
        )


def put_broker_metrics(
    cloudwatch: Any,
    cluster_name: str,
    broker_id: int,
    metrics: Mapping[str, float],
    timestamp: datetime | None = None,
) -> None:
    """Write one value per metric for one broker, at ``timestamp`` (default: now, UTC)."""
    when = timestamp or datetime.now(UTC)
    _put(
        cloudwatch,
        [_datum(cluster_name, broker_id, name, value, when) for name, value in metrics.items()],
    )


def put_cluster_metric(
    cloudwatch: Any,
    cluster_name: str,
    name: str,
    values: Iterable[float],
    timestamp: datetime | None = None,
) -> None:
    """Write cluster metric `name` as its brokers publish it: one datum per value, all with the
    dimension ``Cluster Name`` only, at ``timestamp`` (default: now, UTC). ActiveControllerCount
    is ``[1, 0, 0]`` on a healthy three-broker cluster (its Sum is 1)."""
    when = timestamp or datetime.now(UTC)
    datum: dict[str, Any] = {
        "MetricName": name,
        "Dimensions": [{"Name": "Cluster Name", "Value": cluster_name}],
        "Timestamp": when,
    }
    if name in METRIC_UNITS:
        datum["Unit"] = METRIC_UNITS[name]
    _put(cloudwatch, [{**datum, "Value": float(value)} for value in values])


# What the health gates read, at values that pass every gate (msk_autopilot.health.gates).
HEALTHY_BROKER_METRICS = {
    "PartitionCount": 100.0,
    "UnderReplicatedPartitions": 0.0,
    "UnderMinIsrPartitionCount": 0.0,
    "CpuUser": 20.0,
    "CpuSystem": 5.0,
}


def put_healthy_window(
    cloudwatch: Any,
    cluster_name: str,
    brokers: int,
    *,
    minutes: int = 15,
    end: datetime | None = None,
) -> None:
    """A healthy cluster's last `minutes` one-minute periods up to `end` (default: now, UTC):
    every per-broker metric the health gates read, no offline partition, one active controller."""
    last = (end or datetime.now(UTC)).replace(second=0, microsecond=0)
    data: list[dict[str, Any]] = []
    for back in range(minutes):
        when = last - timedelta(minutes=back)
        for broker_id in range(1, brokers + 1):
            data.extend(
                _datum(cluster_name, broker_id, name, value, when)
                for name, value in HEALTHY_BROKER_METRICS.items()
            )
        put_cluster_metric(cloudwatch, cluster_name, "OfflinePartitionsCount", [0.0], when)
        put_cluster_metric(
            cloudwatch, cluster_name, "ActiveControllerCount", [1.0] + [0.0] * (brokers - 1), when
        )
    _put(cloudwatch, data)


def put_linear_series(
    cloudwatch: Any,
    cluster_name: str,
    *,
    broker_ids: Iterable[int],
    start: datetime,
    end: datetime,
    start_value: float,
    end_value: float,
    period_seconds: int = 60,
    metric_name: str = DISK_USED,
) -> int:
    """Write a straight-line series from ``start_value`` at ``start`` to ``end_value`` at ``end``,
    one point every ``period_seconds``, for each broker; returns the number of points written.

    With the defaults this is "disk used percent rising over time" for every broker.
    """
    if period_seconds <= 0 or end < start:
        raise ValueError("Need period_seconds > 0 and end at or after start.")
    steps = int((end - start).total_seconds() // period_seconds)
    data = []
    for broker_id in broker_ids:
        for step in range(steps + 1):
            fraction = step / steps if steps else 1.0
            value = start_value + (end_value - start_value) * fraction
            when = start + timedelta(seconds=step * period_seconds)
            data.append(_datum(cluster_name, broker_id, metric_name, value, when))
    _put(cloudwatch, data)
    return len(data)
