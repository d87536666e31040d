"""Remediations: the failed controls the auditor may fix in place, each one declared unit.

A remediation names the control it fixes, the MSK action it calls, the IAM permissions that
takes and how to build the request. Every call goes through `MskPort.update`, which re-reads the
cluster, refuses unless it is ACTIVE with no operation running, asks the health gates (a
remediation restarts brokers, so it is a rolling change: under-replication, a hot CPU or missing
metrics hold it), passes the CurrentVersion it read and honours dry-run. Only clusters tagged
`<opt-in tag>=true` are ever changed, and only controls on the configured allow-list.

Not every control can be fixed in place: MSK cannot change in-cluster encryption (MSK.1), the
at-rest key (AUTOPILOT.2) or the Availability Zones (AUTOPILOT.10) of an existing cluster, and
the other failures need a human's decision (who may connect, which key, which version).

An MSK update is an operation during which the cluster accepts no other, so a run fixes at most
one control per cluster, the most severe first; the others are reported as deferred and fixed by
a later run, once the cluster is ACTIVE again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

import msgspec
from botocore.exceptions import BotoCoreError, ClientError

from msk_autopilot.audit.collect import describe_error
from msk_autopilot.audit.controls import CONTROLS, Status
from msk_autopilot.audit.report import ResourceAudit
from msk_autopilot.health.change import ChangeKind
from msk_autopilot.msk import ClusterSnapshot, MskPort, UpdateStatus

__all__ = [
    "GUARD_PERMISSIONS",
    "REMEDIATIONS",
    "Remediation",
    "RemediationContext",
    "RemediationResult",
    "RemediationStatus",
    "remediate_cluster",
]

# MskPort.update reads the cluster and its operations, and the health gates their metrics,
# before changing anything; a gate's deferral notice is remembered in the idempotency table.
GUARD_PERMISSIONS = (
    "kafka:DescribeClusterV2",
    "kafka:ListClusterOperationsV2",
    "cloudwatch:GetMetricData",
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
)


class RemediationStatus(StrEnum):
    """What became of a remediation: the MSK update's status, deferred, or an error."""

    STARTED = UpdateStatus.STARTED.value
    DRY_RUN = UpdateStatus.DRY_RUN.value
    NOT_READY = UpdateStatus.NOT_READY.value
    CONFLICT = UpdateStatus.CONFLICT.value
    REJECTED = UpdateStatus.REJECTED.value
    NOT_FOUND = UpdateStatus.NOT_FOUND.value
    DEFERRED = "deferred"  # another fix of the same cluster goes first
    HELD_BY_GATE = "held_by_gate"  # a health gate holds it (the reason names the gate)
    ERROR = "error"  # the call failed beyond retries (access denied, throttled...)

    @classmethod
    def of(cls, status: UpdateStatus) -> RemediationStatus:
        if status is UpdateStatus.DEFERRED:
            return cls.HELD_BY_GATE
        return cls(status.value)


class RemediationContext(msgspec.Struct, frozen=True):
    """Deployment choices remediations need."""

    broker_log_group: str  # CloudWatch Logs group for broker logs (AUTOPILOT.3)


class Remediation(msgspec.Struct, frozen=True):
    control: str
    action: str  # the kafka API action, called through MskPort.update
    extra_permissions: tuple[str, ...]
    request: Callable[[ClusterSnapshot, RemediationContext], dict[str, Any]]
    summary: str

    @property
    def permissions(self) -> tuple[str, ...]:
        return tuple(sorted({f"kafka:{self.action}", *GUARD_PERMISSIONS, *self.extra_permissions}))


def _enhanced_monitoring(cluster: ClusterSnapshot, context: RemediationContext) -> dict[str, Any]:
    return {"EnhancedMonitoring": "PER_TOPIC_PER_BROKER"}


