"""The audit's HTML page from a real audit of an emulated fleet: opened in a real browser
(headless chromium) from the command line's --html, and written by the auditor beside its JSON."""

import json

from audit_world import REGION, scheduled_event
from html_page import WINDOW, Page, distinct_colours, png_size, render

from msk_autopilot.audit.html_report import render_html
from msk_autopilot.audit.report import AuditReport
from msk_autopilot_local.cli import main
from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT


def test_the_page_shows_every_failed_finding_in_a_browser(fleet, tmp_path):
    page, document = tmp_path / "audit.html", tmp_path / "audit.json"
    arguments = ["--format", "json", "--output", str(document), "--html", str(page)]
    assert main(["audit", "--region", REGION, *arguments]) == 0
    report = json.loads(document.read_text())

    rendered = render(page, tmp_path)

    assert png_size(rendered.screenshot) == WINDOW
    assert distinct_colours(rendered.screenshot) > 16, "a page of text and colours, not blank"
    dom = Page(rendered.dom)
    clusters = {section.text.split()[0]: section.text for section in dom.all("section", "cluster")}
    assert set(clusters) == {c["name"] for c in report["resources"]}
    failed = [(c["name"], f) for c in report["resources"] for f in c["findings"]]
    failed = [(name, f) for name, f in failed if f["status"] == "FAILED"]
    assert len(failed) > 10
    for name, finding in failed:
        assert f"{finding['control']} {finding['severity']} FAILED" in clusters[name]
        assert f"Remediation: {' '.join(finding['remediation'].split())}" in clusters[name]
        assert name in dom.by_id(f"control-{finding['control']}").text
    summary = report["summary"]
    for severity, count in summary["failed"].items():
        assert dom.by_id(f"failed-{severity}").text == str(count)
    for status, count in summary["findings"].items():
        assert dom.by_id(f"status-{status}").text == str(count)
    for category in ("SECURITY", "RESILIENCE"):
        failed_in_category = sum(f["category"] == category for _, f in failed)
        assert dom.by_id(f"category-{category.lower()}-FAILED").text == str(failed_in_category)
    assert "hidden" not in dom.by_id("filter").attrs, "the page's script ran"


def test_the_auditor_writes_the_page_beside_its_json_report(
    fleet, invoke, aws, report_bucket, stored_report
):
    invoke(scheduled_event())

    stored = aws.client("s3").get_object(Bucket=report_bucket, Key="latest.html")
    assert stored["ContentType"] == "text/html; charset=utf-8"
    page = stored["Body"].read().decode()
    assert page == render_html(AuditReport.from_dict(stored_report()))
    assert {s.text.split()[0] for s in Page(page).all("section", "cluster")} == {
        *fleet,
        f"{LOCAL_ACCOUNT}/{REGION}",
    }
