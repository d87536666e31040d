"""Cluster health metrics: what MSK publishes to CloudWatch each minute, from a profile per cluster.

A cluster publishes nothing until it is given a health profile (``control.set_cluster_health``,
the ``/_msk_emulator/clusters/health`` endpoint or a fleet file's ``health`` key), so a cluster
without metrics stays possible. From then on the emulator writes into moto's CloudWatch, in the
cluster's account and Region, one point a minute per metric, as MSK does (namespace
``AWS/Kafka``):

- per broker, dimensions "Cluster Name" and "Broker ID": CpuUser, CpuSystem,
  UnderReplicatedPartitions, UnderMinIsrPartitionCount, PartitionCount, HeapMemoryAfterGC,
  BytesInPerSec, BytesOutPerSec, ConnectionCount, on clusters monitored at PER_BROKER or finer
  ReplicationBytesInPerSec (MSK lists it at that level), and on Express brokers
  ProduceThrottleTime and FetchThrottleTime;
- per cluster, dimension "Cluster Name": OfflinePartitionsCount, ActiveControllerCount as
  one datum per broker (1 on a controller, 0 elsewhere), so its Sum per minute is the number of
  active controllers, and on Express clusters StorageUsed (bytes: its topics' partitions times
  their bytes per partition).

Express brokers publish neither UnderReplicatedPartitions, OfflinePartitionsCount,
HeapMemoryAfterGC nor KafkaDataLogsDiskUsed (the fleet seed refuses diskUsage for them);
serverless clusters publish no broker metrics, so they take no profile. A cluster with topics
reports as PartitionCount the replicas placed on each broker, so its profile takes none.

A profile describes how the cluster has been for the last ``WINDOW``: setting it (re)writes the
cluster's health points of the last 15 minutes, so what a health gate reads changes at once.
When the emulated clock moves on, the minutes that passed are written too, at most
``BACKFILL_LIMIT`` of them; further back, up to ``HISTORY_LIMIT``, one point an hour (what the
broker policy reads: hourly statistics over days). Deleted clusters stop publishing. A longer
past of chosen values is ``load.set_broker_load``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.kafka.models import kafka_backends

from . import catalog, placement
from .metrics import NAMESPACE
from .models import MskBackend, MskCluster
from .state import emulator_state

__all__ = [
    "BACKFILL_LIMIT",
    "WINDOW",
    "BrokerHealth",
    "ClusterHealth",
    "camel_names",
    "health_metric_names",
    "locate",
    "publish_due",
    "set_cluster_health",
]

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
WINDOW = timedelta(minutes=15)
BACKFILL_LIMIT = timedelta(hours=1)
HISTORY_LIMIT = timedelta(days=15)  # CloudWatch's one-minute data lives 15 days


Amount = Annotated[float, msgspec.Meta(ge=0)]


class BrokerHealth(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    """What one broker reports; the defaults are a healthy, lightly loaded broker."""

    cpu_user: Amount = 15.0
    cpu_system: Amount = 5.0
    under_replicated_partitions: Amount = 0.0
    under_min_isr_partitions: Amount = 0.0
    partition_count: Amount = 100.0
    heap_memory_after_gc: Amount = 30.0
    bytes_in_per_sec: Amount = 1_000_000.0
    bytes_out_per_sec: Amount = 2_000_000.0
    # Follower writes: with replication factor 3 a broker follows twice what it leads.
    replication_bytes_in_per_sec: Amount = 2_000_000.0
    connection_count: Amount = 50.0
    produce_throttle_time: Amount = 0.0
    fetch_throttle_time: Amount = 0.0


class ClusterHealth(BrokerHealth, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    """A cluster's profile: every broker's values, the cluster-level counts, and overrides per
    broker ID (camelCase BrokerHealth names)."""

    offline_partitions: Amount = 0.0
    active_controllers: Annotated[int, msgspec.Meta(ge=0)] = 1
    brokers: dict[int, dict[str, Amount]] = {}


def camel_names(struct: type[msgspec.Struct]) -> dict[str, str]:
    """Python field name -> the camelCase name the HTTP endpoint and fleet files use."""
    return {field.name: field.encode_name for field in msgspec.structs.fields(struct)}


# Per-broker metric name -> BrokerHealth field, and which brokers publish it.
_BROKER_METRICS = {
    "CpuUser": "cpu_user",
    "CpuSystem": "cpu_system",
    "UnderReplicatedPartitions": "under_replicated_partitions",
    "UnderMinIsrPartitionCount": "under_min_isr_partitions",
    "PartitionCount": "partition_count",
    "HeapMemoryAfterGC": "heap_memory_after_gc",
    "BytesInPerSec": "bytes_in_per_sec",
    "BytesOutPerSec": "bytes_out_per_sec",
    "ReplicationBytesInPerSec": "replication_bytes_in_per_sec",
    "ConnectionCount": "connection_count",
    "ProduceThrottleTime": "produce_throttle_time",
    "FetchThrottleTime": "fetch_throttle_time",
}
_STANDARD_ONLY = {"UnderReplicatedPartitions", "HeapMemoryAfterGC", "OfflinePartitionsCount"}
_EXPRESS_ONLY = {"ProduceThrottleTime", "FetchThrottleTime", "StorageUsed"}
_CLUSTER_METRICS = ("OfflinePartitionsCount", "ActiveControllerCount", "StorageUsed")
# Metrics MSK publishes only from the PER_BROKER monitoring level on (metrics-details.html).
PER_BROKER_LEVEL = {"ReplicationBytesInPerSec"}
_UNITS = {
    "CpuUser": "Percent",
    "CpuSystem": "Percent",
    "HeapMemoryAfterGC": "Percent",
    "BytesInPerSec": "Bytes/Second",
    "BytesOutPerSec": "Bytes/Second",
    "ReplicationBytesInPerSec": "Bytes/Second",
    "ProduceThrottleTime": "Milliseconds",
    "FetchThrottleTime": "Milliseconds",
    "StorageUsed": "Bytes",
}
_CAMEL = camel_names(BrokerHealth)


def health_metric_names(instance_type: str, monitoring: str = "DEFAULT") -> list[str]:
    """The health metrics a cluster of this broker type and monitoring level publishes."""
    express = catalog.is_express(instance_type)
    skipped = _STANDARD_ONLY if express else _EXPRESS_ONLY
    if monitoring == "DEFAULT":
        skipped = skipped | PER_BROKER_LEVEL
    return [name for name in (*_BROKER_METRICS, *_CLUSTER_METRICS) if name not in skipped]


@dataclass
class HealthProfile:
    """A cluster's health as the emulator keeps it, with how far it has been published."""

    values: ClusterHealth = field(default_factory=ClusterHealth)
    published_until: datetime | None = None  # the last minute written, naive UTC


