"""The health monitor: keeps each opted-in cluster's alarms, dashboard and broker-log watch.

A sweep (schedule) keeps every cluster; a CloudTrail event (a cluster created, deleted, tagged or
untagged) keeps the one it names. For an opted-in cluster that is not being deleted it keeps the
recommended alarm set (`health.alarms`), the storage scaler's disk alarms, a dashboard, and where
the brokers deliver logs to CloudWatch Logs the metric filters, their alarms and saved queries
(`health.broker_logs`); for any other cluster it deletes what it kept. It also publishes each
opted-in cluster's operation transitions to EventBridge (`health.operation_events`). While MSK
maintains a cluster (state MAINTENANCE, or a maintenance operation running), the cluster's alarm
actions are disabled and turned back on when it ends, with one notice each way (`NoticeLedger`),
so the restarts MSK makes on purpose page nobody.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import msgspec

from msk_autopilot import clock
from msk_autopilot.aws import ClientFactory
from msk_autopilot.events import CloudTrailApiCall, ScheduledEvent
from msk_autopilot.health.alarms import (
    DISK_ALARM_MARKER,
    HEALTH_ALARM_MARKER,
    AlarmThresholds,
    DiskTrigger,
    cluster_arn_of_alarm,
    cluster_name_of_arn,
    disk_trigger_requests,
    health_alarm_requests,
)
from msk_autopilot.health.broker_logs import (
    log_alarm_requests,
    log_filter_requests,
    log_query_requests,
)
from msk_autopilot.health.dashboard import dashboard_body, dashboard_name
from msk_autopilot.health.gates import MAINTENANCE_OPERATION_TYPES
from msk_autopilot.health.keeping import (
    AlarmKeeper,
    DashboardKeeper,
    LogFilterKeeper,
    QueryKeeper,
    Sync,
)
from msk_autopilot.health.operation_events import OperationEvents, build_operation_events
from msk_autopilot.ledger import NoticeLedger
from msk_autopilot.msk import ClusterNotFoundError, ClusterSnapshot, MskReader, Operation
from msk_autopilot.notify import Notifier
from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.outcome import Outcome, Severity, Status, plural
from msk_autopilot.runtime import LambdaContext
from msk_autopilot.settings import HealthMonitorSettings

__all__ = [
    "CLUSTER_CALLS",
    "HealthMonitor",
    "MonitorEvent",
    "build_health_monitor",
    "in_maintenance",
]

type MonitorEvent = ScheduledEvent | CloudTrailApiCall

# The MSK calls after which a cluster's kept set may change.
CLUSTER_CALLS = frozenset(
    {"CreateCluster", "CreateClusterV2", "DeleteCluster", "TagResource", "UntagResource"}
)
NAMESPACE = "health-monitor"
_REMIND_AFTER = timedelta(days=7)  # a maintenance longer than this is told again


def in_maintenance(cluster: ClusterSnapshot, operations: Sequence[Operation]) -> bool:
    """Standard brokers are patched in state MAINTENANCE; Express stays ACTIVE (BROKER_UPDATE)."""
    return cluster.state == "MAINTENANCE" or any(
        op.running and op.operation_type in MAINTENANCE_OPERATION_TYPES for op in operations
    )


class _Wanted(msgspec.Struct):
    """What one sync should leave in place, by family."""

    health_alarms: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    disk_alarms: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    dashboards: dict[str, str] = msgspec.field(default_factory=dict)
    log_filters: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    log_queries: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    muted: dict[str, ClusterSnapshot] = msgspec.field(default_factory=dict)  # alarm -> cluster
    maintained: list[ClusterSnapshot] = msgspec.field(default_factory=list)
    # Opted-in clusters with the operations just read, for the operation state events.
    observed: list[tuple[ClusterSnapshot, list[Operation]]] = msgspec.field(default_factory=list)


class HealthMonitor(msgspec.Struct):
    msk: MskReader
    health_alarms: AlarmKeeper
    disk_alarms: AlarmKeeper
    dashboards: DashboardKeeper
    log_filters: LogFilterKeeper
    log_queries: QueryKeeper
    operation_events: OperationEvents
    ledger: NoticeLedger
    notifier: Notifier
    settings: HealthMonitorSettings

    def handle(self, event: MonitorEvent, context: LambdaContext) -> Outcome:
        dry_run = self.settings.dry_run
        match event:
            case ScheduledEvent():
                return self.sweep(dry_run=dry_run)
            case CloudTrailApiCall():
                return self._on_call(event, dry_run=dry_run)

    def sweep(self, *, dry_run: bool) -> Outcome:
        """Keep every cluster's set and delete what clusters no longer there left behind."""
        return self.keep(list(self.msk.clusters()), scope=None, dry_run=dry_run)

    def _on_call(self, event: CloudTrailApiCall, *, dry_run: bool) -> Outcome:
        call = event.detail.event_name
        if call not in CLUSTER_CALLS:
            return Outcome(Status.SKIPPED, f"{call} does not change what is kept for a cluster")
        if not event.succeeded:
            return Outcome(Status.SKIPPED, f"{call} failed ({event.detail.error_code})")
        cluster_arn = event.cluster_arn
        if cluster_arn is None:
            return Outcome(Status.SKIPPED, f"the {call} event names no MSK cluster")
        try:
            clusters = [self.msk.cluster(cluster_arn)]
        except ClusterNotFoundError:
            clusters = []  # gone already: what was kept for it goes too
        return self.keep(clusters, scope=cluster_name_of_arn(cluster_arn), dry_run=dry_run)

    # --- keeping -------------------------------------------------------------------------------

    def _managed(self, cluster: ClusterSnapshot) -> bool:
        return cluster.opted_in(self.settings.opt_in_tag_key) and cluster.state != "DELETING"

    def _want(self, clusters: Sequence[ClusterSnapshot]) -> _Wanted:
        settings = self.settings
        prefix, topic = settings.name_prefix, settings.notification_topic_arn
        thresholds = AlarmThresholds(
            cpu_percent=settings.cpu_alarm_percent,
            disk_backstop_percent=settings.disk_backstop_percent,
            heap_percent=settings.heap_alarm_percent,
            connections_per_broker=settings.connection_alarm_count,
            express_throughput_percent=settings.express_throughput_percent,
        )
        trigger = DiskTrigger(
            prefix=settings.disk_alarm_prefix,
            threshold_percent=settings.disk_alarm_threshold_percent,
            evaluation_periods=settings.disk_alarm_evaluation_periods,
        )
        wanted = _Wanted()
        for cluster in clusters:
            if not self._managed(cluster):
                continue
            operations = self.msk.operations(cluster.cluster_arn)
            wanted.observed.append((cluster, operations))
            alarms = health_alarm_requests(cluster, thresholds, prefix=prefix, topic_arn=topic)
            log_group = cluster.broker_log_group
            if log_group is not None:
                alarms |= log_alarm_requests(cluster, prefix=prefix, topic_arn=topic)
                wanted.log_filters |= log_filter_requests(cluster, log_group, prefix=prefix)
                wanted.log_queries |= log_query_requests(cluster, log_group, prefix=prefix)
            wanted.health_alarms |= alarms
            wanted.disk_alarms |= disk_trigger_requests(cluster, trigger)
            wanted.dashboards[dashboard_name(prefix, cluster.cluster_name)] = dashboard_body(
                cluster, thresholds, region=settings.region, log_group=log_group
            )
            if in_maintenance(cluster, operations):
                wanted.maintained.append(cluster)
                wanted.muted |= dict.fromkeys(alarms, cluster)
        return wanted

    def keep(
        self, clusters: Sequence[ClusterSnapshot], *, scope: str | None, dry_run: bool
    ) -> Outcome:
        """Make what is kept for `clusters` (all of them when `scope` is None, else the one
        named `scope`) exactly what they want."""
        wanted = self._want(clusters)
        existing = self.health_alarms.existing(scope)
        enabled = {name: name not in wanted.muted for name in wanted.health_alarms}
        syncs = {
            "alarms": self.health_alarms.sync(
                wanted.health_alarms, existing, actions_enabled=enabled, dry_run=dry_run
            ),
            "disk_alarms": self.disk_alarms.sync(
                wanted.disk_alarms,
                self.disk_alarms.existing(scope),
                actions_enabled={},
                dry_run=dry_run,
            ),
            "dashboards": self.dashboards.sync(wanted.dashboards, scope=scope, dry_run=dry_run),
        }
        # Queries are kept alongside filters: where neither is wanted and no filter of ours is
        # left, no query of ours is either. They go first, so a sync cut short leaves filters
        # behind that tell the next one to look for queries too.
        existing_filters = self.log_filters.existing(scope)
        syncs["log_queries"] = (
            self.log_queries.sync(wanted.log_queries, scope=scope, dry_run=dry_run)
            if wanted.log_queries or existing_filters
            else Sync()
        )
        syncs["log_filters"], missing_groups = self.log_filters.sync(
            wanted.log_filters, existing_filters, dry_run=dry_run
        )
        muting = self._mute(wanted, existing, syncs["alarms"], dry_run=dry_run)
        managed = [c.cluster_name for c in clusters if self._managed(c)]
        details: dict[str, Any] = {
            "seen": len(clusters),
            "kept": sorted(managed),
            **{family: sync.to_dict() for family, sync in syncs.items()},
            **muting,
            "operation_events": self._publish_operations(wanted, dry_run=dry_run),
        }
        if missing_groups:
            details["missing_log_groups"] = missing_groups
        for family, sync in syncs.items():
            for action, names in (("Created", sync.created), ("Deleted", sync.deleted)):
                if names and not dry_run:
                    metrics.add_metric(
                        name=f"{action}.{family}", unit=MetricUnit.Count, value=len(names)
                    )
        changed = any(sync.changed for sync in syncs.values()) or any(muting.values())
        logger.info("health monitor kept", extra={"dry_run": dry_run, **details})
        status = Status.UNCHANGED
        if changed:
            status = Status.DRY_RUN if dry_run else Status.ACTED
        where = "every cluster" if scope is None else f"cluster {scope}"
        reason = f"kept {plural(len(managed), 'opted-in cluster')} ({where})" + _summary(syncs)
        return Outcome(status, reason, details)

    def _publish_operations(self, wanted: _Wanted, *, dry_run: bool) -> dict[str, Any]:
        """One EventBridge event per operation transition of the clusters just read. A dry run
        publishes nothing: it only says how many clusters would have been looked at."""
        if dry_run:
            return {"published": [], "retry": [], "dry_run_clusters": len(wanted.observed)}
        now = clock.now()
        published: list[str] = []
        retry: list[str] = []
        for cluster, operations in wanted.observed:
            report = self.operation_events.publish(cluster, operations, now=now)
            published.extend(t.event_id for t in report.published)
            retry.extend(t.event_id for t in report.retry)
        return {"published": published, "retry": retry}

    # --- maintenance muting --------------------------------------------------------------------

    def _mute(
        self,
        wanted: _Wanted,
        existing: Mapping[str, Mapping[str, Any]],
        alarms: Sync,
        *,
        dry_run: bool,
    ) -> dict[str, list[str]]:
        """Turn alarm actions off for clusters MSK maintains and back on for the others. The
        alarms just written already carry the right ActionsEnabled; they count as muted or
        unmuted all the same, so the notice follows the change."""
        written = set(alarms.created) | set(alarms.updated)
        to_mute: list[str] = []
        to_unmute: dict[str, str] = {}  # alarm -> cluster ARN
        for name, request in wanted.health_alarms.items():
            if name not in existing:
                continue
            actions_on = bool(existing[name].get("ActionsEnabled", True))
            if name in wanted.muted and actions_on:
                to_mute.append(name)
            elif name not in wanted.muted and not actions_on:
                to_unmute[name] = cluster_arn_of_alarm(request["AlarmDescription"]) or ""
        unmuted = {arn: cluster_name_of_arn(arn) for arn in to_unmute.values()}
        muting = {
            "muted": sorted(to_mute),
            "unmuted": sorted(to_unmute),
        }
        if dry_run:
            return muting
        for names, enabled in ((to_mute, False), (list(to_unmute), True)):
            unwritten = sorted(set(names) - written)
            if unwritten:
                self.health_alarms.set_actions(unwritten, enabled=enabled)
        now = clock.now()
        for cluster in wanted.maintained:
            self.ledger.forget([_key(cluster.cluster_arn, "unmuted")])
            if self.ledger.first(_key(cluster.cluster_arn, "muted"), now=now, window=_REMIND_AFTER):
                self.notifier.publish(
                    f"Alarms of {cluster.cluster_name} muted: MSK is maintaining the cluster",
                    {
                        "cluster": cluster.cluster_arn,
                        "alarms": sorted(n for n, c in wanted.muted.items() if c is cluster),
                        "actions": "disabled until the maintenance ends, then enabled again",
                    },
                    Severity.INFO,
                )
        for arn, name in sorted(unmuted.items()):
            self.ledger.forget([_key(arn, "muted")])
            if self.ledger.first(_key(arn, "unmuted"), now=now, window=_REMIND_AFTER):
                self.notifier.publish(
                    f"Alarms of {name} unmuted: MSK's maintenance ended",
                    {
                        "cluster": arn,
                        "alarms": sorted(n for n, a in to_unmute.items() if a == arn),
                        "actions": "enabled again",
                    },
                    Severity.INFO,
                )
        return muting


