"""A long past of broker load: CPU and throughput series per broker, for what reads days of
hourly statistics (the broker policy looks back up to 14 days).

``set_broker_load`` writes one point per ``step`` (an hour by default) from ``since`` ago up to
the health window, for every broker or one, each metric a constant or a series (one value per
step, oldest first), replacing what those brokers had there; then it makes the last values the
cluster's health profile (``health.set_cluster_health``), which writes the last 15 minutes a
point a minute and carries on as the clock moves. 14 days at an hour's step is 336 points per
metric and broker, so a test can afford it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends

from . import catalog, health
from .metrics import NAMESPACE
from .state import emulator_state

__all__ = ["LOAD_METRICS", "set_broker_load"]

# set_broker_load's names -> (CloudWatch metric, ClusterHealth's camelCase field)
LOAD_METRICS = {
    "cpu_user": ("CpuUser", "cpuUser"),
    "cpu_system": ("CpuSystem", "cpuSystem"),
    "bytes_in": ("BytesInPerSec", "bytesInPerSec"),
    "bytes_out": ("BytesOutPerSec", "bytesOutPerSec"),
    "replication_bytes_in": ("ReplicationBytesInPerSec", "replicationBytesInPerSec"),
    "produce_throttle_ms": ("ProduceThrottleTime", "produceThrottleTime"),
    "fetch_throttle_ms": ("FetchThrottleTime", "fetchThrottleTime"),
}
_EXPRESS_ONLY = {"produce_throttle_ms", "fetch_throttle_ms"}
_UNITS = {
    "CpuUser": "Percent",
    "CpuSystem": "Percent",
    "BytesInPerSec": "Bytes/Second",
    "BytesOutPerSec": "Bytes/Second",
    "ReplicationBytesInPerSec": "Bytes/Second",
    "ProduceThrottleTime": "Milliseconds",
    "FetchThrottleTime": "Milliseconds",
}


def _series(name: str, value: float | Sequence[float], steps: int) -> list[float]:
    values = [value] * steps if isinstance(value, int | float) else list(value)
    if len(values) != steps or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in values
    ):
        raise ValueError(
            f"{name} is a number at least 0, or a list of {steps} of them (one per step)."
        )
    return [float(v) for v in values]


def set_broker_load(
    cluster_arn: str,
    *,
    broker: int | None = None,
    since: timedelta = timedelta(days=14),
    step: timedelta = timedelta(hours=1),
    **values: float | Sequence[float],
) -> int:
    """Write the load history (``LOAD_METRICS`` names) of every broker or of ``broker``;
    returns the number of points written before the health window."""
    unknown = sorted(set(values) - set(LOAD_METRICS))
    if unknown or not values:
        raise ValueError(f"Load values are some of {', '.join(LOAD_METRICS)}; not {unknown}.")
    if step < health.MINUTE or since < step or since > health.HISTORY_LIMIT:
        raise ValueError("Need a step of a minute or more, and step <= since <= 15 days.")
    steps = int(since / step)
    series = {name: _series(name, value, steps) for name, value in values.items()}
    with emulator_state.lock:
        backend, cluster = health.locate(cluster_arn)
        if cluster.is_serverless:
            raise ValueError("Serverless clusters publish no broker metrics.")
        express = catalog.is_express(cluster.settings["InstanceType"])
        if not express and set(values) & _EXPRESS_ONLY:
            raise ValueError(
                "Only Express brokers publish ProduceThrottleTime and FetchThrottleTime."
            )
        if cluster.settings["EnhancedMonitoring"] == "DEFAULT" and "replication_bytes_in" in values:
            raise ValueError(
                "ReplicationBytesInPerSec is a PER_BROKER-level metric: this cluster is "
                "monitored at DEFAULT."
            )
        brokers = [b.broker_id for b in cluster.brokers]
        if broker is not None and broker not in brokers:
            raise ValueError(f"Cluster {cluster.name} has no broker {broker}.")
        chosen = brokers if broker is None else [broker]
        now = emulator_state.clock.now().astimezone(UTC).replace(tzinfo=None, microsecond=0)
        start, window = now - since, now - health.WINDOW
        metrics = {LOAD_METRICS[name][0]: points for name, points in series.items()}
        replaced = {(metric, str(broker_id)) for metric in metrics for broker_id in chosen}
        cloudwatch = cloudwatch_backends[backend.account_id][backend.region_name]
        cloudwatch.metric_data = [
            datum
            for datum in cloudwatch.metric_data
            if not _replaced(datum, cluster.name, replaced, start, window)
        ]
        data: list[dict[str, Any]] = []
        for broker_id in chosen:
            dimensions = [
                {"Name": "Cluster Name", "Value": cluster.name},
                {"Name": "Broker ID", "Value": str(broker_id)},
            ]
            for metric, points in metrics.items():
                for index, value in enumerate(points):
                    when = start + index * step
                    if when < window:
                        data.append(
                            {
                                "MetricName": metric,
                                "Dimensions": dimensions,
                                "Timestamp": when,
                                "Value": value,
                                "Unit": _UNITS[metric],
                            }
                        )
        for first in range(0, len(data), 1000):
            cloudwatch.put_metric_data(NAMESPACE, data[first : first + 1000])
        latest = {LOAD_METRICS[name][1]: points[-1] for name, points in series.items()}
        health.set_cluster_health(cluster_arn, latest, broker)
        return len(data)


def _replaced(
    datum: Any, cluster_name: str, series: set[tuple[str, str]], start: datetime, end: datetime
) -> bool:
    """Whether ``datum`` is a point of one of the (metric, broker ID) ``series`` in [start, end)."""
    if datum.namespace != NAMESPACE:
        return False
    when = datum.timestamp
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    if not start <= when < end:
        return False
    dimensions = {d.name: d.value for d in datum.dimensions}
    return (
        dimensions.get("Cluster Name") == cluster_name
        and (datum.name, dimensions.get("Broker ID")) in series
    )
