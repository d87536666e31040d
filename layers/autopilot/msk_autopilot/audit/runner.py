"""Running the audit: the engine (`audit`) and the security auditor function's whole run.

`audit` lists the resources of every target (an account and Region: its clusters, and the
account and Region itself), evaluates every control of each resource's subject on it and returns
the report; the command line uses it as it is. `SecurityAuditor` adds what the
Lambda function does around it: targets from settings (member accounts through STS), allowed
remediations, Security Hub findings, the report in S3, an SNS summary when something changed,
and EMF metrics. A failure in one account or Region, or of one check, is reported in the run's
result and never stops the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from botocore.exceptions import BotoCoreError, ClientError

from msk_autopilot import clock, outcome
from msk_autopilot.audit.collect import (
    AuditTarget,
    RegionEvidence,
    RegionInventory,
    counted,
    counting_api_calls,
    describe_error,
    describe_one,
    list_region,
)
from msk_autopilot.audit.controls import (
    CONTROLS,
    AuditedResource,
    Control,
    FindingSeverity,
    Status,
    Subject,
    Verdict,
)
from msk_autopilot.audit.findings import SecurityHubPublisher, asff_finding
from msk_autopilot.audit.remediate import (
    RemediationContext,
    RemediationResult,
    RemediationStatus,
    remediate_cluster,
)
from msk_autopilot.audit.report import (
    AuditReport,
    Change,
    Finding,
    ReportConflict,
    ReportStore,
    ResourceAudit,
    Scope,
    TargetError,
    changes_between,
)
from msk_autopilot.aws import AssumedRole, ClientFactory
from msk_autopilot.events import CloudTrailApiCall, ScheduledEvent
from msk_autopilot.health.gatekeeper import guarded_msk
from msk_autopilot.msk import ClusterSnapshot
from msk_autopilot.notify import Notifier
from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.outcome import Outcome, Severity, plural
from msk_autopilot.runtime import LambdaContext
from msk_autopilot.settings import SecurityAuditorSettings

__all__ = [
    "OUTPUT_PERMISSIONS",
    "AuditRun",
    "Progress",
    "SecurityAuditor",
    "audit",
    "build_security_auditor",
]

# What the function's outputs call, besides the controls' and remediations' permissions.
OUTPUT_PERMISSIONS = (
    "securityhub:BatchImportFindings",
    "securityhub:BatchUpdateFindings",
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",  # without it a missing report reads as AccessDenied, not NoSuchKey
    "sns:Publish",
)
_SAVE_ATTEMPTS = 3
# Remediation results worth a message; a busy cluster or a deferred fix is retried next run
# (a fix a health gate holds is notified by the gatekeeper, once per cluster and gate).
_NOTIFIED_REMEDIATIONS = frozenset(
    {
        RemediationStatus.STARTED,
        RemediationStatus.DRY_RUN,
        RemediationStatus.CONFLICT,
        RemediationStatus.REJECTED,
        RemediationStatus.ERROR,
    }
)
_LISTED_CHANGES = 50  # per list, so an SNS message stays far below its 256 KB limit

type Progress = Callable[[int, int], None]
"""Called with (resources audited, resources found) after each resource."""


class AuditRun(msgspec.Struct, frozen=True):
    report: AuditReport
    scope: Scope
    # What remediation needs: each audited cluster's snapshot and the target it lives in.
    snapshots: dict[str, tuple[ClusterSnapshot, AuditTarget]]


def _evaluate(control: Control, resource: AuditedResource, evidence: RegionEvidence) -> Finding:
    try:
        verdict = control.evaluate(resource.value, evidence)
    except Exception as error:  # noqa: BLE001  one broken check must not stop the audit
        logger.exception("check failed", extra={"control": control.id, "resource": resource.arn})
        verdict = Verdict(
            Status.NOT_AVAILABLE, f"the check failed: {type(error).__name__}: {error}"
        )
    return _finding(control, verdict)


def _finding(control: Control, verdict: Verdict) -> Finding:
    return Finding(
        control=control.id,
        category=control.category,
        status=verdict.status,
        severity=control.severity,
        title=control.title,
        detail=verdict.detail,
        remediation=control.remediation,
    )


def audit(
    targets: Sequence[AuditTarget],
    *,
    opt_in_tag_key: str,
    cluster_arn: str | None = None,
    progress: Progress | None = None,
) -> AuditRun:
    """Audit every resource of `targets` (or only the cluster `cluster_arn`) against the
    controls of its subject."""
    generated_at = clock.now().isoformat(timespec="seconds").replace("+00:00", "Z")
    controls = {
        subject: [c for c in CONTROLS.values() if c.subject is subject] for subject in Subject
    }
    with counting_api_calls() as calls:
        inventories: list[RegionInventory] = []
        errors: list[TargetError] = []
        for target in targets:
            try:
                inventories.append(
                    describe_one(target, cluster_arn) if cluster_arn else list_region(target)
                )
            except (ClientError, BotoCoreError) as error:
                reason = describe_error(error)
                logger.warning(
                    "cannot list clusters",
                    extra={"account": target.account, "region": target.region, "reason": reason},
                )
                errors.append(
                    TargetError(account=target.account, region=target.region, error=reason)
                )
        for inventory in inventories:
            if inventory.connectors_unlisted is not None:
                target = inventory.target
                errors.append(
                    TargetError(
                        account=target.account,
                        region=target.region,
                        error="MSK Connect connectors could not be listed: "
                        + inventory.connectors_unlisted,
                    )
                )
        resources = {
            id(inventory): [r for r in inventory.resources() if controls[r.subject]]
            for inventory in inventories
        }
        total = sum(len(resources[id(i)]) + len(i.unreadable) for i in inventories)
        audits: list[ResourceAudit] = []
        snapshots: dict[str, tuple[ClusterSnapshot, AuditTarget]] = {}
        for inventory in inventories:
            target = inventory.target
            evidence = RegionEvidence(inventory, opt_in_tag_key)
            for resource in resources[id(inventory)]:
                findings = [_evaluate(c, resource, evidence) for c in controls[resource.subject]]
                audits.append(
                    _resource_audit(target, resource.subject, resource.arn, resource.name, findings)
                )
                if isinstance(resource.value, ClusterSnapshot):
                    snapshots[resource.arn] = (resource.value, target)
                if progress:
                    progress(len(audits), total)
            for unreadable in inventory.unreadable:
                verdict = Verdict(Status.NOT_AVAILABLE, unreadable.reason)
                findings = [_finding(control, verdict) for control in controls[Subject.CLUSTER]]
                audits.append(
                    _resource_audit(
                        target, Subject.CLUSTER, unreadable.arn, unreadable.name, findings
                    )
                )
                if progress:
                    progress(len(audits), total)
        report = AuditReport(
            generated_at=generated_at,
            api_calls=sum(calls.values()),
            resources=audits,
            errors=errors,
            api_calls_by_operation=dict(calls),
        )
    scope = Scope(
        targets=frozenset((i.target.account, i.target.region) for i in inventories),
        cluster_arn=cluster_arn,
        connectors_unlisted=frozenset(
            (i.target.account, i.target.region)
            for i in inventories
            if i.connectors_unlisted is not None
        ),
    )
    return AuditRun(report, scope, snapshots)


def _resource_audit(
    target: AuditTarget, subject: Subject, arn: str, name: str, findings: list[Finding]
) -> ResourceAudit:
    return ResourceAudit(
        subject=subject,
        arn=arn,
        name=name,
        region=target.region,
        account=target.account,
        findings=findings,
    )


class _Home(msgspec.Struct, frozen=True):
    """The function's own account and partition, from the ARN it was invoked by."""

    account: str
    partition: str

    @classmethod
    def of(cls, function_arn: str) -> _Home:
        _, partition, _, _, account, *_ = function_arn.split(":")
        return cls(account, partition)


