"""A halted rollout: which followers' updates to the target revision failed, and rolling each
back to the revision its failed operation started from.

MSK records both ends of a configuration update on the operation (DescribeClusterOperationV2's
Source and TargetClusterInfo), so the revision to go back to is read, never remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec

from msk_autopilot.config.desired import DesiredConfiguration
from msk_autopilot.config.report import (
    ClusterPosition,
    ConfigurationReport,
    RevisionTarget,
    RolloutState,
)
from msk_autopilot.health.change import ChangeKind
from msk_autopilot.msk import ClusterSnapshot, MskPort, Operation
from msk_autopilot.observability import MetricUnit, metrics
from msk_autopilot.outcome import Severity

UPDATE_CONFIGURATION = "UPDATE_CLUSTER_CONFIGURATION"

type ProblemReporter = Callable[..., None]


class Failure(msgspec.Struct, frozen=True):
    """A follower's failed configuration update, from DescribeClusterOperationV2."""

    cluster: ClusterSnapshot
    operation_arn: str
    source: ClusterPosition | None
    error: str


def failed_updates(
    msk: MskPort,
    desired: DesiredConfiguration,
    target: RevisionTarget,
    eligible: Iterable[ClusterSnapshot],
    operations: dict[str, list[Operation]],
) -> list[Failure]:
    """Failed updates to the target revision that ended after the text was last written."""
    failures: list[Failure] = []
    for cluster in eligible:
        for operation in operations[cluster.cluster_arn]:
            if (
                operation.operation_type != UPDATE_CONFIGURATION
                or operation.operation_state != "UPDATE_FAILED"
                or operation.end_time is None
                or operation.end_time <= desired.last_modified
            ):
                continue
            info = msk.operation_info(operation.operation_arn)
            provisioned = info.get("Provisioned", {})
            wanted = ClusterPosition.from_api(
                provisioned.get("TargetClusterInfo", {}).get("ConfigurationInfo")
            )
            if wanted is None or not target.holds(wanted):
                continue
            error = info.get("ErrorInfo", {})
            failures.append(
                Failure(
                    cluster=cluster,
                    operation_arn=operation.operation_arn,
                    source=ClusterPosition.from_api(
                        provisioned.get("SourceClusterInfo", {}).get("ConfigurationInfo")
                    ),
                    error=f"{error.get('ErrorCode', '')}: {error.get('ErrorString', '')}",
                )
            )
    return failures


def halt(
    msk: MskPort,
    desired: DesiredConfiguration,
    target: RevisionTarget,
    failures: list[Failure],
    *,
    operations: dict[str, list[Operation]],
    report: ConfigurationReport,
    problem: ProblemReporter,
    dry_run: bool,
) -> ConfigurationReport:
    """Roll every failed follower back (through the gates) and report the rollout HALTED."""
    metrics.add_metric(name="ConfigRolloutsHalted", unit=MetricUnit.Count, value=1)
    for failure in failures:
        cluster = failure.cluster
        busy = any(op.running for op in operations[cluster.cluster_arn])
        rollback = _roll_back(msk, desired, target, failure, report, busy=busy, dry_run=dry_run)
        report.actions.append(f"rollback of {cluster.cluster_name} {rollback}")
        problem(
            f"rollout of {desired.name} revision {target.revision} halted",
            {
                "cluster": cluster.cluster_arn,
                "failedOperationArn": failure.operation_arn,
                "error": failure.error,
                "rollback": rollback,
                "retry": f"fix the cause, then push {desired.parameter} again",
            },
            key=f"halted:{failure.operation_arn}",
            severity=Severity.CRITICAL,
        )
    names = ", ".join(failure.cluster.cluster_name for failure in failures)
    return report.finish(
        RolloutState.HALTED,
        f"update of {names} to revision {target.revision} failed; "
        f"push {desired.parameter} again to retry",
    )


def _roll_back(
    msk: MskPort,
    desired: DesiredConfiguration,
    target: RevisionTarget,
    failure: Failure,
    report: ConfigurationReport,
    *,
    busy: bool,
    dry_run: bool,
) -> str:
    """What became of one follower's rollback, in words for the report and the notice."""
    if busy:
        return "waits for the running operation"
    if failure.source is None:
        return "impossible: it ran MSK's default configuration, which no update can restore"
    if ClusterPosition.of(failure.cluster) == failure.source:
        return f"not needed: MSK reports {failure.source} again"
    result = msk.update(
        failure.cluster.cluster_arn,
        "UpdateClusterConfiguration",
        {"ConfigurationInfo": failure.source.as_api()},
        change=ChangeKind.CONFIGURATION,
        reason=f"roll back: update to {desired.name} revision {target.revision} "
        f"failed ({failure.error})",
        dry_run=dry_run,
    )
    if result.started:
        report.acted = True
        metrics.add_metric(name="ConfigRollbacks", unit=MetricUnit.Count, value=1)
    return f"to {failure.source}: {result.status} ({result.reason})"
