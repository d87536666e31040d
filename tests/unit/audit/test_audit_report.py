"""The report's JSON form, what changed between two reports, and how a run's scope merges."""

import pytest

from msk_autopilot.audit.controls import FindingSeverity, Status
from msk_autopilot.audit.report import (
    AuditReport,
    ClusterAudit,
    Finding,
    Scope,
    TargetError,
    changes_between,
)

HOME, MEMBER = "123456789012", "222222222222"


def finding(
    control: str, status: Status, severity: FindingSeverity = FindingSeverity.LOW
) -> Finding:
    return Finding(
        control=control,
        status=status,
        severity=severity,
        title=f"{control} title",
        detail="detail",
        remediation="fix it",
    )


def cluster(name: str, *findings: Finding, account=HOME, region="us-east-1") -> ClusterAudit:
    arn = f"arn:aws:kafka:{region}:{account}:cluster/{name}/uuid-1"
    return ClusterAudit(arn=arn, name=name, region=region, account=account, findings=list(findings))


def report(*clusters: ClusterAudit, errors=()) -> AuditReport:
    return AuditReport("2026-11-24T10:00:00Z", 7, list(clusters), list(errors), {"kafka.X": 7})


def test_to_dict_has_the_documented_shape_and_round_trips():
    current = report(
        cluster("a", finding("MSK.1", Status.PASSED), finding("MSK.2", Status.FAILED)),
        errors=[TargetError(account=MEMBER, region="eu-west-1", error="denied")],
    )
    document = current.to_dict()

    assert document["summary"] == {
        "clusters": 1,
        "findings": {"PASSED": 1, "FAILED": 1, "NOT_APPLICABLE": 0, "NOT_AVAILABLE": 0},
        "failed": {"LOW": 1, "MEDIUM": 0, "HIGH": 0, "CRITICAL": 0},
        "api_calls_by_operation": {"kafka.X": 7},
        "errors": [{"account": MEMBER, "region": "eu-west-1", "error": "denied"}],
    }
    assert document["clusters"][0]["findings"][1] == {
        "control": "MSK.2",
        "status": "FAILED",
        "severity": "LOW",
        "title": "MSK.2 title",
        "detail": "detail",
        "remediation": "fix it",
    }
    again = AuditReport.from_dict(document)
    assert again.clusters == current.clusters
    assert again.errors == current.errors


def test_from_dict_rejects_what_is_not_a_report():
    with pytest.raises(ValueError, match="not an audit report"):
        AuditReport.from_dict({"clusters": "nope"})


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
        (c.cluster_name, c.control): (c.before, c.after)
        for c in changes_between(before, after, scope)
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