class SecurityAuditor(msgspec.Struct):
    """The security auditor function: a scheduled run, or one for a CloudTrail event."""

    settings: SecurityAuditorSettings
    clients: ClientFactory

    def handle(self, event: ScheduledEvent | CloudTrailApiCall, context: LambdaContext) -> Outcome:
        home = _Home.of(context.invoked_function_arn)
        if isinstance(event, CloudTrailApiCall):
            return self._audit_changed_cluster(event, home)
        return self._audit_everything(home)

    # --- targets -------------------------------------------------------------------------------

    @property
    def regions(self) -> tuple[str, ...]:
        return self.settings.audit_regions or (self.settings.region,)

    def _member_clients(self, account: str, home: _Home) -> ClientFactory:
        role = f"arn:{home.partition}:iam::{account}:role/{self.settings.member_role_name}"
        return self.clients.assume(AssumedRole(role, session_name="msk-autopilot-audit"))

    def _targets(self, home: _Home) -> list[AuditTarget]:
        accounts = [(home.account, self.clients)] + [
            (member, self._member_clients(member, home))
            for member in self.settings.member_accounts
            if member != home.account
        ]
        return [
            AuditTarget(account, region, clients)
            for account, clients in accounts
            for region in self.regions
        ]

    # --- entry points ----------------------------------------------------------------------------

    def _audit_everything(self, home: _Home) -> Outcome:
        return self._run(self._targets(home), cluster_arn=None)

    def _audit_changed_cluster(self, event: CloudTrailApiCall, home: _Home) -> Outcome:
        call = event.detail.event_name
        if not event.succeeded:
            return Outcome(outcome.Status.SKIPPED, f"{call} failed ({event.detail.error_code})")
        cluster_arn = event.cluster_arn
        if cluster_arn is None:
            return Outcome(outcome.Status.SKIPPED, f"the {call} event names no cluster")
        _, _, _, region, account, *_ = cluster_arn.split(":")
        # The cluster ARN comes from the event, which whoever may invoke the function can write:
        # only a cluster the configuration puts in scope is read, reported or changed.
        if region not in self.regions:
            audited = ", ".join(self.regions)
            return Outcome(
                outcome.Status.SKIPPED, f"Region {region} is not audited (audited: {audited})"
            )
        if account == home.account:
            clients = self.clients
        elif account in self.settings.member_accounts:
            clients = self._member_clients(account, home)
        else:
            return Outcome(outcome.Status.SKIPPED, f"account {account} is not audited")
        return self._run([AuditTarget(account, region, clients)], cluster_arn=cluster_arn)

    # --- the run ---------------------------------------------------------------------------------

    def _run(self, targets: Sequence[AuditTarget], cluster_arn: str | None) -> Outcome:
        store = ReportStore(counted(self.clients.client("s3")), self.settings.report_bucket)
        with counting_api_calls() as calls:
            run = audit(
                targets, opt_in_tag_key=self.settings.opt_in_tag_key, cluster_arn=cluster_arn
            )
            remediations = self._remediate(run)
            previous, etag = store.load()
            changes = changes_between(previous, run.report, run.scope)
            hub_failures = self._publish(run, previous, {t.account: t.clients for t in targets})
            self._save(store, run, previous, etag)
            if changes or any(r.status in _NOTIFIED_REMEDIATIONS for r in remediations):
                self._notify(run.report, changes, remediations)
        total_calls = sum(calls.values())
        self._emit_metrics(run.report, remediations, total_calls)
        return self._outcome(run, changes, remediations, hub_failures, total_calls)

    def _remediate(self, run: AuditRun) -> list[RemediationResult]:
        allowed = frozenset(self.settings.remediate_controls)
        if not allowed:
            return []
        context = RemediationContext(broker_log_group=self.settings.broker_log_group)
        notifier = Notifier(
            counted(self.clients.client("sns")), self.settings.notification_topic_arn
        )
        results: list[RemediationResult] = []
        for cluster_audit in run.report.clusters:
            if cluster_audit.arn not in run.snapshots:
                continue  # unreadable: nothing is known well enough to change
            snapshot, target = run.snapshots[cluster_audit.arn]
            results.extend(
                remediate_cluster(
                    snapshot,
                    cluster_audit,
                    allowed=allowed,
                    opt_in_tag_key=self.settings.opt_in_tag_key,
                    # Clusters and metrics in the target's account and Region, deferral
                    # notices in this stack's table.
                    msk=guarded_msk(
                        self.clients,
                        idempotency_table=self.settings.idempotency_table,
                        notifier=notifier,
                        clusters=target,
                    ),
                    context=context,
                    dry_run=self.settings.dry_run,
                )
            )
        for result in results:
            logger.info("remediation", extra=result.to_dict())
        return results

    def _publish(
        self,
        run: AuditRun,
        previous: AuditReport | None,
        clients_of: dict[str, ClientFactory],
    ) -> list[str]:
        """Import the run's findings into Security Hub; returns what failed."""
        report = run.report
        # An account's resource Id is the same in every Region: a finding is keyed by Region too.
        before = {
            (r.region, r.arn, f.control): f.status
            for r, f in (previous.findings() if previous else ())
        }
        by_target: dict[tuple[str, str], tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
        for resource, finding in report.findings():
            asff = asff_finding(resource, finding, observed_at=report.generated_at)
            if asff is None:
                continue
            imports, resolve = by_target.setdefault((resource.account, resource.region), ([], []))
            imports.append(asff)
            if (
                finding.status is Status.PASSED
                and before.get((resource.region, resource.arn, finding.control)) != Status.PASSED
            ):
                resolve.append(asff)
        current = {(resource.region, resource.arn) for resource in report.resources}
        for resource in previous.resources if previous else ():
            if run.scope.covers(resource) and (resource.region, resource.arn) not in current:
                imports, _ = by_target.setdefault((resource.account, resource.region), ([], []))
                for finding in resource.findings:
                    archived = asff_finding(
                        resource, finding, observed_at=report.generated_at, archived=True
                    )
                    if archived is not None:
                        imports.append(archived)
        failures: list[str] = []
        for (account, region), (imports, resolve) in by_target.items():
            securityhub = counted(clients_of[account].client("securityhub", region))
            try:
                result = SecurityHubPublisher(securityhub).publish(imports, resolve)
            except (ClientError, BotoCoreError) as error:
                failures.append(f"{account}/{region}: {describe_error(error)}")
                continue
            failures.extend(result.failed)
            logger.info(
                "findings imported",
                extra={
                    "account": account,
                    "region": region,
                    "imported": result.imported,
                    "resolved": result.resolved,
                    "failed": len(result.failed),
                },
            )
        if failures:
            logger.warning("Security Hub refused findings", extra={"failures": failures[:20]})
        return failures

    def _save(
        self, store: ReportStore, run: AuditRun, previous: AuditReport | None, etag: str | None
    ) -> None:
        for _ in range(_SAVE_ATTEMPTS):
            try:
                store.save(run.report.merged_into(previous, run.scope), etag)
            except ReportConflict:
                previous, etag = store.load()  # another run wrote: merge into its report
            else:
                return
        raise ReportConflict(f"{store.key} changed during {_SAVE_ATTEMPTS} attempts to write it")

    def _notify(
        self,
        report: AuditReport,
        changes: Sequence[Change],
        remediations: Sequence[RemediationResult],
    ) -> None:
        failing = [c for c in changes if c.after is Status.FAILED]
        fixed = [c for c in changes if c.after is Status.PASSED and c.before is not None]
        if any(c.severity.rank >= FindingSeverity.HIGH.rank for c in failing):
            severity = Severity.CRITICAL
        elif failing or any(c.after is Status.NOT_AVAILABLE for c in changes):
            severity = Severity.WARNING
        else:
            severity = Severity.INFO
        started = sum(1 for r in remediations if r.status is RemediationStatus.STARTED)
        subject = (
            f"MSK security audit: {len(failing)} newly failing, {len(fixed)} fixed, "
            f"{plural(started, 'remediation')}"
        )
        Notifier(counted(self.clients.client("sns")), self.settings.notification_topic_arn).publish(
            subject,
            {
                "generated_at": report.generated_at,
                "changes_total": len(changes),
                "changes": [_change_entry(c) for c in changes[:_LISTED_CHANGES]],
                "remediations_total": len(remediations),
                "remediations": [r.to_dict() for r in remediations[:_LISTED_CHANGES]],
                "dry_run": self.settings.dry_run,
                "failed": report.failed_by_severity(),
                "errors": [f"{e.account}/{e.region}: {e.error}" for e in report.errors],
            },
            severity,
        )

    @staticmethod
    def _emit_metrics(
        report: AuditReport, remediations: Sequence[RemediationResult], total_calls: int
    ) -> None:
        for severity, count in report.failed_by_severity().items():
            metrics.add_metric(name=f"AuditFailed.{severity}", unit=MetricUnit.Count, value=count)
        unavailable = sum(1 for _, f in report.findings() if f.status is Status.NOT_AVAILABLE)
        metrics.add_metric(name="AuditNotAvailable", unit=MetricUnit.Count, value=unavailable)
        metrics.add_metric(name="AuditClusters", unit=MetricUnit.Count, value=len(report.clusters))
        metrics.add_metric(name="AuditApiCalls", unit=MetricUnit.Count, value=total_calls)
        metrics.add_metric(
            name="AuditTargetErrors", unit=MetricUnit.Count, value=len(report.errors)
        )
        for status, count in Counter(r.status for r in remediations).items():
            metrics.add_metric(name=f"Remediations.{status}", unit=MetricUnit.Count, value=count)

    def _outcome(
        self,
        run: AuditRun,
        changes: Sequence[Change],
        remediations: Sequence[RemediationResult],
        hub_failures: Sequence[str],
        total_calls: int,
    ) -> Outcome:
        report = run.report
        statuses = Counter(r.status for r in remediations)
        if statuses[RemediationStatus.STARTED]:
            status = outcome.Status.ACTED
        elif statuses[RemediationStatus.DRY_RUN]:
            status = outcome.Status.DRY_RUN
        else:
            status = outcome.Status.UNCHANGED
        failed = report.failed_by_severity()
        if run.scope.cluster_arn is not None and not report.clusters:
            reason = f"{run.scope.cluster_arn} no longer exists; its findings were archived"
        else:
            reason = (
                f"audited {plural(len(report.clusters), 'cluster')}: "
                f"{plural(sum(failed.values()), 'failed finding')}, "
                f"{plural(len(changes), 'change')}, "
                f"{plural(statuses[RemediationStatus.STARTED], 'remediation')} started"
            )
        return Outcome(
            status,
            reason,
            {
                "clusters": len(report.clusters),
                "failed": failed,
                "changes": len(changes),
                "api_calls": report.api_calls,
                "api_calls_total": total_calls,
                "remediations": [r.to_dict() for r in remediations],
                "errors": [f"{e.account}/{e.region}: {e.error}" for e in report.errors],
                "security_hub_failures": list(hub_failures[:20]),
            },
        )


def _change_entry(change: Change) -> dict[str, str | None]:
    return {
        "subject": change.subject.value,
        "name": change.name,
        "arn": change.arn,
        "account": change.account,
        "region": change.region,
        "control": change.control,
        "severity": change.severity.value,
        "before": change.before.value if change.before else None,
        "after": change.after.value if change.after else None,
    }


def build_security_auditor(
    settings: SecurityAuditorSettings, clients: ClientFactory
) -> SecurityAuditor:
    """The auditor; its clients (of every audited account) are created on first use."""
    return SecurityAuditor(settings, clients)
