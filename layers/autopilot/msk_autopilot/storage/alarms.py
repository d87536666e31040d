"""The disk alarms this project owns: one per broker of every opted-in cluster.

Alarm state changes reach the storage scaler through EventBridge, so the alarms need no actions.
Ownership is by name prefix *and* description marker: an alarm that lacks either is never
touched, even when its name happens to start with the prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from msk_autopilot.aws import pages
from msk_autopilot.msk import ClusterSnapshot
from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.storage.metrics import DISK_METRIC, KAFKA_NAMESPACE

__all__ = ["AlarmSettings", "AlarmSync", "DiskAlarms", "cluster_arn_of_alarm"]

_MARKER = "msk-autopilot disk alarm"
_CLUSTER_ARN = re.compile(r"\((arn:aws[a-z-]*:kafka:[^)\s]+)\)")
_DELETE_BATCH = 100  # DeleteAlarms takes at most 100 names


class AlarmSettings(msgspec.Struct, frozen=True):
    prefix: str  # e.g. "msk-autopilot-disk-"; the template's event rule matches on it
    threshold_percent: float
    evaluation_periods: int
    period_seconds: int = 300


class AlarmSync(msgspec.Struct, frozen=True):
    created: list[str] = msgspec.field(default_factory=list)
    updated: list[str] = msgspec.field(default_factory=list)
    deleted: list[str] = msgspec.field(default_factory=list)
    unchanged: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
        }


def cluster_arn_of_alarm(description: str | None) -> str | None:
    """The cluster an alarm of ours watches, from the description it was created with."""
    if not description or not description.startswith(_MARKER):
        return None
    match = _CLUSTER_ARN.search(description)
    return match.group(1) if match else None


class DiskAlarms(msgspec.Struct):
    cloudwatch: Any
    settings: AlarmSettings

    def desired(self, clusters: Iterable[ClusterSnapshot]) -> dict[str, dict[str, Any]]:
        """PutMetricAlarm requests by alarm name, for every broker of every given cluster.

        Express brokers publish no per-broker disk metric, so they get no alarm.
        """
        wanted: dict[str, dict[str, Any]] = {}
        for cluster in clusters:
            if cluster.provisioned is None:
                continue
            if cluster.provisioned.broker_node_group_info.instance_type.startswith("express."):
                continue
            for broker_id in cluster.broker_ids:
                name = f"{self.settings.prefix}{cluster.cluster_name}-broker-{broker_id}"
                wanted[name] = self._request(name, cluster, broker_id)
        return wanted

    def sync(self, clusters: Iterable[ClusterSnapshot], *, dry_run: bool) -> AlarmSync:
        """Create, update and delete our alarms so exactly the desired ones exist."""
        wanted = self.desired(clusters)
        existing = self._existing()
        created: list[str] = []
        updated: list[str] = []
        for name, request in wanted.items():
            current = existing.get(name)
            if current is not None and _matches(current, request):
                continue
            (created if current is None else updated).append(name)
            if not dry_run:
                self.cloudwatch.put_metric_alarm(**request)
        deleted = sorted(set(existing) - set(wanted))
        if not dry_run:
            for start in range(0, len(deleted), _DELETE_BATCH):
                self.cloudwatch.delete_alarms(AlarmNames=deleted[start : start + _DELETE_BATCH])
        unchanged = len(wanted) - len(created) - len(updated)
        sync = AlarmSync(created, updated, deleted, unchanged)
        logger.info(
            "disk alarms synchronised", extra={"dry_run": dry_run, "alarms": sync.to_dict()}
        )
        for action, names in (("Created", sync.created), ("Deleted", sync.deleted)):
            if names:
                metrics.add_metric(name=f"Alarms{action}", unit=MetricUnit.Count, value=len(names))
        return sync

    def _request(self, name: str, cluster: ClusterSnapshot, broker_id: str) -> dict[str, Any]:
        return {
            "AlarmName": name,
            "AlarmDescription": (
                f"{_MARKER}: {DISK_METRIC} of broker {broker_id} of {cluster.cluster_name} "
                f"({cluster.cluster_arn})"
            ),
            "Namespace": KAFKA_NAMESPACE,
            "MetricName": DISK_METRIC,
            "Dimensions": [
                {"Name": "Cluster Name", "Value": cluster.cluster_name},
                {"Name": "Broker ID", "Value": broker_id},
            ],
            "Statistic": "Maximum",
            "Period": self.settings.period_seconds,
            "EvaluationPeriods": self.settings.evaluation_periods,
            "Threshold": self.settings.threshold_percent,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "missing",
            "Tags": [{"Key": "msk-autopilot:cluster-arn", "Value": cluster.cluster_arn}],
        }

    def _existing(self) -> dict[str, Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        listing = pages(
            self.cloudwatch.describe_alarms,
            AlarmNamePrefix=self.settings.prefix,
            AlarmTypes=["MetricAlarm"],
        )
        for page in listing:
            for alarm in page.get("MetricAlarms", []):
                if str(alarm.get("AlarmDescription", "")).startswith(_MARKER):
                    found[alarm["AlarmName"]] = alarm
        return found


def _matches(current: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    keys = (
        "AlarmDescription",
        "Namespace",
        "MetricName",
        "Statistic",
        "Period",
        "EvaluationPeriods",
        "Threshold",
        "ComparisonOperator",
    )
    if any(current.get(key) != request[key] for key in keys):
        return False
    dimensions = {(d["Name"], d["Value"]) for d in current.get("Dimensions", [])}
    return dimensions == {(d["Name"], d["Value"]) for d in request["Dimensions"]}
