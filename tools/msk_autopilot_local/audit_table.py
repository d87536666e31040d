"""The audit report as the table `msk-autopilot audit` prints: the FAILED and NOT_AVAILABLE
findings, most severe first, then the counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from msk_autopilot.audit.report import AuditReport

__all__ = ["findings_table"]


def findings_table(report: AuditReport) -> str:
    from msk_autopilot.audit.controls import FindingSeverity, Status  # noqa: PLC0415

    rows = [
        (
            r.name,
            r.account,
            r.region,
            f.control,
            f.category.value,
            f.severity.value,
            f.status.value,
            f.detail,
        )
        for r, f in report.findings()
        if f.status in (Status.FAILED, Status.NOT_AVAILABLE)
    ]
    rows.sort(key=lambda row: (-FindingSeverity(row[5]).rank, row[0], row[3]))
    header = (
        "RESOURCE",
        "ACCOUNT",
        "REGION",
        "CONTROL",
        "CATEGORY",
        "SEVERITY",
        "STATUS",
        "DETAIL",
    )
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in [header, *rows]
    ]
    summary = report.summary()
    counts = ", ".join(f"{n} {status.lower()}" for status, n in summary["findings"].items())
    failed = ", ".join(f"{n} {severity}" for severity, n in summary["failed"].items() if n)
    lines.append("")
    lines.append(f"{summary['clusters']} clusters: {counts}" + (f" ({failed})" if failed else ""))
    by_category = "; ".join(
        f"{category.lower()}: " + ", ".join(f"{n} {severity}" for severity, n in tally.items() if n)
        for category, tally in summary["failed_by_category"].items()
        if any(tally.values())
    )
    if by_category:
        lines.append(f"failed by category: {by_category}")
    lines.append(f"{report.api_calls} AWS API calls")
    return "\n".join(lines) + "\n"
