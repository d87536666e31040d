"""The audit report's HTML page on a hand-made report: what it shows, that it is self-contained
and that whatever came from users is text, never markup."""

from html_page import Page

from msk_autopilot.audit.controls import FindingSeverity, Status
from msk_autopilot.audit.html_report import render_html
from msk_autopilot.audit.report import AuditReport, Finding, ResourceAudit, TargetError

NONE = "\N{EN DASH}"  # an empty list of clusters
HOSTILE = '<script>document.title="owned"</script><img src=x onerror=alert(1)>'


def finding(control: str, status: Status, severity: FindingSeverity, detail: str) -> Finding:
    return Finding(
        control=control,
        status=status,
        severity=severity,
        title=f"{control} title",
        detail=detail,
        remediation=f"fix {control} like this",
    )


def cluster(name: str, *findings: Finding) -> ResourceAudit:
    return ResourceAudit(
        arn=f"arn:aws:kafka:us-east-1:123456789012:cluster/{name}/uuid-1",
        name=name,
        region="us-east-1",
        account="123456789012",
        findings=list(findings),
    )


def hand_made_report() -> AuditReport:
    return AuditReport(
        generated_at="2026-11-24T10:00:00Z",
        api_calls=42,
        resources=[
            cluster(
                "orders",
                finding("MSK.4", Status.FAILED, FindingSeverity.CRITICAL, "public access is on"),
                finding("MSK.2", Status.FAILED, FindingSeverity.LOW, "monitoring is DEFAULT"),
                finding("MSK.1", Status.PASSED, FindingSeverity.MEDIUM, "encrypted"),
            ),
            cluster(
                HOSTILE,
                finding("MSK.2", Status.FAILED, FindingSeverity.LOW, f"tag {HOSTILE}"),
                finding(
                    "AUTOPILOT.6",
                    Status.NOT_AVAILABLE,
                    FindingSeverity.HIGH,
                    "GetClusterPolicy failed: AccessDenied",
                ),
                finding("MSK.1", Status.NOT_APPLICABLE, FindingSeverity.MEDIUM, "serverless"),
            ),
        ],
        errors=[TargetError(account="222222222222", region="eu-west-1", error="denied")],
        api_calls_by_operation={"kafka.ListClustersV2": 42},
    )


def section(page: Page, name: str) -> str:
    (found,) = [
        s for s in page.all("section", "cluster") if s.text.startswith(" ".join(name.split()))
    ]
    return found.text


def test_the_page_shows_the_run_summary_controls_and_clusters():
    page = Page(render_html(hand_made_report()))

    assert page.by_id("generated-at").text == "2026-11-24T10:00:00Z"
    assert (
        "2 clusters in 2 account(s) (123456789012, 222222222222) "
        "and 2 Region(s) (eu-west-1, us-east-1) · 42 AWS API calls"
    ) in page.all("body")[0].text
    assert "222222222222/eu-west-1: denied" in page.by_id("errors").text
    failed = {s: page.by_id(f"failed-{s}").text for s in ("CRITICAL", "HIGH", "MEDIUM", "LOW")}
    assert failed == {"CRITICAL": "1", "HIGH": "0", "MEDIUM": "0", "LOW": "2"}
    statuses = {s.value: page.by_id(f"status-{s.value}").text for s in Status}
    assert statuses == {"FAILED": "3", "NOT_AVAILABLE": "1", "PASSED": "1", "NOT_APPLICABLE": "1"}
    assert page.by_id("category-security-FAILED").text == "3"
    # Per control, the clusters it fails on; MSK.2 fails on both.
    assert page.by_id("control-MSK.2").text.endswith(f"orders, {' '.join(HOSTILE.split())} {NONE}")
    assert "Could not be checked" not in page.by_id("control-AUTOPILOT.6").text
    assert page.by_id("control-AUTOPILOT.6").text.endswith(f" {NONE} " + " ".join(HOSTILE.split()))
    # Per cluster, each failed finding with its remediation, the unavailable one with its reason.
    orders = section(page, "orders")
    assert "MSK.4 CRITICAL FAILED MSK.4 title public access is on" in orders
    assert "Remediation: fix MSK.4 like this" in orders
    hostile = section(page, HOSTILE)
    assert "Could not be checked: GetClusterPolicy failed: AccessDenied" in hostile
    assert "fix AUTOPILOT.6" not in hostile, "only failed findings carry a remediation"
    (unavailable,) = page.all("tr", "NOT_AVAILABLE")
    assert "AUTOPILOT.6" in unavailable.text


def test_names_and_details_from_users_are_text_not_markup():
    html = render_html(hand_made_report())
    page = Page(html)

    assert len(page.all("script")) == 1, "only the page's own filter script"
    assert page.all("img") == []
    assert HOSTILE not in html
    (heading,) = [h for h in page.all("h3") if h.text.startswith("<script>")]
    assert heading.text == " ".join(HOSTILE.split())


def test_the_page_needs_nothing_but_itself():
    page = Page(render_html(hand_made_report()))

    assert page.all("link") == []
    fetched = [e.attrs.get("src") for e in page.elements if e.attrs.get("src")]
    assert fetched == []
    links = {e.attrs["href"] for e in page.all("a")}
    assert links
    assert all(str(href).startswith("#cluster-") for href in links)
    # The filter box appears only where its script runs: without scripts it is not shown.
    assert "hidden" in page.by_id("filter").attrs
