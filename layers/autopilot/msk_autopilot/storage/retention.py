"""The retention bound of one cluster: the most any broker's data logs can hold.

Kafka deletes what is older than the retention period, so a broker cannot hold more than what it
writes over that period. Per broker, the bound is

    peak hourly write rate x (longest retention + one retention check) x index overhead
    + one segment per partition replica on the broker

and the cluster's bound is its busiest broker's. Where the size limit binds first (every topic
has a retention.bytes), the bound is at most partition replicas x (retention.bytes + segment).

Where each rule comes from:
- Writes per broker: BytesInPerSec (bytes from clients: the leader's writes) plus
  ReplicationBytesInPerSec (bytes from other brokers: the followers' writes), MSK's CloudWatch
  metrics (metrics-details.html). ReplicationBytesInPerSec is a PER_BROKER-level metric, so a
  cluster monitored at DEFAULT has no bound. The peak hourly mean is read over the whole
  retention period, because all data on disk was written within it.
- PartitionCount per broker counts partition replicas (metrics-details.html, DEFAULT level).
- Retention (Kafka's broker and topic configuration reference, kafka.apache.org/documentation):
  a topic's retention.ms overrides the broker's log.retention.ms, which overrides
  log.retention.minutes, which overrides log.retention.hours (default 168); -1 means no time
  limit. The broker values are read from the cluster's current configuration revision.
- cleanup.policy (broker log.cleanup.policy, default delete) containing compact keeps the latest
  record of every key for ever: no time bound. Kafka's and MSK's internal topics (names starting
  with "__": __consumer_offsets, __transaction_state, __amazon_msk_canary) are left out of that
  rule and of the longest retention: they are compacted bookkeeping over a small key space, whose
  partitions the segment slack below counts (PartitionCount includes them). Whether MSK's
  ListTopics lists them at all is not documented; either way they cannot void every bound.
- retention.bytes (broker log.retention.bytes, default -1: none) limits each partition.
- Retention deletes whole closed segments, those whose newest record is older than the
  retention period (or, for retention.bytes, while the partition stays above it without the
  segment), checked every log.retention.check.interval.ms (default 5 minutes). So each partition
  replica can hold up to one segment (segment.bytes; broker log.segment.bytes, default 1 GiB)
  beyond the period, and the writes of one check interval.
- Each segment keeps an offset index (8 bytes) and a time index (12 bytes) entry every
  index.interval.bytes (default 4096) of log.

Records carry the producer's timestamp by default (message.timestamp.type=CreateTime); a
producer stamping records in the future keeps them longer. The bound then is too low, and the
policy still never forecasts below the disk's latest usage.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec

from msk_autopilot.config.properties import decode_revision
from msk_autopilot.msk import ClusterSnapshot, MskReader
from msk_autopilot.storage.metrics import KAFKA_NAMESPACE
from msk_autopilot.topics import TopicApisUnavailableError, TopicInfo, read_topics

__all__ = ["RetentionBound", "broker_retention_ms", "read_retention_bound"]

GIB = 1024**3
HOUR_MS = 3_600_000
KAFKA_DEFAULT_RETENTION_HOURS = 168
KAFKA_DEFAULT_SEGMENT_BYTES = GIB
KAFKA_DEFAULT_CHECK_INTERVAL_MS = 300_000
INTERNAL_TOPIC_PREFIX = "__"
# Offset index (8 bytes) and time index (12 bytes) entries per index.interval.bytes (4096).
INDEX_OVERHEAD = 1 + 20 / 4096
WRITE_METRICS = ("BytesInPerSec", "ReplicationBytesInPerSec")
REPLICAS_METRIC = "PartitionCount"
_HOUR_SECONDS = 3600
# (metric, statistic) per broker; the query Id is m<index>_<broker>.
_QUERIES = (
    (WRITE_METRICS[0], "Average"),
    (WRITE_METRICS[1], "Average"),
    (REPLICAS_METRIC, "Maximum"),
)


class RetentionBound(msgspec.Struct, frozen=True):
    """The bound in GiB per broker, and how it was found; `gib` None: no bound, `reason` why."""

    gib: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"gib": None if self.gib is None else round(self.gib, 1), "reason": self.reason}


class _TopicLimits(msgspec.Struct, frozen=True):
    retention_ms: int | None  # None: kept for ever (retention.ms -1 or compaction)
    retention_bytes: int | None  # None: no size limit
    segment_bytes: int


def read_retention_bound(
    msk: MskReader, cloudwatch: Any, cluster: ClusterSnapshot, *, now: datetime
) -> RetentionBound:
    """The bound of one cluster, or no bound with the reason (never an exception for a cluster
    that cannot give one: the policy then sizes by the disk's trend alone)."""
    provisioned = cluster.provisioned
    if provisioned is None:
        return RetentionBound(None, "serverless clusters have no topic APIs")
    try:
        topics = read_topics(msk.kafka, cluster.cluster_arn)
    except TopicApisUnavailableError as error:
        return RetentionBound(None, f"the topic APIs are not available ({error})")
    topics = [topic for topic in topics if not topic.name.startswith(INTERNAL_TOPIC_PREFIX)]
    if not topics:
        return RetentionBound(None, "the cluster lists no topics of its own")
    software = provisioned.current_broker_software_info
    defaults: Mapping[str, str] = {}
    if software.configuration_arn and software.configuration_revision:
        stored = msk.server_properties(software.configuration_arn, software.configuration_revision)
        defaults = decode_revision(stored).as_dict()
    limits = {topic.name: _topic_limits(topic, defaults) for topic in topics}
    forever = sorted(name for name, limit in limits.items() if limit.retention_ms is None)
    if forever:
        return RetentionBound(
            None,
            f"topic(s) {', '.join(forever[:3])}{' ...' if len(forever) > 3 else ''} keep data "
            "without a time limit (retention.ms -1 or cleanup.policy compact)",
        )
    retention_ms = max(limit.retention_ms or 0 for limit in limits.values())
    check_ms = int(defaults.get("log.retention.check.interval.ms", KAFKA_DEFAULT_CHECK_INTERVAL_MS))
    period_seconds = (retention_ms + check_ms) / 1000
    segment = max(limit.segment_bytes for limit in limits.values())
    sizes = [limit.retention_bytes for limit in limits.values()]
    retention_bytes = max(s for s in sizes if s is not None) if None not in sizes else None

    hours = math.ceil(period_seconds / _HOUR_SECONDS)
    writes, replicas = _read_broker_load(
        cloudwatch, cluster.cluster_name, cluster.broker_ids, now=now, hours=hours
    )
    bounds: dict[str, float] = {}
    for broker_id in cluster.broker_ids:
        rates, partitions = writes.get(broker_id, {}), replicas.get(broker_id)
        # Gaps would hide writes: ask for every hour of the period but the one in progress.
        if len(rates) < hours - 1 or partitions is None:
            return RetentionBound(
                None,
                f"broker {broker_id} lacks {' + '.join(WRITE_METRICS)} or {REPLICAS_METRIC} for "
                f"the {hours} h retention period (ReplicationBytesInPerSec needs PER_BROKER "
                f"monitoring; this cluster has {provisioned.enhanced_monitoring})",
            )
        by_time = max(rates.values()) * period_seconds * INDEX_OVERHEAD + partitions * segment
        by_size = partitions * (retention_bytes + segment) if retention_bytes is not None else None
        bounds[broker_id] = min(by_time, by_size) if by_size is not None else by_time
    busiest = max(bounds, key=lambda broker_id: bounds[broker_id])
    peak = max(writes[busiest].values())
    how = (
        f"broker {busiest}: {peak / 1e6:.2f} MB/s written at peak x "
        f"{retention_ms / HOUR_MS:g} h retention + {replicas[busiest]:.0f} partition replicas x "
        f"{segment / GIB:g} GiB segments"
    )
    if retention_bytes is not None and bounds[busiest] < peak * period_seconds:
        how += f", capped by retention.bytes {retention_bytes / GIB:g} GiB per partition"
    return RetentionBound(bounds[busiest] / GIB, how)


def _topic_limits(topic: TopicInfo, defaults: Mapping[str, str]) -> _TopicLimits:
    configs = topic.configs
    policy = configs.get("cleanup.policy", defaults.get("log.cleanup.policy", "delete"))
    retention_ms = int(configs.get("retention.ms", broker_retention_ms(defaults)))
    retention_bytes = int(configs.get("retention.bytes", defaults.get("log.retention.bytes", -1)))
    segment = int(
        configs.get("segment.bytes", defaults.get("log.segment.bytes", KAFKA_DEFAULT_SEGMENT_BYTES))
    )
    forever = retention_ms < 0 or "compact" in policy.replace(" ", "").split(",")
    return _TopicLimits(
        retention_ms=None if forever else retention_ms,
        retention_bytes=retention_bytes if retention_bytes >= 0 else None,
        segment_bytes=segment,
    )


def broker_retention_ms(defaults: Mapping[str, str]) -> int:
    """The broker's retention: log.retention.ms, else .minutes, else .hours, else 168 h."""
    if "log.retention.ms" in defaults:
        return int(defaults["log.retention.ms"])
    if "log.retention.minutes" in defaults:
        return int(defaults["log.retention.minutes"]) * 60_000
    return int(defaults.get("log.retention.hours", KAFKA_DEFAULT_RETENTION_HOURS)) * HOUR_MS


def _read_broker_load(
    cloudwatch: Any, cluster_name: str, broker_ids: Sequence[str], *, now: datetime, hours: int
) -> tuple[dict[str, dict[datetime, float]], dict[str, float]]:
    """Per broker: bytes written per second by hour (mean of the hour, both write metrics
    summed) and the most partition replicas it held, from one paginated GetMetricData call."""
    queries = []
    for broker_id in broker_ids:
        dimensions = [
            {"Name": "Cluster Name", "Value": cluster_name},
            {"Name": "Broker ID", "Value": broker_id},
        ]
        for index, (metric, stat) in enumerate(_QUERIES):
            queries.append(
                {
                    "Id": f"m{index}_{broker_id}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": KAFKA_NAMESPACE,
                            "MetricName": metric,
                            "Dimensions": dimensions,
                        },
                        "Period": _HOUR_SECONDS,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
            )
    request: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": now - timedelta(hours=hours),
        "EndTime": now,
    }
    series: dict[str, dict[datetime, float]] = defaultdict(dict)
    while True:
        response = cloudwatch.get_metric_data(**request)
        for result in response.get("MetricDataResults", []):
            points = series[str(result["Id"])]
            for at, value in zip(result["Timestamps"], result["Values"], strict=True):
                points[at] = float(value)
        token = response.get("NextToken")
        if not token:
            break
        request["NextToken"] = token
    writes: dict[str, dict[datetime, float]] = {}
    replicas: dict[str, float] = {}
    for broker_id in broker_ids:
        leader, follower = series.get(f"m0_{broker_id}", {}), series.get(f"m1_{broker_id}", {})
        # Hours where both metrics reported: an hour missing either would understate the writes.
        writes[broker_id] = {
            at: leader[at] + follower[at] for at in leader.keys() & follower.keys()
        }
        held = series.get(f"m2_{broker_id}", {})
        if held:
            replicas[broker_id] = max(held.values())
    return writes, replicas