def _broker_logs(cluster: ClusterSnapshot, context: RemediationContext) -> dict[str, Any]:
    current = cluster.provisioned.enhanced_monitoring if cluster.provisioned else "DEFAULT"
    return {
        # Sent unchanged, so the call cannot be read as resetting the monitoring level.
        "EnhancedMonitoring": current,
        "LoggingInfo": {
            "BrokerLogs": {
                "CloudWatchLogs": {"Enabled": True, "LogGroup": context.broker_log_group}
            }
        },
    }


def _client_tls(cluster: ClusterSnapshot, context: RemediationContext) -> dict[str, Any]:
    return {"EncryptionInfo": {"EncryptionInTransit": {"ClientBroker": "TLS"}}}


def _private_access(cluster: ClusterSnapshot, context: RemediationContext) -> dict[str, Any]:
    return {"ConnectivityInfo": {"PublicAccess": {"Type": "DISABLED"}}}


REMEDIATIONS: dict[str, Remediation] = {
    remediation.control: remediation
    for remediation in (
        Remediation(
            "MSK.2",
            "UpdateMonitoring",
            (),
            _enhanced_monitoring,
            "set enhanced monitoring to PER_TOPIC_PER_BROKER",
        ),
        Remediation(
            "AUTOPILOT.3",
            "UpdateMonitoring",
            # CloudWatch Logs vended-log delivery, which MSK sets up as the caller.
            (
                "logs:CreateLogDelivery",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ),
            _broker_logs,
            "deliver broker logs to CloudWatch Logs",
        ),
        Remediation(
            "AUTOPILOT.1",
            "UpdateSecurity",
            (),
            _client_tls,
            "accept TLS-encrypted client traffic only",
        ),
        Remediation(
            "MSK.4",
            "UpdateConnectivity",
            (),
            _private_access,
            "turn public access off",
        ),
    )
}


class RemediationResult(msgspec.Struct, frozen=True):
    cluster_arn: str
    cluster_name: str
    control: str
    status: RemediationStatus
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {
            "cluster_arn": self.cluster_arn,
            "cluster_name": self.cluster_name,
            "control": self.control,
            "status": self.status.value,
            "reason": self.reason,
        }


def remediate_cluster(
    cluster: ClusterSnapshot,
    audit: ResourceAudit,
    *,
    allowed: frozenset[str],
    opt_in_tag_key: str,
    msk: MskPort,
    context: RemediationContext,
    dry_run: bool,
) -> Sequence[RemediationResult]:
    """Fix the most severe allowed failure of an opted-in cluster; defer the others."""
    if not cluster.opted_in(opt_in_tag_key):
        return []
    fixable = sorted(
        (
            REMEDIATIONS[f.control]
            for f in audit.findings
            if f.status is Status.FAILED and f.control in allowed and f.control in REMEDIATIONS
        ),
        key=lambda r: CONTROLS[r.control].severity.rank,
        reverse=True,
    )
    if not fixable:
        return []
    first, later = fixable[0], fixable[1:]
    reason = f"{first.control}: {first.summary}"
    if cluster.state != "ACTIVE":
        status, detail = RemediationStatus.NOT_READY, f"cluster is {cluster.state}, not ACTIVE"
    else:
        try:
            result = msk.update(
                cluster.cluster_arn,
                first.action,
                first.request(cluster, context),
                change=ChangeKind.REMEDIATION,
                reason=reason,
                dry_run=dry_run,
            )
        except (ClientError, BotoCoreError) as error:  # one cluster's failure stops no other
            status, detail = RemediationStatus.ERROR, describe_error(error)
        else:
            status, detail = RemediationStatus.of(result.status), result.reason
    results = [
        RemediationResult(cluster.cluster_arn, cluster.cluster_name, first.control, status, detail)
    ]
    results.extend(
        RemediationResult(
            cluster.cluster_arn,
            cluster.cluster_name,
            remediation.control,
            RemediationStatus.DEFERRED,
            f"one change at a time: {first.control} goes first",
        )
        for remediation in later
    )
    return results
