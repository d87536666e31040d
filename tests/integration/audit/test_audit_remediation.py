"""Remediation in the MSK emulator: allowed controls, opted-in clusters, one change at a time."""

import pytest
from audit_world import TAG, Forbidden, api_call_event, scheduled_event

from msk_autopilot_local.emulator.models import MskBackend

LOG_GROUP = "/msk/brokers"


ALL_FIXES = {
    "REMEDIATE_CONTROLS": "MSK.2,MSK.4,AUTOPILOT.1,AUTOPILOT.3",
    "BROKER_LOG_GROUP": LOG_GROUP,
}


@pytest.fixture
def drifted(world):
    """Two opted-in clusters with every fixable failure between them, and one not opted in."""
    group = world.security_group()
    public = {
        "securityGroups": [group],
        "authentication": {"iam": True},
        "publicAccess": True,  # MSK.4; and DEFAULT monitoring (MSK.2), no broker logs (A.3)
    }
    return world.seed(
        {"name": "public", **public, "tags": {TAG: "true"}},
        {
            "name": "plaintext",
            "securityGroups": [group],
            "encryption": {"clientBroker": "TLS_PLAINTEXT"},  # AUTOPILOT.1, and nothing else
            "enhancedMonitoring": "PER_TOPIC_PER_BROKER",
            "logging": {"firehoseDeliveryStream": "broker-logs"},
            "tags": {TAG: "true"},
        },
        {"name": "hands-off", **public},
    )


def remediations(result):
    return {
        (r["cluster_name"], r["control"]): r["status"] for r in result["details"]["remediations"]
    }


def operations(world, arn):
    return world.kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]


def describe(world, arn):
    return world.kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["Provisioned"]


def test_each_allowed_control_is_fixed_one_change_at_a_time(
    drifted, world, invoke, msk_emulator, stored_report
):
    env = ALL_FIXES

    first = invoke(scheduled_event(), **env)
    assert first["status"] == "acted"
    assert remediations(first) == {
        ("public", "MSK.4"): "started",  # CRITICAL first
        ("public", "AUTOPILOT.3"): "deferred",
        ("public", "MSK.2"): "deferred",
        ("plaintext", "AUTOPILOT.1"): "started",
    }

    busy = invoke(scheduled_event(), **env)  # the operations are still running
    assert remediations(busy)[("public", "MSK.4")] == "not_ready"
    assert "UPDATING" in next(
        r["reason"] for r in busy["details"]["remediations"] if r["control"] == "MSK.4"
    )
    msk_emulator.complete_operations()

    assert remediations(invoke(scheduled_event(), **env)) == {
        ("public", "AUTOPILOT.3"): "started",
        ("public", "MSK.2"): "deferred",
    }
    msk_emulator.complete_operations()
    assert remediations(invoke(scheduled_event(), **env)) == {("public", "MSK.2"): "started"}
    msk_emulator.complete_operations()

    last = invoke(scheduled_event(), **env)
    assert last["status"] == "unchanged"
    assert remediations(last) == {}
    public = describe(world, drifted["public"])
    assert public["BrokerNodeGroupInfo"]["ConnectivityInfo"]["PublicAccess"]["Type"] == "DISABLED"
    assert public["EnhancedMonitoring"] == "PER_TOPIC_PER_BROKER"
    assert public["LoggingInfo"]["BrokerLogs"]["CloudWatchLogs"] == {
        "Enabled": True,
        "LogGroup": LOG_GROUP,
    }
    plaintext = describe(world, drifted["plaintext"])
    assert plaintext["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"] == "TLS"
    hands_off = describe(world, drifted["hands-off"])
    assert hands_off["EnhancedMonitoring"] == "DEFAULT"
    statuses = {
        (c["name"], f["control"]): f["status"]
        for c in stored_report()["resources"]
        for f in c["findings"]
    }
    for fixed in [("public", "MSK.4"), ("public", "MSK.2"), ("public", "AUTOPILOT.3")]:
        assert statuses[fixed] == "PASSED", fixed
    assert statuses["plaintext", "AUTOPILOT.1"] == "PASSED"
    assert statuses["hands-off", "MSK.4"] == "FAILED"


def test_the_event_of_its_own_fix_does_not_start_a_second_one(
    drifted, world, invoke, notifications
):
    invoke(scheduled_event(), **ALL_FIXES)
    started = len(operations(world, drifted["plaintext"]))
    assert len(notifications()) == 1

    again = invoke(api_call_event(drifted["plaintext"], "UpdateSecurity"), **ALL_FIXES)

    assert remediations(again) == {("plaintext", "AUTOPILOT.1"): "not_ready"}
    assert len(operations(world, drifted["plaintext"])) == started
    # No remediation is notified (the busy cluster is retried next run); the one change is the
    # topic check, which MSK's topic APIs cannot answer while the cluster is UPDATING.
    (notice,) = notifications()
    assert [(c["control"], c["after"]) for c in notice["changes"]] == [
        ("AUTOPILOT.12", "NOT_AVAILABLE")
    ]
    assert notice["remediations"] == [] or all(
        r["status"] not in ("started", "dry_run") for r in notice["remediations"]
    )


def test_only_allowed_controls_are_fixed(drifted, world, invoke, notifications):
    result = invoke(scheduled_event(), REMEDIATE_CONTROLS="MSK.2")

    assert remediations(result) == {("public", "MSK.2"): "started"}
    (notice,) = notifications()
    assert notice["remediations"][0]["control"] == "MSK.2"
    assert notice["remediations"][0]["status"] == "started"


def test_dry_run_reports_what_would_be_fixed_and_changes_nothing(drifted, world, invoke):
    before = {name: len(operations(world, arn)) for name, arn in drifted.items()}

    result = invoke(scheduled_event(), DRY_RUN="true", **ALL_FIXES)

    assert result["status"] == "dry_run"
    assert remediations(result)[("public", "MSK.4")] == "dry_run"
    assert remediations(result)[("plaintext", "AUTOPILOT.1")] == "dry_run"
    assert {name: len(operations(world, arn)) for name, arn in drifted.items()} == before


def test_nothing_is_fixed_by_default(drifted, world, invoke):
    result = invoke(scheduled_event())

    assert result["details"]["remediations"] == []
    assert describe(world, drifted["public"])["EnhancedMonitoring"] == "DEFAULT"


def test_a_refused_remediation_is_reported_and_the_run_completes(
    drifted, world, invoke, notifications, monkeypatch
):
    def denied(self, *args, **kwargs):
        raise Forbidden("User is not authorized to perform: kafka:UpdateSecurity")

    monkeypatch.setattr(MskBackend, "update_security", denied)

    result = invoke(scheduled_event(), **ALL_FIXES)

    assert remediations(result) == {
        ("public", "MSK.4"): "started",
        ("public", "AUTOPILOT.3"): "deferred",
        ("public", "MSK.2"): "deferred",
        ("plaintext", "AUTOPILOT.1"): "error",
    }
    refused = next(r for r in result["details"]["remediations"] if r["status"] == "error")
    assert refused["reason"].startswith("UpdateSecurity failed: ForbiddenException")
    assert notifications()[0]["remediations"]
