"""What the health monitor keeps on a cluster's broker logs in CloudWatch Logs (pure).

For a cluster whose brokers deliver their logs to a log group: one metric filter per line that
matters (Kafka's own texts: `Partition.scala` logs "Shrinking ISR from" and "Expanding ISR
from", `ReplicaManager` "Stopping serving replicas in dir" on a failed log directory, the
controller "successfully elected as the controller" (ZooKeeper) or "Becoming the active
controller" (KRaft); log4j prints the level after the timestamp: "] ERROR "), an alarm on the
filters whose lines need a human, and saved Logs Insights queries for investigating the cluster.

Broker log lines do not name their cluster, so the metrics live in a namespace per cluster; a log
group shared by several clusters counts the lines of all of them in each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from msk_autopilot.health.alarms import HEALTH_ALARM_MARKER, owned_request
from msk_autopilot.msk import ClusterSnapshot

__all__ = [
    "LOG_FILTERS",
    "LOG_NAMESPACE",
    "LOG_QUERIES",
    "LogFilter",
    "LogQuery",
    "log_alarm_requests",
    "log_filter_requests",
    "log_namespace",
    "log_query_requests",
]

LOG_NAMESPACE = "msk-autopilot/BrokerLogs"  # our metric filters' mark: <this>/<cluster name>


@dataclass(frozen=True, kw_only=True)
class LogFilter:
    id: str
    pattern: str  # CloudWatch Logs filter pattern: ?"a" ?"b" matches either phrase
    metric: str
    why: str
    alarm_at: int | None = None  # lines per alarm period that alarm; None: counted, no alarm
    alarm_periods: int = 1  # consecutive 5-minute periods


@dataclass(frozen=True, kw_only=True)
class LogQuery:
    id: str
    title: str
    query: str


LOG_FILTERS: tuple[LogFilter, ...] = (
    LogFilter(
        id="isr-shrink",
        pattern='"Shrinking ISR"',
        metric="IsrShrinks",
        why="ISR shrinking in three 5-minute periods running: a follower keeps falling behind "
        "(one shrink during a broker restart is normal)",
        alarm_at=1,
        alarm_periods=3,
    ),
    LogFilter(
        id="isr-expand",
        pattern='"Expanding ISR"',
        metric="IsrExpands",
        why="followers catching up again; counted to set against the shrinks",
    ),
    LogFilter(
        id="controller",
        pattern='?"elected as the controller" ?"Becoming the active controller"',
        metric="ControllerChanges",
        why="the controller moved twice within 5 minutes: elections are flapping",
        alarm_at=2,
    ),
    LogFilter(
        id="errors",
        pattern='?"] ERROR " ?"] FATAL "',
        metric="ErrorLines",
        why="ERROR and FATAL lines; Kafka logs ERROR for client mistakes too, so counted only",
    ),
    LogFilter(
        id="fatal",
        pattern='"] FATAL "',
        metric="FatalLines",
        why="a broker logged FATAL: it is stopping or cannot work",
        alarm_at=1,
    ),
    LogFilter(
        id="out-of-memory",
        pattern="OutOfMemoryError",
        metric="OutOfMemoryErrors",
        why="a broker ran out of heap; it will fail requests or stop",
        alarm_at=1,
    ),
    LogFilter(
        id="log-dir-failure",
        pattern='?KafkaStorageException ?"Stopping serving replicas in dir"',
        metric="LogDirectoryFailures",
        why="a log directory failed: the broker stops serving its replicas",
        alarm_at=1,
    ),
)

LOG_QUERIES: tuple[LogQuery, ...] = (
    LogQuery(
        id="errors",
        title="ERROR and FATAL lines, newest first",
        query="fields @timestamp, @logStream, @message\n"
        "| filter @message like /\\] (ERROR|FATAL) /\n"
        "| sort @timestamp desc\n| limit 200",
    ),
    LogQuery(
        id="isr-changes",
        title="ISR shrinks and expansions per partition and broker",
        query="fields @timestamp, @message\n"
        "| filter @message like /Shrinking ISR|Expanding ISR/\n"
        '| parse @message "[Partition * broker=*]" as partition, broker\n'
        "| stats count(*) as changes by partition, broker\n| sort changes desc",
    ),
    LogQuery(
        id="controller-changes",
        title="Controller elections",
        query="fields @timestamp, @logStream, @message\n"
        "| filter @message like /elected as the controller|Becoming the active controller/\n"
        "| sort @timestamp desc",
    ),
    LogQuery(
        id="storage-and-memory",
        title="Log directory failures and OutOfMemoryError",
        query="fields @timestamp, @logStream, @message\n"
        "| filter @message like "
        "/OutOfMemoryError|KafkaStorageException|Stopping serving replicas/\n"
        "| sort @timestamp desc",
    ),
)


def log_namespace(cluster_name: str) -> str:
    return f"{LOG_NAMESPACE}/{cluster_name}"


def log_filter_requests(
    cluster: ClusterSnapshot, log_group: str, *, prefix: str
) -> dict[str, dict[str, Any]]:
    """PutMetricFilter requests by filter name, in the cluster's broker log group."""
    return {
        f"{prefix}{cluster.cluster_name}-log-{unit.id}": {
            "logGroupName": log_group,
            "filterName": f"{prefix}{cluster.cluster_name}-log-{unit.id}",
            "filterPattern": unit.pattern,
            "metricTransformations": [
                {
                    "metricName": unit.metric,
                    "metricNamespace": log_namespace(cluster.cluster_name),
                    "metricValue": "1",
                }
            ],
        }
        for unit in LOG_FILTERS
    }


def log_alarm_requests(
    cluster: ClusterSnapshot, *, prefix: str, topic_arn: str
) -> dict[str, dict[str, Any]]:
    """PutMetricAlarm requests by name for the filters that alarm. A minute without a matching
    line publishes nothing, so missing data is "not breaching"."""
    wanted: dict[str, dict[str, Any]] = {}
    for unit in LOG_FILTERS:
        if unit.alarm_at is None:
            continue
        name = f"{prefix}{cluster.cluster_name}-log-{unit.id}"
        body = {
            "Namespace": log_namespace(cluster.cluster_name),
            "MetricName": unit.metric,
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": unit.alarm_periods,
            "Threshold": float(unit.alarm_at),
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [topic_arn],
            "OKActions": [topic_arn],
        }
        wanted[name] = owned_request(
            name=name,
            marker=HEALTH_ALARM_MARKER,
            subject=f"broker log {unit.id}",
            cluster=cluster,
            body=body,
        )
    return wanted


def log_query_requests(
    cluster: ClusterSnapshot, log_group: str, *, prefix: str
) -> dict[str, dict[str, Any]]:
    """PutQueryDefinition requests by name; the console shows `/` as folders."""
    return {
        f"{prefix}{cluster.cluster_name}/{query.id}": {
            "name": f"{prefix}{cluster.cluster_name}/{query.id}",
            "queryString": query.query,
            "logGroupNames": [log_group],
        }
        for query in LOG_QUERIES
    }
