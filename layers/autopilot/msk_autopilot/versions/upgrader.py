"""The version upgrader: read the fleet, plan it (`plan_fleet`), start what the plan says goes now.

Woken by its schedule and by UpdateClusterKafkaVersion calls others make (its own are ignored).
It decides at the event's time, which the health gates read too.

- One run at a time: a `RunLease` in its own namespace, so duplicate or concurrent triggers start
  at most one upgrade; a run that cannot take the lease changes nothing.
- Only clusters tagged `<OPT_IN_TAG_KEY>=true` are planned for an upgrade; the rest are reported
  NOT_OPTED_IN. Bad tag values are reported skips (and notified once a day).
- Every upgrade goes through `MskPort.update(change=KAFKA_VERSION)`: the health gates decide, and
  a deferral is reported with its gate. A dry run plans, asks the gates, and changes nothing.
- Configuration coupling: a configuration's KafkaVersions is fixed when it is created
  (UpdateConfiguration takes only ServerProperties), so no new revision of it can list the next
  hop. The upgrader creates a configuration with the same server.properties whose KafkaVersions
  adds the hop (named from the source configuration, revision and hop, so a later run reuses it),
  and passes it as ConfigurationInfo with UpdateClusterKafkaVersion: one operation, one rolling
  restart, and MSK never sees the new version with a configuration that does not list it.
- A failed upgrade (the latest UPDATE_CLUSTER_KAFKA_VERSION operation UPDATE_FAILED) halts the
  rollout (`plan_fleet`) and is notified once. A pinned cluster whose version's end of support is
  near or past is notified as a risk once a week.
- ZooKeeper to KRaft in place is never started unattended: several documented prerequisites
  can only be confirmed by people (`paths.KRAFT_MIGRATION_PREREQUISITES`), so the run reports
  what is unmet or unknown instead.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

import msgspec

from msk_autopilot import clock
from msk_autopilot.aws import ClientFactory
from msk_autopilot.config.coordination import RunLease
from msk_autopilot.events import CloudTrailApiCall, ScheduledEvent
from msk_autopilot.health.change import ChangeKind
from msk_autopilot.health.gatekeeper import guarded_msk
from msk_autopilot.ledger import NoticeLedger
from msk_autopilot.msk import ClusterSnapshot, ConfigurationChange, MskPort, UpdateStatus
from msk_autopilot.notify import Notifier
from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.outcome import Outcome, Severity, Status, plural
from msk_autopilot.runtime import LambdaContext
from msk_autopilot.settings import VersionUpgraderSettings
from msk_autopilot.versions.catalogue import Catalogue, SupportState, version_key
from msk_autopilot.versions.facts import Fleet, read_fleet
from msk_autopilot.versions.paths import (
    KRAFT_MIGRATION_PREREQUISITES,
    PrerequisiteCheck,
    unmet,
)
from msk_autopilot.versions.plan import Action, ClusterPlan, FleetPlan, RolloutPolicy, plan_fleet

__all__ = [
    "COUPLED_PREFIX",
    "NAMESPACE",
    "UPGRADE_CALL",
    "DecisionTime",
    "UpgraderEvent",
    "VersionUpgrader",
    "build_version_upgrader",
    "coupled_configuration_name",
    "rollout_policy",
]

NAMESPACE = "version-upgrader"
UPGRADE_CALL = "UpdateClusterKafkaVersion"
COUPLED_PREFIX = "msk-autopilot-upgrade-"
_SKIP_WINDOW = timedelta(hours=24)
_RISK_WINDOW = timedelta(days=7)
_ONCE = timedelta(days=365)
_GOING = frozenset({UpdateStatus.STARTED.value, UpdateStatus.DRY_RUN.value})
_NAME_LIMIT = 64  # MSK configuration names
_NOT_NAME = re.compile(r"[^0-9A-Za-z-]+")

type UpgraderEvent = ScheduledEvent | CloudTrailApiCall


class DecisionTime:
    """The run's "now": the event's time, set per run; the health gates read it too."""

    def __init__(self) -> None:
        self.at = clock.now()

    def __call__(self) -> datetime:
        return self.at


def rollout_policy(settings: VersionUpgraderSettings) -> RolloutPolicy:
    return RolloutPolicy(
        soak=timedelta(hours=settings.soak_hours),
        max_concurrent=settings.max_concurrent,
        deadline_margin_days=settings.deadline_margin_days,
    )


def coupled_configuration_name(source_name: str, source_arn: str, revision: int, hop: str) -> str:
    """The configuration that is `source_arn`'s `revision` plus `hop` in its KafkaVersions.

    Deterministic, so a run after a lost answer or a crash finds the one an earlier run made.
    """
    digest = hashlib.sha256(f"{source_arn}#{revision}#{hop}".encode()).hexdigest()[:10]
    base = source_name.removeprefix(COUPLED_PREFIX)
    slug = _NOT_NAME.sub("-", hop)
    room = _NAME_LIMIT - len(COUPLED_PREFIX) - len(slug) - len(digest) - 2
    return f"{COUPLED_PREFIX}{base[:room].strip('-')}-{slug}-{digest}"


class _Started(msgspec.Struct, frozen=True):
    """What became of one cluster the plan said to upgrade now."""

    status: str
    reason: str
    gate: str | None = None
    configuration: str | None = None


class VersionUpgrader(msgspec.Struct):
    msk: MskPort
    notifier: Notifier
    ledger: NoticeLedger
    lease: RunLease
    settings: VersionUpgraderSettings
    decision_time: DecisionTime

    def handle(self, event: UpgraderEvent, context: LambdaContext) -> Outcome:
        ignored = self._ignored(event)
        if ignored is not None:
            return Outcome(Status.SKIPPED, ignored, {"event": event.KIND})
        return self.lease.run_alone(
            lambda: self.run(now=event.time),
            event_kind=event.KIND,
            meanwhile="it sees this trigger's cause too",
        )

    def _ignored(self, event: UpgraderEvent) -> str | None:
        if not isinstance(event, CloudTrailApiCall):
            return None
        detail = event.detail
        if detail.event_name != UPGRADE_CALL:
            return f"{detail.event_name} is not a Kafka version upgrade"
        if not event.succeeded:
            return f"{detail.event_name} failed ({detail.error_code}); nothing changed"
        if event.made_by(self.settings.function_name):
            return f"{detail.event_name} was this function's own call"
        return None

    # --- the run --------------------------------------------------------------------------

    def run(self, *, now: datetime) -> Outcome:
        self.decision_time.at = now
        fleet = read_fleet(
            self.msk, self.settings.catalogue, opt_in_tag_key=self.settings.opt_in_tag_key
        )
        policy = rollout_policy(self.settings)
        first = plan = plan_fleet(fleet.facts, fleet.catalogue, fleet.graph, policy, now)
        reported = {cluster.name: cluster for cluster in plan.clusters}
        results: dict[str, _Started] = {}
        held: set[str] = set()
        # The gates are asked at act time, so a held cluster would keep its turn and stall the
        # clusters behind it: plan again without it (a held canary still holds the rest back).
        # Clusters that started keep their place in the new plan, so it counts them.
        while True:
            due = [
                cluster
                for cluster in plan.clusters
                if cluster.action is Action.UPGRADE_NOW and cluster.name not in results
            ]
            for cluster in due:
                reported[cluster.name] = cluster
                results[cluster.name] = self._upgrade(cluster, fleet)
            newly_held = [c for c in due if results[c.name].status not in _GOING]
            if not newly_held or any(cluster.canary for cluster in newly_held):
                break
            held.update(cluster.arn for cluster in newly_held)
            remaining = [facts for facts in fleet.facts if facts.arn not in held]
            plan = plan_fleet(remaining, fleet.catalogue, fleet.graph, policy, now)
            reported.update(
                (cluster.name, cluster) for cluster in plan.clusters if cluster.name not in results
            )
        self._notify(first, fleet, now)
        return self._outcome(first, reported, results)

    def _upgrade(self, plan: ClusterPlan, fleet: Fleet) -> _Started:
        snapshot = fleet.snapshots[plan.arn]
        hop = plan.next_hop or ""
        if plan.kraft_prerequisites:
            return self._kraft_migration(plan, snapshot)
        parameters: dict[str, Any] = {"TargetKafkaVersion": hop}
        configuration: str | None = None
        if plan.needs_compatible_configuration:
            coupled = self._coupled_configuration(snapshot, hop, fleet.catalogue)
            if coupled.status not in {UpdateStatus.STARTED, UpdateStatus.DRY_RUN}:
                return _Started(coupled.status.value, f"configuration not made: {coupled.reason}")
            configuration = coupled.reason
            if coupled.arn is not None and coupled.revision is not None:
                parameters["ConfigurationInfo"] = {"Arn": coupled.arn, "Revision": coupled.revision}
        result = self.msk.update(
            plan.arn,
            UPGRADE_CALL,
            parameters,
            change=ChangeKind.KAFKA_VERSION,
            reason=plan.reason,
            dry_run=self.settings.dry_run,
        )
        if result.started:
            metrics.add_metric(name="KafkaVersionUpgrades", unit=MetricUnit.Count, value=1)
            self.notifier.publish(
                f"Kafka version upgrade of {plan.name} started: {plan.current} -> {hop}",
                {
                    "cluster": plan.arn,
                    "from": plan.current,
                    "to": hop,
                    "target": plan.target,
                    "path": list(plan.path),
                    "reason": plan.reason,
                    "configuration": configuration,
                    "operation": result.operation_arn,
                },
                Severity.INFO,
            )
        return _Started(result.status.value, result.reason, result.gate, configuration)

    def _coupled_configuration(
        self, snapshot: ClusterSnapshot, hop: str, catalogue: Catalogue
    ) -> ConfigurationChange:
        """The configuration to pass with the upgrade: found (an earlier run's) or created.

        Its KafkaVersions are the source's that MSK still offers, and the hop.
        """
        provisioned = snapshot.provisioned
        software = provisioned.current_broker_software_info if provisioned else None
        if software is None or software.configuration_arn is None:
            raise ValueError(f"{snapshot.cluster_name} has no configuration to make compatible")
        source_arn = software.configuration_arn
        revision = software.configuration_revision or 1
        existing = {c.arn: c for c in self.msk.configurations()}
        source = existing[source_arn]
        name = coupled_configuration_name(source.name, source_arn, revision, hop)
        found = next((c for c in existing.values() if c.name == name), None)
        if found is None:
            properties = self.msk.server_properties(source_arn, revision).decode()
            created = self.msk.create_configuration(
                name,
                properties,
                kafka_versions=sorted(
                    {*filter(catalogue.offered, source.kafka_versions), hop}, key=version_key
                ),
                description=f"msk-autopilot: {source.name} revision {revision} for Kafka {hop}",
                dry_run=self.settings.dry_run,
            )
            if created.status is not UpdateStatus.CONFLICT:
                return msgspec.structs.replace(created, reason=name)
            # A lost answer: the configuration exists, made by this very request.
            found = next((c for c in self.msk.configurations() if c.name == name), None)
            if found is None:
                return created
        return ConfigurationChange(
            UpdateStatus.STARTED, name, found.arn, found.latest_revision.revision
        )

    def _kraft_migration(self, plan: ClusterPlan, snapshot: ClusterSnapshot) -> _Started:
        blocking = unmet(_kraft_checks(plan, snapshot))
        texts = {item.key: item.text for item in KRAFT_MIGRATION_PREREQUISITES}
        listed = "; ".join(
            f"{texts[check.key]} ({'not met' if check.met is False else 'confirm it'})"
            for check in blocking
        )
        reason = (
            f"{plan.current} -> {plan.next_hop} migrates ZooKeeper to KRaft, which is never "
            f"started unattended; prerequisites: {listed}"
        )
        return _Started(UpdateStatus.REJECTED.value, reason)

    # --- notices and the outcome ---------------------------------------------------------

    def _notify(self, plan: FleetPlan, fleet: Fleet, now: datetime) -> None:
        for facts in fleet.facts:
            latest = facts.latest_upgrade
            if latest is None or latest.state != "UPDATE_FAILED" or plan.halted is None:
                continue
            key = f"failed:{facts.arn}:{latest.started.isoformat()}"
            if self.ledger.first(key, now=now, window=_ONCE):
                self.notifier.publish(
                    f"Kafka version upgrade of {facts.name} failed: rollout halted",
                    {"cluster": facts.arn, "version": facts.current_version, "halted": plan.halted},
                    Severity.CRITICAL,
                )
        for cluster in plan.clusters:
            at_risk = cluster.support.state in {
                SupportState.ENDING_SOON,
                SupportState.PAST_END_OF_SUPPORT,
            }
            if cluster.action is Action.PINNED and at_risk:
                key = f"pinned:{cluster.arn}:{cluster.current}:{cluster.support.state.value}"
                subject = f"pinned cluster {cluster.name} at risk: {cluster.support.describe()}"
                self._once(key, subject, cluster, now, _RISK_WINDOW)
            elif cluster.action is Action.SKIPPED:
                key = f"skipped:{cluster.arn}:{cluster.reason}"
                self._once(key, f"Kafka version upgrade of {cluster.name} skipped", cluster, now)

    def _once(
        self,
        key: str,
        subject: str,
        cluster: ClusterPlan,
        now: datetime,
        window: timedelta = _SKIP_WINDOW,
    ) -> None:
        logger.warning(subject, extra={"cluster": cluster.arn, "reason": cluster.reason})
        if self.ledger.first(key, now=now, window=window):
            self.notifier.publish(
                subject,
                {"cluster": cluster.arn, "version": cluster.current, "reason": cluster.reason},
                Severity.WARNING,
            )

    def _outcome(
        self,
        plan: FleetPlan,
        reported: dict[str, ClusterPlan],
        results: dict[str, _Started],
    ) -> Outcome:
        """The run's outcome: each cluster as last planned (in the first plan's order)."""
        clusters: dict[str, Any] = {}
        for cluster in (reported[first.name] for first in plan.clusters):
            entry: dict[str, Any] = {
                "action": cluster.action.value,
                "reason": cluster.reason,
                "current": cluster.current,
                "target": cluster.target,
                "path": list(cluster.path),
                "position": cluster.position,
            }
            if cluster.name in results:
                entry["result"] = msgspec.to_builtins(results[cluster.name])
            clusters[cluster.name] = entry
        details: dict[str, Any] = {"clusters": clusters, "halted": plan.halted}
        if plan.unknown_versions:
            details["unknown_versions"] = list(plan.unknown_versions)
        statuses = {result.status for result in results.values()}
        started = sorted(
            name for name, r in results.items() if r.status == UpdateStatus.STARTED.value
        )
        if started:
            return Outcome(Status.ACTED, f"started the upgrade of {', '.join(started)}", details)
        if UpdateStatus.DRY_RUN.value in statuses:
            names = sorted(results)
            return Outcome(Status.DRY_RUN, f"would upgrade {', '.join(names)}", details)
        if UpdateStatus.DEFERRED.value in statuses:
            held = {name: r.gate for name, r in results.items() if r.gate}
            text = ", ".join(f"{name} ({gate})" for name, gate in sorted(held.items()))
            return Outcome(Status.DEFERRED, f"held by the health gates: {text}", details)
        if plan.halted is not None:
            return Outcome(Status.UNCHANGED, f"rollout halted: {plan.halted}", details)
        waiting = sum(1 for c in plan.clusters if c.position is not None)
        return Outcome(
            Status.UNCHANGED,
            f"{plural(waiting, 'cluster')} with an upgrade left; none may start now",
            details,
        )


def _kraft_checks(plan: ClusterPlan, snapshot: ClusterSnapshot) -> list[PrerequisiteCheck]:
    """What DescribeClusterV2 shows of the migration prerequisites; the rest only people know."""
    group = snapshot.provisioned.broker_node_group_info if snapshot.provisioned else None
    shown: dict[str, bool] = {
        "on_3_9_zookeeper": plan.current.startswith("3.9.") and not plan.current.endswith("kraft"),
        "active_no_pending": snapshot.state == "ACTIVE" and snapshot.active_operation_arn is None,
    }
    if group is not None:
        shown["three_zones"] = len(group.client_subnets) >= 3
        shown["not_t3_small"] = group.instance_type != "kafka.t3.small"
    return [
        PrerequisiteCheck(item.key, shown.get(item.key)) for item in KRAFT_MIGRATION_PREREQUISITES
    ]


def build_version_upgrader(
    settings: VersionUpgraderSettings, clients: ClientFactory
) -> VersionUpgrader:
    dynamodb = clients.client("dynamodb")
    notifier = Notifier(clients.client("sns"), settings.notification_topic_arn)
    decision_time = DecisionTime()
    return VersionUpgrader(
        msk=guarded_msk(
            clients,
            idempotency_table=settings.idempotency_table,
            notifier=notifier,
            clock=decision_time,
        ),
        notifier=notifier,
        ledger=NoticeLedger(dynamodb, settings.idempotency_table, NAMESPACE),
        lease=RunLease(dynamodb, settings.idempotency_table, NAMESPACE),
        settings=settings,
        decision_time=decision_time,
    )
