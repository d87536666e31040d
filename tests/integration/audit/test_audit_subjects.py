"""The registry's seam for subjects other than clusters: a control registered here, on an
account and Region, is evaluated once per audited account and Region, reported as its own
resource and imported into Security Hub as an AwsAccount finding."""

from typing import Any

import pytest
from audit_world import REGION, TAG, scheduled_event

from msk_autopilot.audit.collect import AuditTarget
from msk_autopilot.audit.controls import (
    CONTROLS,
    AccountRegion,
    Category,
    Control,
    Evidence,
    FindingSeverity,
    Subject,
    Verdict,
)
from msk_autopilot.audit.controls.registry import failed
from msk_autopilot.audit.runner import audit
from msk_autopilot.aws import ClientFactory
from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT

SEEN: list[AccountRegion] = []


def _judge_account(scope: AccountRegion, evidence: Evidence) -> Verdict:
    SEEN.append(scope)
    return failed(f"account {scope.account} in {scope.region} was judged")


@pytest.fixture
def account_control(monkeypatch) -> Control:
    SEEN.clear()
    control = Control(
        id="TEST.1",
        severity=FindingSeverity.LOW,
        category=Category.RESILIENCE,
        title="An account-level control registered by the test",
        remediation="none",
        subject=Subject.ACCOUNT_REGION,
        sources=(),
        check=_judge_account,
    )
    monkeypatch.setitem(CONTROLS, control.id, control)
    return control


def test_an_account_control_is_evaluated_once_per_account_and_region(account_control, world):
    world.seed({"name": "orders"})
    report = audit(
        [AuditTarget(LOCAL_ACCOUNT, REGION, ClientFactory(REGION))], opt_in_tag_key=TAG
    ).report

    assert [AccountRegion(LOCAL_ACCOUNT, REGION)] == SEEN
    (entry,) = [r for r in report.resources if r.subject is Subject.ACCOUNT_REGION]
    assert (entry.arn, entry.name) == (
        f"AWS::::Account:{LOCAL_ACCOUNT}",
        f"{LOCAL_ACCOUNT}/{REGION}",
    )
    assert [(f.control, f.category, f.status) for f in entry.findings] == [
        ("AUTOPILOT.11", Category.SECURITY, "PASSED"),  # the world's trail records MSK's calls
        ("TEST.1", Category.RESILIENCE, "FAILED"),
    ]
    (cluster,) = report.clusters
    assert "TEST.1" not in {f.control for f in cluster.findings}  # only its subject's controls


def test_an_event_run_leaves_account_controls_to_full_runs(account_control, world):
    arn = world.seed({"name": "orders"})["orders"]
    target = AuditTarget(LOCAL_ACCOUNT, REGION, ClientFactory(REGION))
    report = audit([target], opt_in_tag_key=TAG, cluster_arn=arn).report

    assert SEEN == []
    assert [r.subject for r in report.resources] == [Subject.CLUSTER]


def test_the_account_finding_reaches_security_hub_and_the_stored_report(
    account_control, world, invoke, findings, stored_report
):
    world.seed({"name": "orders"})
    invoke(scheduled_event())

    hub: dict[str, Any] = findings()[f"AWS::::Account:{LOCAL_ACCOUNT}/TEST.1"]
    assert hub["Resources"][0]["Type"] == "AwsAccount"
    assert hub["Types"] == ["Software and Configuration Checks", "Effects/Denial of Service"]
    assert hub["Compliance"]["Status"] == "FAILED"
    entries = {r["subject"]: r for r in stored_report()["resources"]}
    categories = {f["control"]: f["category"] for f in entries["account-region"]["findings"]}
    assert categories["TEST.1"] == "RESILIENCE"
