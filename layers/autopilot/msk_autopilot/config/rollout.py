"""Configuration rollout: a level-triggered reconciler of desired server.properties and MSK.

Every run reads the whole truth from AWS and takes at most one step per configuration, so a run
can stop at any point and the next run continues where AWS says things stand:

1. desired text (Parameter Store) -> `properties.validate`; an invalid text changes nothing.
   Then `guardrails`: a text that weakens durability or security is refused (nothing changes)
   unless the parameter's tags allow each weakening; an allowed one is called out in the
   revision's notice and every run's outcome.
2. MSK configuration `msk-autopilot-<name>` whose latest revision holds exactly these properties:
   created, or given one new revision, only when the properties differ (comments, order and
   whitespace do not count), so a revision is never duplicated.
3. followers: clusters tagged `<CONFIG_TAG_KEY>=<name>`, canaries (`msk-autopilot:canary=true`)
   first, then by name. Not opted in, serverless, being deleted, or on a Kafka version the
   configuration does not list: skipped with the reason.
4. one step for the configuration, decided from the followers' ListClusterOperationsV2:
   HALTED   a follower's update to the target revision failed (UPDATE_FAILED) after the desired
            text was last written: that cluster is rolled back to the revision its failed
            operation started from (unless MSK already reports it), a CRITICAL notice goes out,
            and nothing else moves until the configuration is pushed again (`recovery`).
   WAITING  a follower's configuration update is still running (one cluster at a time).
   UPDATING the first follower not on the target revision gets UpdateClusterConfiguration,
            through the guarded `MskPort.update` (PLANNED in dry-run).
   COMPLETE every eligible follower runs the target revision.

Drift: a follower on a configuration msk-autopilot does not manage (changed out of band, or
created with another one) is counted as drift and moved back, or in report-only mode
(`CONFIG_DRIFT_ACTION=report`) only reported. A follower on MSK's default configuration, on an
older revision, or on another msk-autopilot configuration is simply behind and always rolled
forward.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from botocore.exceptions import ClientError

from msk_autopilot.aws import ClientFactory, error_code
from msk_autopilot.clock import now as clock_now
from msk_autopilot.config.coordination import NAMESPACE, RunLease
from msk_autopilot.config.desired import (
    MSK_NAME_PREFIX,
    DesiredConfiguration,
    read_desired,
)
from msk_autopilot.config.recovery import UPDATE_CONFIGURATION, failed_updates, halt
from msk_autopilot.config.report import (
    ClusterPosition,
    ConfigurationReport,
    RevisionTarget,
    RolloutState,
    RunReport,
)
from msk_autopilot.events import CloudTrailApiCall, ParameterStoreChange, ScheduledEvent
from msk_autopilot.health.change import ChangeKind
from msk_autopilot.health.gatekeeper import guarded_msk
from msk_autopilot.ledger import NoticeLedger
from msk_autopilot.msk import (
    ClusterSnapshot,
    Configuration,
    ConfigurationChange,
    MskPort,
    Operation,
    UpdateStatus,
)
from msk_autopilot.notify import Notifier
from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.outcome import Outcome, Severity, Status, plural
from msk_autopilot.runtime import LambdaContext
from msk_autopilot.settings import ConfigRotatorSettings

if TYPE_CHECKING:
    from msk_autopilot.config.properties import ServerProperties

__all__ = [
    "CANARY_TAG_KEY",
    "ClusterPosition",
    "ConfigRotator",
    "ConfigurationReport",
    "ReconcileError",
    "RolloutState",
    "RunReport",
    "build_config_rotator",
]

CANARY_TAG_KEY = "msk-autopilot:canary"
CONFIGURATION_CHANGES = frozenset(
    {"UpdateClusterConfiguration", "CreateClusterV2", "CreateCluster"}
)
_MSK_DEFAULT = "MSK's default configuration"
# A persistent problem (invalid text, drift in report-only mode, a halted rollout) is notified
# once a day; a finished rollout once.
_PROBLEM_WINDOW = timedelta(hours=24)
_ONCE = timedelta(days=365)

type RotatorEvent = ScheduledEvent | ParameterStoreChange | CloudTrailApiCall


class ReconcileError(RuntimeError):
    """Some configurations could not be reconciled; the others were, and the run reports them."""


class ConfigRotator(msgspec.Struct):
    """Reconciles every desired configuration with MSK, one step per configuration per run."""

    ssm: Any
    msk: MskPort
    notifier: Notifier
    ledger: NoticeLedger
    lease: RunLease
    settings: ConfigRotatorSettings
    clock: Callable[[], datetime] = clock_now

    def handle(self, event: RotatorEvent, context: LambdaContext) -> Outcome:
        ignored = self._ignored(event)
        if ignored is not None:
            return Outcome(Status.SKIPPED, ignored, {"event": event.KIND})
        report = self.lease.run_alone(
            self.reconcile,
            event_kind=event.KIND,
            meanwhile="the next scheduled run sees this change",
        )
        if isinstance(report, Outcome):
            return report
        failed = [r for r in report.configurations if r.state is RolloutState.FAILED]
        outcome = report.outcome(dry_run=self.settings.dry_run)
        if failed:
            # The other configurations were reconciled and are in the log; failing the
            # invocation makes the error alarm and Lambda's retries see the broken ones.
            logger.error("reconcile incomplete", extra={"outcome": outcome.to_dict()})
            raise ReconcileError("; ".join(f"{r.name}: {r.reason}" for r in failed))
        return outcome

    def _ignored(self, event: RotatorEvent) -> str | None:
        """Why an event needs no run, or None. Schedules always run."""
        prefix = self.settings.parameter_prefix
        if isinstance(event, ParameterStoreChange) and not event.detail.name.startswith(prefix):
            return f"parameter {event.detail.name} is outside {self.settings.parameter_prefix}"
        if isinstance(event, CloudTrailApiCall):
            detail = event.detail
            if detail.event_name not in CONFIGURATION_CHANGES:
                return f"{detail.event_name} does not change a cluster's configuration"
            if not event.succeeded:
                return f"{detail.event_name} failed ({detail.error_code}); nothing changed"
            if event.made_by(self.settings.function_name):
                return f"{detail.event_name} was this function's own call"
        return None

    # --- the run ------------------------------------------------------------------------

    def reconcile(self) -> RunReport:
        desired, unusable = read_desired(self.ssm, self.settings.parameter_prefix)
        existing = self._msk_configurations()
        report = RunReport(unusable=unusable)
        for parameter in unusable:
            self._problem(
                f"unusable configuration parameter {parameter.parameter}",
                {"parameter": parameter.parameter, "reason": parameter.reason},
                key=f"unusable:{parameter.parameter}:{parameter.reason}",
            )
        followers = self._followers({configuration.name for configuration in desired}, report)
        for configuration in desired:
            try:
                result = self._reconcile(
                    configuration,
                    followers.get(configuration.name, []),
                    existing.get(configuration.msk_name),
                )
            except Exception as error:  # noqa: BLE001  one configuration must not stop the others
                logger.exception(
                    "configuration failed", extra={"configuration": configuration.name}
                )
                result = ConfigurationReport(configuration.name).finish(
                    RolloutState.FAILED, f"{type(error).__name__}: {error}"
                )
            logger.info(
                "configuration reconciled",
                extra={"configuration": configuration.name, **result.to_dict()},
            )
            report.configurations.append(result)
        return report

    def _followers(self, known: set[str], report: RunReport) -> dict[str, list[ClusterSnapshot]]:
        """Clusters by the configuration their tag names; the others go into the report."""
        tag_key = self.settings.configuration_tag_key
        followers: dict[str, list[ClusterSnapshot]] = defaultdict(list)
        for cluster in self.msk.clusters():
            name = cluster.tags.get(tag_key)
            if name in known:
                followers[name].append(cluster)
            elif name is not None:
                reason = f"follows {name!r}, which is not under {self.settings.parameter_prefix}"
                report.not_following[cluster.cluster_name] = reason
                self._problem(
                    f"{cluster.cluster_name} follows an unknown configuration",
                    {"cluster": cluster.cluster_arn, "configuration": name, "reason": reason},
                    key=f"unknown:{cluster.cluster_arn}:{name}",
                )
            elif cluster.opted_in(self.settings.opt_in_tag_key):
                report.not_following[cluster.cluster_name] = (
                    f"has no {tag_key} tag; follows nothing"
                )
        return followers

    def _msk_configurations(self) -> dict[str, Configuration]:
        return {
            configuration.name: configuration
            for configuration in self.msk.configurations()
            if configuration.name.startswith(MSK_NAME_PREFIX)
        }

    def _reconcile(
        self,
        desired: DesiredConfiguration,
        followers: list[ClusterSnapshot],
        existing: Configuration | None,
    ) -> ConfigurationReport:
        report = ConfigurationReport(desired.name)
        # Parsing and the property catalogue load only when a configuration exists.
        from msk_autopilot.config.properties import validate  # noqa: PLC0415

        checked = validate(desired.text)
        if not checked.valid:
            report.problems = [problem.located(desired.parameter) for problem in checked.problems]
            metrics.add_metric(name="ConfigInvalid", unit=MetricUnit.Count, value=1)
            self._problem(
                f"configuration {desired.name} is invalid; nothing applied",
                {"parameter": desired.parameter, "problems": report.problems},
                key=f"invalid:{desired.parameter}:{_digest(desired.text)}",
            )
            return report.finish(
                RolloutState.INVALID, f"{plural(len(report.problems), 'problem')}; nothing applied"
            )
        if not self._within_guardrails(desired, checked.properties, followers, report):
            return report
        target = self._ensure_revision(desired, checked.properties, existing, report)
        if target is None:
            return report
        report.configuration_arn, report.revision = target.arn, target.revision
        ordered = sorted(
            followers,
            key=lambda c: (c.tags.get(CANARY_TAG_KEY) != "true", c.cluster_name),
        )
        report.order = [cluster.cluster_name for cluster in ordered]
        eligible = [c for c in ordered if self._eligible(c, target, report)]
        return self._step(desired, target, eligible, report)

    def _within_guardrails(
        self,
        desired: DesiredConfiguration,
        wanted: ServerProperties,
        followers: list[ClusterSnapshot],
        report: ConfigurationReport,
    ) -> bool:
        """Whether the text may be applied; records overrides, or refuses and notifies."""
        from msk_autopilot.config import guardrails  # noqa: PLC0415

        zones = [
            len(set(c.provisioned.broker_node_group_info.client_subnets))
            for c in followers
            if c.provisioned is not None
        ]
        found = guardrails.weakenings(wanted, availability_zones=max(zones, default=None))
        if not found:  # the usual case costs no call: tags are read only when needed
            return True
        refused, overridden = guardrails.judge(
            found, guardrails.read_overrides(self.ssm, desired.parameter)
        )
        report.guardrail_overrides = [
            f"{weakening} allowed by tag {weakening.override_tag}" for weakening in overridden
        ]
        if not refused:
            return True
        report.problems = [
            f"{desired.parameter}:{weakening.line}: {weakening.refusal()}" for weakening in refused
        ]
        metrics.add_metric(name="ConfigRefused", unit=MetricUnit.Count, value=1)
        self._problem(
            f"configuration {desired.name} weakens durability or security; nothing applied",
            {"parameter": desired.parameter, "problems": report.problems},
            key=f"guardrail:{desired.parameter}:{_digest(desired.text)}",
        )
        report.finish(
            RolloutState.REFUSED,
            f"{plural(len(refused), 'guardrail')} refused without an override; nothing applied",
        )
        return False

    # --- step 2: the MSK configuration and its revision ----------------------------------------

    def _ensure_revision(
        self,
        desired: DesiredConfiguration,
        wanted: ServerProperties,
        existing: Configuration | None,
        report: ConfigurationReport,
    ) -> RevisionTarget | None:
        """The revision followers should run, created when missing; None when blocked."""
        if existing is None:
            return self._create(desired, wanted, report)
        problem: str | None = None
        if existing.state != "ACTIVE":
            problem = f"{existing.name} is {existing.state}"
        elif sorted(existing.kafka_versions) != sorted(wanted.kafka_versions):
            problem = (
                f"the text lists Kafka versions [{', '.join(wanted.kafka_versions)}] but "
                f"{existing.name} was created for [{', '.join(existing.kafka_versions)}]; MSK "
                "cannot change a configuration's versions: use a new configuration name"
            )
        if problem is not None:
            report.finish(RolloutState.BLOCKED, problem)
            self._problem(
                f"configuration {desired.name} is blocked",
                {"parameter": desired.parameter, "reason": problem},
                key=f"blocked:{existing.arn}:{problem}",
            )
            return None
        versions = tuple(existing.kafka_versions)
        latest = existing.latest_revision.revision
        stored = self.msk.server_properties(existing.arn, latest)
        from msk_autopilot.config.properties import decode_revision, diff  # noqa: PLC0415

        current = decode_revision(stored).as_dict()
        if current == wanted.as_dict():
            return RevisionTarget(existing.arn, latest, versions)
        changes = diff(current, wanted.as_dict()).summary()
        change = self.msk.add_configuration_revision(
            existing.arn,
            wanted.render(),
            description=_description(desired),
            dry_run=self.settings.dry_run,
        )
        if change.status is UpdateStatus.DRY_RUN:
            report.actions.append(f"would add {existing.name} revision {latest + 1}: {changes}")
            return RevisionTarget(existing.arn, latest + 1, versions)
        if change.revision is None:  # MSK refused it
            self._refused(report, "UpdateConfiguration", change)
            return None
        self._revision_created(report, desired, existing.arn, change.revision, changes)
        return RevisionTarget(existing.arn, change.revision, versions)

    def _create(
        self, desired: DesiredConfiguration, wanted: ServerProperties, report: ConfigurationReport
    ) -> RevisionTarget | None:
        change = self.msk.create_configuration(
            desired.msk_name,
            wanted.render(),
            kafka_versions=wanted.kafka_versions,
            description=_description(desired),
            dry_run=self.settings.dry_run,
        )
        if change.status is UpdateStatus.DRY_RUN:
            report.actions.append(f"would create {desired.msk_name} revision 1")
            return RevisionTarget(None, 1, wanted.kafka_versions)
        if change.arn is None or change.revision is None:  # MSK refused it
            self._refused(report, "CreateConfiguration", change)
            return None
        added = [f"+ {key}={value}" for key, value in wanted.as_dict().items()]
        self._revision_created(report, desired, change.arn, change.revision, added)
        return RevisionTarget(change.arn, change.revision, wanted.kafka_versions)

    def _revision_created(
        self,
        report: ConfigurationReport,
        desired: DesiredConfiguration,
        arn: str,
        revision: int,
        changes: list[str],
    ) -> None:
        report.acted = True
        report.actions.append(f"created {desired.msk_name} revision {revision}")
        metrics.add_metric(name="ConfigRevisionsCreated", unit=MetricUnit.Count, value=1)
        details: dict[str, Any] = {
            "configurationArn": arn,
            "revision": revision,
            "parameter": desired.parameter,
            "changes": changes,
        }
        subject = f"{desired.msk_name} revision {revision} created"
        severity = Severity.INFO
        if report.guardrail_overrides:
            # An override weakens durability or security on purpose: make sure a human sees it.
            subject += " WITH GUARDRAIL OVERRIDES"
            details["guardrailOverrides"] = report.guardrail_overrides
            severity = Severity.WARNING
        self.notifier.publish(subject, details, severity)

    def _refused(self, report: ConfigurationReport, call: str, change: ConfigurationChange) -> None:
        report.finish(RolloutState.BLOCKED, f"MSK refused {call}: {change.reason}")
        self._problem(
            f"configuration {report.name} is blocked",
            {"reason": report.reason},
            key=f"refused:{report.name}:{call}:{change.reason}",
        )

    # --- step 3: followers --------------------------------------------------------------------

    def _eligible(
        self, cluster: ClusterSnapshot, target: RevisionTarget, report: ConfigurationReport
    ) -> bool:
        name = cluster.cluster_name
        reason: str | None = None
        version = (
            cluster.provisioned.current_broker_software_info.kafka_version
            if cluster.provisioned
            else None
        )
        if cluster.state == "DELETING":
            reason = "is being deleted"
        elif not cluster.opted_in(self.settings.opt_in_tag_key):
            reason = f"is not opted in (tag {self.settings.opt_in_tag_key}=true)"
        elif cluster.provisioned is None:
            reason = "is serverless; serverless clusters take no configuration"
        elif target.kafka_versions and version not in target.kafka_versions:
            reason = (
                f"runs Apache Kafka {version}; the configuration lists "
                f"{', '.join(target.kafka_versions)}"
            )
        if reason is None:
            position = ClusterPosition.of(cluster)
            # MSK's default configuration is adopted, not drift: nobody chose another one.
            if position is None or position.managed or target.holds(position):
                return True
            report.drifted.append(name)
            metrics.add_metric(name="ConfigDriftFound", unit=MetricUnit.Count, value=1)
            if self.settings.drift_action == "repair":
                return True
            reason = f"drifted to {position}; report-only mode"
            self._problem(
                f"{name} drifted from configuration {report.name}",
                {"cluster": cluster.cluster_arn, "runs": str(position)},
                key=f"drift:{cluster.cluster_arn}:{position}",
            )
        report.skipped[name] = reason
        logger.info("cluster skipped", extra={"cluster": name, "reason": reason})
        return False

    # --- step 4: one step ------------------------------------------------------------------

    def _step(
        self,
        desired: DesiredConfiguration,
        target: RevisionTarget,
        eligible: list[ClusterSnapshot],
        report: ConfigurationReport,
    ) -> ConfigurationReport:
        if target.arn is not None:
            operations = self._operations(eligible, report)
            eligible = [c for c in eligible if c.cluster_arn in operations]
            failures = failed_updates(self.msk, desired, target, eligible, operations)
            if failures:
                return halt(
                    self.msk,
                    desired,
                    target,
                    failures,
                    operations=operations,
                    report=report,
                    problem=self._problem,
                    dry_run=self.settings.dry_run,
                )
            running = [
                c.cluster_name
                for c in eligible
                if any(
                    op.running and op.operation_type == UPDATE_CONFIGURATION
                    for op in operations[c.cluster_arn]
                )
            ]
            if running:
                return report.finish(
                    RolloutState.WAITING,
                    f"waiting for the configuration update of {', '.join(running)}",
                )
        for cluster in eligible:
            if not target.holds(ClusterPosition.of(cluster)):
                stepped = self._advance(desired, target, cluster, report)
                if stepped is not None:
                    return stepped
        if report.actions and self.settings.dry_run:
            return report.finish(RolloutState.PLANNED, "dry run")
        running_it = [c.cluster_name for c in eligible if c.cluster_name not in report.skipped]
        if (
            target.arn is not None
            and running_it
            and self.ledger.first(
                f"complete:{target.arn}:{target.revision}", now=self.clock(), window=_ONCE
            )
        ):
            self.notifier.publish(
                f"{desired.name} revision {target.revision} runs on every eligible cluster",
                {
                    "configurationArn": target.arn,
                    "clusters": running_it,
                    "skipped": report.skipped,
                },
                Severity.INFO,
            )
        return report.finish(
            RolloutState.COMPLETE,
            f"revision {target.revision} runs on {plural(len(running_it), 'cluster')}",
        )

    def _operations(
        self, eligible: list[ClusterSnapshot], report: ConfigurationReport
    ) -> dict[str, list[Operation]]:
        """Each follower's operations; a follower deleted since it was listed is skipped."""
        found: dict[str, list[Operation]] = {}
        for cluster in eligible:
            try:
                found[cluster.cluster_arn] = self.msk.operations(cluster.cluster_arn)
            except ClientError as error:
                if error_code(error) != "NotFoundException":
                    raise
                report.skipped[cluster.cluster_name] = "was deleted"
        return found

    def _advance(
        self,
        desired: DesiredConfiguration,
        target: RevisionTarget,
        cluster: ClusterSnapshot,
        report: ConfigurationReport,
    ) -> ConfigurationReport | None:
        """Move one cluster to the target; None when the rollout may go on to the next."""
        position = ClusterPosition.of(cluster)
        name = cluster.cluster_name
        purpose = "repair drift" if name in report.drifted else "roll out"
        result = self.msk.update(
            cluster.cluster_arn,
            "UpdateClusterConfiguration",
            {"ConfigurationInfo": target.as_api()},
            change=ChangeKind.CONFIGURATION,
            reason=f"{purpose}: {desired.name} revision {target.revision} "
            f"(was {position or _MSK_DEFAULT})",
            dry_run=self.settings.dry_run,
        )
        match result.status:
            case UpdateStatus.STARTED:
                report.acted = True
                report.actions.append(f"started update of {name} to revision {target.revision}")
                metrics.add_metric(name="ConfigClustersUpdated", unit=MetricUnit.Count, value=1)
                self.notifier.publish(
                    f"{name}: {desired.name} revision {target.revision}",
                    {
                        "cluster": cluster.cluster_arn,
                        "purpose": purpose,
                        "from": str(position or _MSK_DEFAULT),
                        "configurationArn": target.arn,
                        "revision": target.revision,
                        "operationArn": result.operation_arn,
                    },
                    Severity.INFO,
                )
                return report.finish(RolloutState.UPDATING, f"updating {name}")
            case UpdateStatus.DRY_RUN:
                report.actions.append(
                    f"would update {name} to revision {target.revision} ({purpose})"
                )
                return report.finish(RolloutState.PLANNED, "dry run")
            case UpdateStatus.NOT_FOUND:
                report.skipped[name] = "was deleted"
                return None
            case UpdateStatus.NOT_READY | UpdateStatus.CONFLICT | UpdateStatus.DEFERRED:
                return report.finish(RolloutState.WAITING, f"{name}: {result.reason}")
            case UpdateStatus.REJECTED:
                report.finish(
                    RolloutState.BLOCKED, f"MSK refused to update {name}: {result.reason}"
                )
                self._problem(
                    f"rollout of {desired.name} is blocked",
                    {"cluster": cluster.cluster_arn, "reason": result.reason},
                    key=f"rejected:{cluster.cluster_arn}:{target.arn}:{target.revision}",
                )
                return report

    def _problem(
        self,
        subject: str,
        details: dict[str, Any],
        *,
        key: str,
        severity: Severity = Severity.WARNING,
    ) -> None:
        """Log a problem every run; notify it once per window."""
        logger.warning(subject, extra=details)
        if self.ledger.first(key, now=self.clock(), window=_PROBLEM_WINDOW):
            self.notifier.publish(subject, details, severity)


def _description(desired: DesiredConfiguration) -> str:
    return f"msk-autopilot: {desired.parameter} version {desired.version}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_config_rotator(settings: ConfigRotatorSettings, clients: ClientFactory) -> ConfigRotator:
    dynamodb = clients.client("dynamodb")
    notifier = Notifier(clients.client("sns"), settings.notification_topic_arn)
    return ConfigRotator(
        ssm=clients.client("ssm"),
        msk=guarded_msk(clients, idempotency_table=settings.idempotency_table, notifier=notifier),
        notifier=notifier,
        ledger=NoticeLedger(dynamodb, settings.idempotency_table, NAMESPACE),
        lease=RunLease(dynamodb, settings.idempotency_table),
        settings=settings,
    )
