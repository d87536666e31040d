"""The audit's controls: the registry (`registry`) and the controls declared in it, by subject.

Importing this package declares every control. `registry` holds what all subjects share;
`cluster` the MSK cluster controls (with `network` and `policy`, the rules two of them apply).
Controls on MSK Connect connectors and on an account and Region are declared the same way, with
`declare_control` and `Subject.CONNECTOR` / `Subject.ACCOUNT_REGION`, in modules of their own
imported here.
"""

from msk_autopilot.audit.controls.cluster import (
    CLUSTER_POLICY,
    KAFKA_VERSIONS,
    KMS_KEYS,
    SCALING_POLICIES,
    SCRAM_SECRETS,
    SECURITY_GROUPS,
    ClusterKind,
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
    "declare_control",
    "security_group_ids",
]