def _minute(moment: datetime) -> datetime:
    """A minute as moto keeps metric times: naive UTC, seconds dropped."""
    return moment.astimezone(UTC).replace(tzinfo=None, second=0, microsecond=0)


def locate(cluster_arn: str) -> tuple[MskBackend, MskCluster]:
    """The backend and cluster of an ARN, brought up to the emulator's now."""
    parts = cluster_arn.split(":")
    if len(parts) < 6 or parts[2] != "kafka" or not parts[5].startswith("cluster/"):
        raise ValueError(f"{cluster_arn!r} is not an MSK cluster ARN.")
    region, account = parts[3], parts[4]
    backend = kafka_backends[account][region]
    if not isinstance(backend, MskBackend):
        raise TypeError("The MSK emulator is not installed: call install() first.")
    backend.advance_lifecycle()
    cluster = backend.msk_clusters.get(cluster_arn)
    if cluster is None or cluster.state == "DELETING":
        raise ValueError(f"No cluster {cluster_arn} in the emulator.")
    return backend, cluster


def set_cluster_health(
    cluster_arn: str, values: Mapping[str, Any], broker: int | None = None
) -> ClusterHealth:
    """Change a cluster's profile (the defaults for a first one) by ``values`` (ClusterHealth's
    camelCase names), for the whole cluster or, with ``broker``, that broker only; rewrite its
    last 15 minutes; return the whole profile."""
    with emulator_state.lock:
        backend, cluster = locate(cluster_arn)
        if cluster.is_serverless:
            raise ValueError("Serverless clusters publish no broker metrics: they take no profile.")
        if cluster.topics and _CAMEL["partition_count"] in values:
            raise ValueError(
                f"Cluster {cluster.name} has topics: its PartitionCount is the replicas placed on "
                "each broker, not a health value."
            )
        published = cluster.health is not None
        profile = cluster.health or HealthProfile()
        document = msgspec.to_builtins(profile.values)
        if broker is None:
            document.update(values)
        else:
            document["brokers"].setdefault(broker, {}).update(values)
        try:
            health = msgspec.convert(document, ClusterHealth, str_keys=True)
            for override in health.brokers.values():
                msgspec.convert(override, BrokerHealth)  # only per-broker names
        except msgspec.ValidationError as error:
            raise ValueError(f"Bad cluster health: {error}.") from None
        known = {b.broker_id for b in cluster.brokers}
        unknown = sorted(set(health.brokers) - known)
        if unknown:
            raise ValueError(f"Cluster {cluster.name} has no broker {unknown[0]}.")
        profile.values = health
        cluster.health = profile
        now = _minute(emulator_state.clock.now())
        cloudwatch = cloudwatch_backends[backend.account_id][backend.region_name]
        if published:  # a first profile has no points of its own to replace (and the scan of
            # every datum, per cluster, made seeding a large fleet quadratic)
            _drop_since(cloudwatch, cluster, now - WINDOW + MINUTE)
        profile.published_until = None
        _publish(cloudwatch, cluster, profile, now)
        return health


