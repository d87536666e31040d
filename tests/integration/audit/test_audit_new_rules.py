"""Issue 18's new rules on fleets built as users build them (fleet files: clusters with topics,
MSK Connect connectors through CreateConnector, CloudTrail trails), each rule both ways: MSK.3
and MSK.5 on connectors, AUTOPILOT.11 on the account and Region, AUTOPILOT.12 on topics and
AUTOPILOT.13 on clusters with IAM access control."""

from typing import Any

import pytest
from audit_world import REGION, TAG, Forbidden, World, scheduled_event, verdicts

from msk_autopilot.audit.collect import AuditTarget
from msk_autopilot.audit.runner import audit
from msk_autopilot.aws import ClientFactory
from msk_autopilot_local.emulator import seed_fleet
from msk_autopilot_local.emulator.kafkaconnect import KafkaConnectBackend
from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT

ACCOUNT = f"{LOCAL_ACCOUNT}/{REGION}"
DURABLE = {"min.insync.replicas": 2, "unclean.leader.election.enable": False}


def report_of_audit() -> dict[str, Any]:
    target = AuditTarget(LOCAL_ACCOUNT, REGION, ClientFactory(REGION))
    return audit([target], opt_in_tag_key=TAG).report.to_dict()


def test_connectors_pass_and_fail_msk3_and_msk5(world, aws):
    seed_fleet(
        aws,
        {
            "clusters": [{"name": "source", "authentication": {"iam": True}}],
            "connectors": [
                {
                    "name": "s3-sink",
                    "cluster": "source",
                    "authentication": "IAM",
                    "encryptionInTransit": "TLS",
                    "logDelivery": {"cloudWatchLogGroup": "connect"},
                },
                {"name": "legacy-sink", "cluster": "source", "encryptionInTransit": "PLAINTEXT"},
            ],
        },
    )

    report = report_of_audit()

    assert verdicts(report, "connector") == {
        "s3-sink": {"MSK.3": "PASSED", "MSK.5": "PASSED"},
        "legacy-sink": {"MSK.3": "FAILED", "MSK.5": "FAILED"},
    }
    details = {
        (r["name"], f["control"]): f["detail"]
        for r in report["resources"]
        for f in r["findings"]
        if r["subject"] == "connector"
    }
    assert details["legacy-sink", "MSK.3"] == (
        "the connector reaches its Kafka cluster in plaintext (PLAINTEXT)"
    )
    assert details["s3-sink", "MSK.5"] == "worker logs go to CloudWatch Logs"
    assert report["summary"]["resources"] == {"cluster": 1, "connector": 2, "account-region": 1}


def seed_plain_connector(aws) -> dict[str, str]:
    """One cluster and a connector of it without TLS in transit; the connectors' ARNs."""
    return seed_fleet(
        aws,
        {
            "clusters": [{"name": "source"}],
            "connectors": [
                {"name": "plain", "cluster": "source", "encryptionInTransit": "PLAINTEXT"}
            ],
        },
    ).connectors


def test_connector_findings_reach_security_hub_as_connectors(world, aws, invoke, findings):
    arns = seed_plain_connector(aws)

    invoke(scheduled_event())

    hub = findings()[f"{arns['plain']}/MSK.3"]
    assert hub["Resources"][0]["Type"] == "Other"
    assert hub["Resources"][0]["Details"] == {"Other": {"Type": "AWS::KafkaConnect::Connector"}}
    assert hub["Types"] == ["Software and Configuration Checks/AWS Security Best Practices"]
    assert hub["Compliance"]["Status"] == "FAILED"
    assert hub["Severity"]["Label"] == "MEDIUM"


