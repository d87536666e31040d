"""The audit report as one self-contained HTML page, for people to read (the JSON is for tools).

The page needs nothing but itself: inline CSS, no external script, font or stylesheet, and a few
lines of inline JavaScript for a filter box that only appears where scripts run; without them the
page is whole. Everything taken from the report is escaped: cluster names, details and the rest
come from users or from AWS answers. The report holds no secret values, and neither does the page.

Sections: the run (time, scope, listing errors), the summary by severity, status and category,
each control with its failing clusters, and each cluster with its findings (failed ones with
their remediation, NOT_AVAILABLE ones with the reason; passed and not applicable ones folded).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

from msk_autopilot.audit.controls import FindingSeverity, Status

if TYPE_CHECKING:  # report.py renders pages with this module
    from msk_autopilot.audit.report import AuditReport, Finding, ResourceAudit

__all__ = ["render_html"]

_SEVERITIES = sorted(FindingSeverity, key=lambda s: -s.rank)
# Most telling first: what failed, then what could not be checked.
_STATUS_ORDER = {
    Status.FAILED: 0,
    Status.NOT_AVAILABLE: 1,
    Status.PASSED: 2,
    Status.NOT_APPLICABLE: 3,
}
_FOLDED = frozenset({Status.PASSED, Status.NOT_APPLICABLE})

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;
padding:16px 24px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de}
h3{font-size:15px;margin:0 0 4px}
table{border-collapse:collapse;margin:6px 0 12px;width:100%}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums;width:6em}
.meta{color:#57606a}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.sev{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;font-weight:600;color:#fff}
.sev-CRITICAL{background:#8b0000}.sev-HIGH{background:#cf222e}.sev-MEDIUM{background:#bc4c00}
.sev-LOW{background:#6e7781}
.st{font-weight:600}.st-FAILED{color:#cf222e}.st-PASSED{color:#1a7f37}
.st-NOT_AVAILABLE{color:#8250df}.st-NOT_APPLICABLE{color:#57606a}
tr.NOT_AVAILABLE td{background:#f6f0ff}tr.FAILED td{background:#fff5f5}
.cluster{border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;margin:10px 0}
.fix{margin-top:4px}.fix b{color:#1b1f24}
.errors{border-left:4px solid #cf222e;background:#fff5f5;padding:6px 12px}
.clean{color:#1a7f37}
details summary{cursor:pointer;color:#57606a}
#filter{margin:8px 0;padding:4px 8px;width:24em}
.summary{display:flex;flex-wrap:wrap;gap:0 16px;align-items:flex-start}
.summary table{width:auto;min-width:220px}
"""

# Hides the clusters whose text does not contain what is typed; shown only where scripts run.
_SCRIPT = """
const box=document.getElementById("filter");box.hidden=false;
box.addEventListener("input",()=>{const q=box.value.toLowerCase();
for(const c of document.querySelectorAll(".cluster")){
c.hidden=q!==""&&!c.textContent.toLowerCase().includes(q);}});
"""


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _severity(severity: FindingSeverity) -> str:
    return f'<span class="sev sev-{severity.value}">{severity.value}</span>'


def _status(status: Status) -> str:
    return f'<span class="st st-{status.value}">{status.value}</span>'


def _cluster_anchor(index: int) -> str:
    # Ids are positional: a cluster's name or ARN may hold anything.
    return f"cluster-{index}"


def _scope(report: AuditReport) -> str:
    others = len(report.resources) - len(report.clusters)
    return f"{len(report.clusters)} clusters" + (f" and {others} other resources" if others else "")


def _head(report: AuditReport) -> list[str]:
    accounts = sorted({c.account for c in report.resources} | {e.account for e in report.errors})
    regions = sorted({c.region for c in report.resources} | {e.region for e in report.errors})
    parts = [
        "<h1>MSK security audit</h1>",
        f'<p class="meta">Generated <time id="generated-at">{_text(report.generated_at)}</time>'
        f" &middot; {_scope(report)} in "
        f"{len(accounts)} account(s) ({_text(', '.join(accounts)) or 'none'}) and "
        f"{len(regions)} Region(s) ({_text(', '.join(regions)) or 'none'})"
        f" &middot; {report.api_calls} AWS API calls</p>",
    ]
    if report.errors:
        parts.append(
            '<div class="errors" id="errors"><b>Incomplete:</b> these accounts and Regions '
            "could not be listed, their clusters are missing.<ul>"
        )
        parts.extend(
            f"<li>{_text(e.account)}/{_text(e.region)}: {_text(e.error)}</li>"
            for e in report.errors
        )
        parts.append("</ul></div>")
    return parts


def _summary(report: AuditReport) -> list[str]:
    findings = [f for _, f in report.findings()]
    failed = report.failed_by_severity()
    statuses = Counter(f.status for f in findings)
    by_category: defaultdict[str, Counter[Status]] = defaultdict(Counter)
    for finding in findings:
        by_category[finding.category.value.lower()][finding.status] += 1
    parts = [
        "<h2>Summary</h2>",
        '<div class="summary">',
        "<table><tr><th>Failed findings by severity</th><th>Count</th></tr>",
        *(
            f'<tr><td>{_severity(s)}</td><td class="n" id="failed-{s.value}">'
            f"{failed[s.value]}</td></tr>"
            for s in _SEVERITIES
        ),
        "</table>",
        "<table><tr><th>Findings by status</th><th>Count</th></tr>",
        *(
            f'<tr><td>{_status(s)}</td><td class="n" id="status-{s.value}">{statuses[s]}</td></tr>'
            for s in _STATUS_ORDER
        ),
        "</table>",
        "<table><tr><th>Category</th>",
        *(f"<th>{s.value}</th>" for s in _STATUS_ORDER),
        "</tr>",
    ]
    for category in sorted(by_category):
        counts = by_category[category]
        parts.append(f"<tr><td>{_text(category)}</td>")
        parts.extend(
            f'<td class="n" id="category-{_text(category)}-{s.value}">{counts[s]}</td>'
            for s in _STATUS_ORDER
        )
        parts.append("</tr>")
    parts.append("</table></div>")
    return parts