def publish_due() -> None:
    """Write the minutes that passed since the last publication, for every cluster with a
    profile in every account and Region, up to the emulator's now."""
    with emulator_state.lock:
        now = _minute(emulator_state.clock.now())
        for account_backends in list(kafka_backends.values()):
            for backend in list(account_backends.values()):
                if not isinstance(backend, MskBackend):
                    continue
                cloudwatch = cloudwatch_backends[backend.account_id][backend.region_name]
                for cluster in list(backend.msk_clusters.values()):
                    if cluster.health is not None and cluster.state != "DELETING":
                        _publish(cloudwatch, cluster, cluster.health, now)


def _publish(
    cloudwatch: CloudWatchBackend, cluster: MskCluster, profile: HealthProfile, now: datetime
) -> None:
    names = health_metric_names(
        cluster.settings["InstanceType"], cluster.settings["EnhancedMonitoring"]
    )
    data = []
    if profile.published_until is None:
        first = now - WINDOW + MINUTE
    else:
        first = max(profile.published_until + MINUTE, now - BACKFILL_LIMIT + MINUTE)
        # A longer jump of the clock: the hours before the minutes, as the profile had them.
        hour = max(profile.published_until + MINUTE, now - HISTORY_LIMIT)
        while hour < first:
            data += _data_at(cluster, profile.values, names, hour)
            hour += HOUR
    minutes = int((now - first) / MINUTE) + 1
    if minutes <= 0:
        return
    for step in range(minutes):
        data += _data_at(cluster, profile.values, names, first + step * MINUTE)
    for start in range(0, len(data), 1000):
        cloudwatch.put_metric_data(NAMESPACE, data[start : start + 1000])
    profile.published_until = now


def _data_at(
    cluster: MskCluster, health: ClusterHealth, names: list[str], when: datetime
) -> list[dict[str, Any]]:
    cluster_dimension = {"Name": "Cluster Name", "Value": cluster.name}
    data: list[dict[str, Any]] = []

    def datum(name: str, value: float, dimensions: list[dict[str, str]]) -> None:
        item = {"MetricName": name, "Dimensions": dimensions, "Timestamp": when, "Value": value}
        if name in _UNITS:
            item["Unit"] = _UNITS[name]
        data.append(item)

    placed = placement.replica_counts(cluster.all_partitions(), cluster.racks)
    for position, broker in enumerate(cluster.brokers):
        broker_id = {"Name": "Broker ID", "Value": str(broker.broker_id)}
        broker_dimensions = [cluster_dimension, broker_id]
        overrides = health.brokers.get(broker.broker_id, {})
        for name in names:
            if name in _BROKER_METRICS:
                field_name = _BROKER_METRICS[name]
                value = overrides.get(_CAMEL[field_name], getattr(health, field_name))
                if name == "PartitionCount" and cluster.topics:
                    value = placed[broker.broker_id]
                datum(name, float(value), broker_dimensions)
        if "ActiveControllerCount" in names:
            controller = 1.0 if position < health.active_controllers else 0.0
            datum("ActiveControllerCount", controller, [cluster_dimension])
    if "OfflinePartitionsCount" in names:
        datum("OfflinePartitionsCount", float(health.offline_partitions), [cluster_dimension])
    if "StorageUsed" in names:
        stored = sum(t.bytes_per_partition * len(t.partitions) for t in cluster.topics.values())
        datum("StorageUsed", float(stored), [cluster_dimension])
    return data


def _drop_since(cloudwatch: CloudWatchBackend, cluster: MskCluster, start: datetime) -> None:
    """Forget the cluster's health points from ``start`` on: a new profile replaces them."""
    names = set(_BROKER_METRICS) | set(_CLUSTER_METRICS)

    def ours(datum: Any) -> bool:
        when = datum.timestamp
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        return (
            datum.namespace == NAMESPACE
            and datum.name in names
            and when >= start
            and any(d.name == "Cluster Name" and d.value == cluster.name for d in datum.dimensions)
        )

    cloudwatch.metric_data = [datum for datum in cloudwatch.metric_data if not ours(datum)]
