"""Per-broker disk usage of one cluster, read with a single GetMetricData call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from msk_autopilot.storage.policy import UsageSample

__all__ = ["DISK_METRIC", "KAFKA_NAMESPACE", "read_disk_usage"]

KAFKA_NAMESPACE = "AWS/Kafka"
DISK_METRIC = "KafkaDataLogsDiskUsed"  # percent of the data volume used, per broker
_PERIOD_SECONDS = 300


def read_disk_usage(
    cloudwatch: Any,
    cluster_name: str,
    broker_ids: Sequence[str],
    *,
    now: datetime,
    look_back_hours: float,
) -> dict[str, list[UsageSample]]:
    """Maximum KafkaDataLogsDiskUsed per broker over the look-back, one query per broker.

    One GetMetricData request takes up to 500 queries, so a cluster (at most 15 brokers per
    Availability Zone) is always a single call, apart from pagination of long windows.
    """
    queries = [
        {
            "Id": f"broker_{broker_id}",
            "MetricStat": {
                "Metric": {
                    "Namespace": KAFKA_NAMESPACE,
                    "MetricName": DISK_METRIC,
                    "Dimensions": [
                        {"Name": "Cluster Name", "Value": cluster_name},
                        {"Name": "Broker ID", "Value": broker_id},
                    ],
                },
                "Period": _PERIOD_SECONDS,
                "Stat": "Maximum",
            },
            "ReturnData": True,
        }
        for broker_id in broker_ids
    ]
    usage: dict[str, list[UsageSample]] = {broker_id: [] for broker_id in broker_ids}
    if not queries:
        return usage
    request: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": now - timedelta(hours=look_back_hours),
        "EndTime": now,
        "ScanBy": "TimestampAscending",
    }
    while True:
        response = cloudwatch.get_metric_data(**request)
        for result in response.get("MetricDataResults", []):
            broker_id = str(result["Id"]).removeprefix("broker_")
            usage[broker_id].extend(
                UsageSample(at=timestamp, used_percent=float(value))
                for timestamp, value in zip(result["Timestamps"], result["Values"], strict=True)
            )
        token = response.get("NextToken")
        if not token:
            return usage
        request["NextToken"] = token