def _controls(report: AuditReport) -> list[str]:
    """Each control with the resources it fails on (clusters, connectors, accounts) and those
    it could not check."""
    failing: defaultdict[str, list[int]] = defaultdict(list)
    unavailable: defaultdict[str, list[int]] = defaultdict(list)
    first: dict[str, Finding] = {}
    for index, cluster in enumerate(report.resources):
        for finding in cluster.findings:
            first.setdefault(finding.control, finding)
            if finding.status is Status.FAILED:
                failing[finding.control].append(index)
            elif finding.status is Status.NOT_AVAILABLE:
                unavailable[finding.control].append(index)
    ordered = sorted(
        first.values(), key=lambda f: (-len(failing[f.control]), -f.severity.rank, f.control)
    )
    parts = [
        "<h2>Controls</h2>",
        "<table><tr><th>Control</th><th>Severity</th><th>Category</th><th>Title</th>"
        "<th>Failing on</th><th>Not available</th></tr>",
    ]
    for finding in ordered:
        parts.append(
            f'<tr id="control-{_text(finding.control)}"><td class="mono">'
            f"{_text(finding.control)}</td><td>{_severity(finding.severity)}</td>"
            f"<td>{_text(finding.category.value.lower())}</td><td>{_text(finding.title)}</td>"
            f"<td>{_cluster_links(report, failing[finding.control]) or '&ndash;'}</td>"
            f"<td>{_cluster_links(report, unavailable[finding.control]) or '&ndash;'}</td></tr>"
        )
    parts.append("</table>")
    return parts


def _cluster_links(report: AuditReport, indexes: Iterable[int]) -> str:
    return ", ".join(
        f'<a href="#{_cluster_anchor(i)}">{_text(report.resources[i].name)}</a>' for i in indexes
    )


def _finding_row(finding: Finding) -> str:
    detail = _text(finding.detail)
    if finding.status is Status.FAILED:
        detail += f'<div class="fix"><b>Remediation:</b> {_text(finding.remediation)}</div>'
    elif finding.status is Status.NOT_AVAILABLE:
        detail = f"<b>Could not be checked:</b> {detail}"
    return (
        f'<tr class="{finding.status.value}"><td class="mono">{_text(finding.control)}</td>'
        f"<td>{_severity(finding.severity)}</td><td>{_status(finding.status)}</td>"
        f"<td>{_text(finding.title)}</td><td>{detail}</td></tr>"
    )


_FINDINGS_HEADER = (
    "<tr><th>Control</th><th>Severity</th><th>Status</th><th>Title</th><th>Detail</th></tr>"
)


def _cluster(index: int, cluster: ResourceAudit) -> list[str]:
    findings = sorted(
        cluster.findings,
        key=lambda f: (_STATUS_ORDER[f.status], -f.severity.rank, f.control),
    )
    shown = [f for f in findings if f.status not in _FOLDED]
    folded = [f for f in findings if f.status in _FOLDED]
    parts = [
        f'<section class="cluster" id="{_cluster_anchor(index)}">',
        f"<h3>{_text(cluster.name)}</h3>",
        f'<div class="meta mono">{_text(cluster.arn)}</div>',
        f'<div class="meta">{_text(cluster.subject.value)} &middot; '
        f"account {_text(cluster.account)} &middot; "
        f"Region {_text(cluster.region)}</div>",
    ]
    if shown:
        parts.append(f"<table>{_FINDINGS_HEADER}")
        parts.extend(_finding_row(f) for f in shown)
        parts.append("</table>")
    else:
        parts.append('<p class="clean">Every control passed or does not apply.</p>')
    if folded:
        parts.append(
            f"<details><summary>{len(folded)} passed or not applicable</summary>"
            f"<table>{_FINDINGS_HEADER}"
        )
        parts.extend(_finding_row(f) for f in folded)
        parts.append("</table></details>")
    parts.append("</section>")
    return parts


def render_html(report: AuditReport) -> str:
    """The whole page for `report`."""
    clusters = sorted(
        enumerate(report.resources),
        key=lambda item: (
            -max(
                (f.severity.rank for f in item[1].findings if f.status is Status.FAILED),
                default=-1,
            ),
            item[1].name,
        ),
    )
    body = [
        *_head(report),
        *_summary(report),
        *_controls(report),
        "<h2>Resources</h2>",
        '<input id="filter" type="search" placeholder="Filter clusters" hidden>',
        *(line for index, cluster in clusters for line in _cluster(index, cluster)),
    ]
    if not report.resources:
        body.append("<p>Nothing was audited.</p>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>MSK security audit {_text(report.generated_at)}</title>"
        f"<style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + f"\n<script>{_SCRIPT}</script></body></html>\n"
    )
