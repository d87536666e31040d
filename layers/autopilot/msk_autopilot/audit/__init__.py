"""Security audit of MSK clusters: declared controls, efficient collection, Security Hub findings
and guarded remediation. `required_permissions()` lists every IAM action the audit may call, for a
member account's audit role."""

from msk_autopilot.audit.connectors import CONNECTORS
from msk_autopilot.audit.controls import CONTROLS, Control, DataSource, FindingSeverity, Status
from msk_autopilot.audit.durability import TOPICS
from msk_autopilot.audit.remediate import REMEDIATIONS, Remediation
from msk_autopilot.audit.runner import OUTPUT_PERMISSIONS, audit
from msk_autopilot.audit.trails import TRAILS

__all__ = [
    "CONTROLS",
    "EVIDENCE_SOURCES",
    "OUTPUT_PERMISSIONS",
    "REMEDIATIONS",
    "Control",
    "FindingSeverity",
    "Remediation",
    "Status",
    "audit",
    "required_permissions",
]

# What the audit collects beyond the registered controls' sources: topics (durability),
# connectors (MSK.3, MSK.5) and trails (audit logging), declared here so the role grants them.
EVIDENCE_SOURCES: tuple[DataSource, ...] = (TOPICS, CONNECTORS, TRAILS)


def required_permissions() -> tuple[str, ...]:
    """Every IAM action the auditor may call: controls, evidence, remediations and outputs."""
    return tuple(
        sorted(
            {
                *(p for control in CONTROLS.values() for p in control.permissions),
                *(p for remediation in REMEDIATIONS.values() for p in remediation.permissions),
                *(p for source in EVIDENCE_SOURCES for p in source.permissions),
                *OUTPUT_PERMISSIONS,
            }
        )
    )