def test_without_a_trail_msks_calls_and_kafka_actions_go_unrecorded(aws):
    World(aws).seed(
        {"name": "iam", "authentication": {"iam": True}},
        {"name": "scram", "authentication": {"scram": True}, "scramUsers": ["app"]},
    )

    report = report_of_audit()

    assert verdicts(report, "account-region") == {ACCOUNT: {"AUTOPILOT.11": "FAILED"}}
    clusters = verdicts(report)
    assert clusters["iam"]["AUTOPILOT.13"] == "FAILED"
    assert clusters["scram"]["AUTOPILOT.13"] == "NOT_APPLICABLE"


@pytest.mark.parametrize(
    ("trail", "expected"),
    [
        ({"name": "all", "multiRegion": True}, ("PASSED", "PASSED")),
        ({"name": "stopped", "multiRegion": True, "logging": False}, ("FAILED", "FAILED")),
        (
            # MSK's own calls only: Kafka actions (kafka-cluster.amazonaws.com) are left out.
            {
                "name": "msk-only",
                "advancedEventSelectors": [
                    {
                        "Name": "MSK management calls",
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Management"]},
                            {"Field": "eventSource", "Equals": ["kafka.amazonaws.com"]},
                        ],
                    }
                ],
            },
            ("PASSED", "FAILED"),
        ),
    ],
)
def test_a_trail_decides_audit_logging_and_the_iam_clusters_note(aws, trail, expected):
    World(aws).seed({"name": "iam", "authentication": {"iam": True}})
    seed_fleet(aws, {"trails": [trail]})

    report = report_of_audit()

    account = verdicts(report, "account-region")[ACCOUNT]["AUTOPILOT.11"]
    assert (account, verdicts(report)["iam"]["AUTOPILOT.13"]) == expected


def test_topic_durability_passes_and_fails_per_cluster(world, aws):
    seed_fleet(
        aws,
        {
            "clusters": [
                {
                    "name": "durable",
                    "kafkaVersion": "3.8.x",
                    "topics": [{"name": "orders", "configs": DURABLE}],
                },
                {
                    "name": "fragile",
                    "kafkaVersion": "3.8.x",
                    "topics": [
                        {"name": "orders", "configs": DURABLE},
                        {"name": "scratch", "replicationFactor": 1},
                        {
                            "name": "audit",
                            "configs": {**DURABLE, "unclean.leader.election.enable": True},
                        },
                    ],
                },
            ]
        },
    )

    report = report_of_audit()

    clusters = verdicts(report)
    assert (clusters["durable"]["AUTOPILOT.12"], clusters["fragile"]["AUTOPILOT.12"]) == (
        "PASSED",
        "FAILED",
    )
    (fragile,) = [r for r in report["resources"] if r["name"] == "fragile"]
    (finding,) = [f for f in fragile["findings"] if f["control"] == "AUTOPILOT.12"]
    assert finding["category"] == "RESILIENCE"
    assert finding["detail"].startswith("2 of 3 topics are not durable")
    assert "scratch (replication factor 1" in finding["detail"]
    assert "audit (unclean leader election on)" in finding["detail"]


def test_connectors_that_cannot_be_listed_are_an_error_and_keep_their_findings(
    world, aws, invoke, findings, stored_report, monkeypatch
):
    arns = seed_plain_connector(aws)
    invoke(scheduled_event())

    def denied(self, *args, **kwargs):
        raise Forbidden("User is not authorized to perform: kafkaconnect:ListConnectors")

    monkeypatch.setattr(KafkaConnectBackend, "list_connectors", denied)
    result = invoke(scheduled_event())

    (error,) = result["details"]["errors"]
    assert error.startswith(
        f"{LOCAL_ACCOUNT}/{REGION}: MSK Connect connectors could not be listed: "
        "ListConnectors failed: ForbiddenException"
    )
    # The clusters are audited all the same; the connector stays as last seen, not archived.
    assert verdicts(stored_report(), "connector") == {
        "plain": {"MSK.3": "FAILED", "MSK.5": "FAILED"}
    }
    assert findings()[f"{arns['plain']}/MSK.3"]["RecordState"] == "ACTIVE"
    assert verdicts(stored_report())["source"]["MSK.1"] == "PASSED"
