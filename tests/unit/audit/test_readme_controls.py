"""README's control table is the registry's: it fails when a control is added, changed or
removed without README following (the message holds the table to paste)."""

import re
from pathlib import Path

from msk_autopilot.audit import CONTROLS, REMEDIATIONS, Control
from msk_autopilot.audit.controls import Subject

README = Path(__file__).resolve().parents[3] / "README.md"
# Prowler's kafka checks (providers/aws/services/kafka) that judge the same setting; the
# comparison below the table says where their verdicts differ.
PROWLER = {
    "MSK.1": "kafka_cluster_in_transit_encryption_enabled",
    "MSK.2": "kafka_cluster_enhanced_monitoring_enabled",
    "MSK.3": "kafka_connector_in_transit_encryption_enabled",
    "MSK.4": "kafka_cluster_is_public",
    "MSK.6": "kafka_cluster_unrestricted_access_disabled",
    "AUTOPILOT.1": "kafka_cluster_in_transit_encryption_enabled",
    "AUTOPILOT.2": "kafka_cluster_encryption_at_rest_uses_cmk",
    "AUTOPILOT.4": "kafka_cluster_uses_latest_version",
    "AUTOPILOT.8": "kafka_cluster_mutual_tls_authentication_enabled",
}
_SUBJECTS = {
    Subject.CONNECTOR: "MSK Connect connector",
    Subject.ACCOUNT_REGION: "account and Region",
}


def _applies_to(control: Control) -> str:
    if control.subject is Subject.CLUSTER:
        return ", ".join(control.kinds)
    return _SUBJECTS[control.subject]


def _order(control_id: str) -> tuple[str, int]:
    prefix, number = control_id.split(".")
    return prefix != "MSK", int(number)


def control_table() -> str:
    rows = [
        "| Control | Title | Severity | Category | Applies to | Security Hub | Prowler "
        "| Auto-fix | Remediation |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for control_id in sorted(CONTROLS, key=_order):
        control = CONTROLS[control_id]
        cells = [
            control.id,
            control.title,
            control.severity.value,
            control.category.value,
            _applies_to(control),
            control.id if control.id.startswith("MSK.") else "-",
            f"`{PROWLER[control.id]}`" if control.id in PROWLER else "-",
            "yes" if control.id in REMEDIATIONS else "no",
            control.remediation.replace("|", "\\|"),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def test_readmes_control_table_is_the_registrys():
    readme = README.read_text()
    found = re.search(r"^\| Control \| Title \|.*?(?=\n\n)", readme, re.MULTILINE | re.DOTALL)
    expected = control_table()
    assert found is not None, f"README has no control table; add:\n\n{expected}"
    assert found.group(0) == expected, (
        f"README's control table differs; it should be:\n\n{expected}"
    )


def test_every_prowler_mapping_names_a_declared_control():
    assert set(PROWLER) <= set(CONTROLS)