def _key(cluster_arn: str, notice: str) -> str:
    return f"{cluster_arn}#{notice}"


def _summary(syncs: Mapping[str, Sync]) -> str:
    parts = []
    for family, sync in syncs.items():
        counts = [
            f"{len(names)} {verb}"
            for verb, names in (
                ("created", sync.created),
                ("updated", sync.updated),
                ("deleted", sync.deleted),
            )
            if names
        ]
        if counts:
            parts.append(f"{family.replace('_', ' ')}: {', '.join(counts)}")
    return "; " + "; ".join(parts) if parts else ""


def build_health_monitor(settings: HealthMonitorSettings, clients: ClientFactory) -> HealthMonitor:
    cloudwatch = clients.client("cloudwatch")
    logs = clients.client("logs")
    return HealthMonitor(
        msk=MskReader(clients.client("kafka")),
        health_alarms=AlarmKeeper(cloudwatch, settings.name_prefix, HEALTH_ALARM_MARKER),
        disk_alarms=AlarmKeeper(cloudwatch, settings.disk_alarm_prefix, DISK_ALARM_MARKER),
        dashboards=DashboardKeeper(cloudwatch, settings.name_prefix),
        log_filters=LogFilterKeeper(logs, settings.name_prefix),
        log_queries=QueryKeeper(logs, settings.name_prefix),
        operation_events=build_operation_events(clients, settings.idempotency_table),
        ledger=NoticeLedger(clients.client("dynamodb"), settings.idempotency_table, NAMESPACE),
        notifier=Notifier(clients.client("sns"), settings.notification_topic_arn),
        settings=settings,
    )
