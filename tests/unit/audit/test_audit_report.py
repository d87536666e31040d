"""The report's JSON form, what changed between two reports, and how a run's scope merges."""

import pytest

from msk_autopilot.audit.controls import Category, FindingSeverity, Status, Subject
from msk_autopilot.audit.report import (
    AuditReport,
    Finding,
    ResourceAudit,
    Scope,
    TargetError,
    changes_between,
)

HOME, MEMBER = "123456789012", "222222222222"


def finding(
    control: str,
    status: Status,
    severity: FindingSeverity = FindingSeverity.LOW,
    category: Category = Category.SECURITY,
) -> Finding:
    return Finding(
        control=control,
        category=category,
        status=status,
        severity=severity,
        title=f"{control} title",
        detail="detail",
        remediation="fix it",
    )


def cluster(name: str, *findings: Finding, account=HOME, region="us-east-1") -> ResourceAudit:
    arn = f"arn:aws:kafka:{region}:{account}:cluster/{name}/uuid-1"
    return ResourceAudit(
        arn=arn, name=name, region=region, account=account, findings=list(findings)
    )


def report(*clusters: ResourceAudit, errors=()) -> AuditReport:
    return AuditReport("2026-11-24T10:00:00Z", 7, list(clusters), list(errors), {"kafka.X": 7})


def test_to_dict_has_the_documented_shape_and_round_trips():
    zones = finding("AUTOPILOT.10", Status.FAILED, category=Category.RESILIENCE)
    current = report(
        cluster("a", finding("MSK.1", Status.PASSED), finding("MSK.2", Status.FAILED), zones),
        errors=[TargetError(account=MEMBER, region="eu-west-1", error="denied")],
    )
    document = current.to_dict()

    assert document["summary"] == {
        "clusters": 1,
        "resources": {"cluster": 1, "connector": 0, "account-region": 0},
        "findings": {"PASSED": 1, "FAILED": 2, "NOT_APPLICABLE": 0, "NOT_AVAILABLE": 0},
        "failed": {"LOW": 2, "MEDIUM": 0, "HIGH": 0, "CRITICAL": 0},
        "failed_by_category": {
            "SECURITY": {"LOW": 1, "MEDIUM": 0, "HIGH": 0, "CRITICAL": 0},
            "RESILIENCE": {"LOW": 1, "MEDIUM": 0, "HIGH": 0, "CRITICAL": 0},
        },
        "api_calls_by_operation": {"kafka.X": 7},
        "errors": [{"account": MEMBER, "region": "eu-west-1", "error": "denied"}],
    }
    assert document["resources"][0]["subject"] == "cluster"
    assert document["resources"][0]["findings"][1] == {
        "control": "MSK.2",
        "category": "SECURITY",
        "status": "FAILED",
        "severity": "LOW",
        "title": "MSK.2 title",
        "detail": "detail",
        "remediation": "fix it",
    }
    controls = {c["id"]: c for c in document["controls"]}
    assert controls["AUTOPILOT.10"] == {
        "id": "AUTOPILOT.10",
        "subject": "cluster",
        "category": "RESILIENCE",
        "severity": "LOW",
        "title": "MSK brokers should span at least three Availability Zones",
        "kinds": ["Standard", "Express"],
    }
    again = AuditReport.from_dict(document)
    assert again.resources == current.resources
    assert again.errors == current.errors


def test_a_report_written_before_subjects_and_categories_still_reads():
    old = {
        "generated_at": "2026-10-01T10:00:00Z",
        "api_calls": 3,
        "clusters": [
            {
                "arn": "arn:aws:kafka:us-east-1:123456789012:cluster/a/uuid-1",
                "name": "a",
                "region": "us-east-1",
                "account": HOME,
                "findings": [
                    {
                        "control": "AUTOPILOT.9",
                        "status": "FAILED",
                        "severity": "MEDIUM",
                        "title": "t",
                        "detail": "d",
                        "remediation": "r",
                    }
                ],
            }
        ],
        "summary": {"errors": []},
    }
    (entry,) = AuditReport.from_dict(old).resources
    assert entry.subject is Subject.CLUSTER
    assert entry.findings[0].category is Category.SECURITY  # what that report said


