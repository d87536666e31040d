"""Security audit of MSK clusters: declared controls, efficient collection, Security Hub findings
and guarded remediation. `required_permissions()` lists every IAM action the audit may call, for a
member account's audit role."""

from msk_autopilot.audit.controls import CONTROLS, Control, FindingSeverity, Status
from msk_autopilot.audit.remediate import REMEDIATIONS, Remediation
from msk_autopilot.audit.runner import OUTPUT_PERMISSIONS, audit

__all__ = [
    "CONTROLS",
    "OUTPUT_PERMISSIONS",
    "REMEDIATIONS",
    "Control",
    "FindingSeverity",
    "Remediation",
    "Status",
    "audit",
    "required_permissions",
]


def required_permissions() -> tuple[str, ...]:
    """Every IAM action the auditor may call: controls, remediations and outputs."""
    return tuple(
        sorted(
            {
                *(p for control in CONTROLS.values() for p in control.permissions),
                *(p for remediation in REMEDIATIONS.values() for p in remediation.permissions),
                *OUTPUT_PERMISSIONS,
            }
        )
    )
