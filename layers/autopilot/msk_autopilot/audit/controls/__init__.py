"""The audit's controls: the registry (`registry`) and the controls declared in it, by subject.

`registry` holds what all subjects share; `cluster` the MSK cluster controls (with `network`
and `policy`, the rules two of them apply) and the decorators that declare a cluster control.
The controls that read evidence of their own are declared beside it, in the audit package's
evidence modules, which `msk_autopilot.audit` imports (so importing any part of the audit
declares every control): `connectors` (MSK.3 and MSK.5, on MSK Connect connectors),
`durability` (AUTOPILOT.12, topic durability) and `trails` (AUTOPILOT.11 on an account and
Region, AUTOPILOT.13 on clusters with IAM access control). They import this package; it never
imports them, so the collectors (`collect`) may use both.
"""

from msk_autopilot.audit.controls.cluster import (
    CLUSTER_POLICY,
    KAFKA_VERSIONS,
    KMS_KEYS,
    PROVISIONED_KINDS,
    SCALING_POLICIES,
    SCRAM_SECRETS,
    SECURITY_GROUPS,
    ClusterKind,
    cluster_control,
    provisioned_control,
    security_group_ids,
)
from msk_autopilot.audit.controls.registry import (
    CLUSTERS,
    CONTROLS,
    AccountRegion,
    AuditedResource,
    Category,
    Control,
    DataSource,
    DataUnavailable,
    Evidence,
    FindingSeverity,
    IpPermission,
    ScramSecrets,
    Status,
    Subject,
    Verdict,
    declare_control,
)

__all__ = [
    "CLUSTERS",
    "CLUSTER_POLICY",
    "CONTROLS",
    "KAFKA_VERSIONS",
    "KMS_KEYS",
    "PROVISIONED_KINDS",
    "SCALING_POLICIES",
    "SCRAM_SECRETS",
    "SECURITY_GROUPS",
    "AccountRegion",
    "AuditedResource",
    "Category",
    "ClusterKind",
    "Control",
    "DataSource",
    "DataUnavailable",
    "Evidence",
    "FindingSeverity",
    "IpPermission",
    "ScramSecrets",
    "Status",
    "Subject",
    "Verdict",
    "cluster_control",
    "declare_control",
    "provisioned_control",
    "security_group_ids",
]