def test_account_entries_of_two_regions_are_distinct_findings():
    def account_entry(region: str, status: Status) -> ResourceAudit:
        return ResourceAudit(
            subject=Subject.ACCOUNT_REGION,
            arn=f"AWS::::Account:{HOME}",
            name=f"{HOME}/{region}",
            region=region,
            account=HOME,
            findings=[finding("AUTOPILOT.99", status)],
        )

    before = report(
        account_entry("us-east-1", Status.PASSED), account_entry("eu-west-1", Status.PASSED)
    )
    after = report(
        account_entry("us-east-1", Status.PASSED), account_entry("eu-west-1", Status.FAILED)
    )
    scope = Scope(targets=frozenset({(HOME, "us-east-1"), (HOME, "eu-west-1")}))
    (change,) = changes_between(before, after, scope)
    assert (change.subject, change.region, change.after) == (
        Subject.ACCOUNT_REGION,
        "eu-west-1",
        Status.FAILED,
    )


def test_from_dict_rejects_what_is_not_a_report():
    with pytest.raises(ValueError, match="not an audit report"):
        AuditReport.from_dict({"resources": "nope"})


def test_changes_are_status_differences_within_scope():
    before = report(
        cluster("a", finding("MSK.2", Status.FAILED), finding("MSK.1", Status.PASSED)),
        cluster("gone", finding("MSK.2", Status.FAILED)),
        cluster("elsewhere", finding("MSK.2", Status.FAILED), region="eu-west-1"),
    )
    after = report(
        cluster("a", finding("MSK.2", Status.PASSED), finding("MSK.1", Status.PASSED)),
        cluster("new", finding("MSK.4", Status.FAILED, FindingSeverity.CRITICAL)),
    )
    scope = Scope(targets=frozenset({(HOME, "us-east-1")}))

    found = {
        (c.name, c.control): (c.before, c.after) for c in changes_between(before, after, scope)
    }

    assert found == {
        ("a", "MSK.2"): (Status.FAILED, Status.PASSED),
        ("gone", "MSK.2"): (Status.FAILED, None),
        ("new", "MSK.4"): (None, Status.FAILED),
    }


def test_without_a_previous_report_everything_is_new():
    after = report(cluster("a", finding("MSK.2", Status.FAILED)))
    (change,) = changes_between(None, after, Scope(targets=frozenset({(HOME, "us-east-1")})))
    assert (change.before, change.after) == (None, Status.FAILED)


def test_a_full_run_replaces_what_it_listed_and_keeps_what_it_could_not():
    before = report(
        cluster("a", finding("MSK.2", Status.FAILED)),
        cluster("theirs", finding("MSK.2", Status.FAILED), account=MEMBER),
    )
    denied = TargetError(account=MEMBER, region="us-east-1", error="denied")
    after = report(cluster("b", finding("MSK.2", Status.PASSED)), errors=[denied])

    merged = after.merged_into(before, Scope(targets=frozenset({(HOME, "us-east-1")})))

    assert [c.name for c in merged.clusters] == ["b", "theirs"]
    assert merged.errors == [denied]


def test_an_event_run_replaces_one_cluster_and_keeps_the_errors():
    old_a = cluster("a", finding("MSK.2", Status.FAILED))
    denied = TargetError(account=MEMBER, region="us-east-1", error="denied")
    before = report(old_a, cluster("b", finding("MSK.2", Status.FAILED)), errors=[denied])
    new_a = cluster("a", finding("MSK.2", Status.PASSED))

    merged = report(new_a).merged_into(before, Scope(cluster_arn=old_a.arn))

    assert {c.name: c.findings[0].status for c in merged.clusters} == {
        "a": Status.PASSED,
        "b": Status.FAILED,
    }
    assert merged.errors == [denied]
