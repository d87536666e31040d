"""Security Hub findings, the S3 report, notifications and metrics across runs: fail, fix, pass."""

from audit_world import REGION, TAG, api_call_event, scheduled_event

from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT

PRODUCT = f"arn:aws:securityhub:{REGION}:{LOCAL_ACCOUNT}:product/{LOCAL_ACCOUNT}/default"


def seed_orders(world, monitoring="DEFAULT"):
    closed = world.security_group()
    return world.seed(
        {
            "name": "orders",
            "kafkaVersion": "3.8.x",  # 3.6.0, the emulator's default, is past end of support
            "encryption": {"kmsKeyId": world.customer_key()},
            "authentication": {"iam": True},
            "enhancedMonitoring": monitoring,
            "logging": {"s3Bucket": "broker-logs"},
            "securityGroups": [closed],
            "tags": {TAG: "true"},
        }
    )["orders"]


def set_monitoring(world, cluster_arn, level, msk_emulator):
    version = world.kafka.describe_cluster_v2(ClusterArn=cluster_arn)["ClusterInfo"][
        "CurrentVersion"
    ]
    world.kafka.update_monitoring(
        ClusterArn=cluster_arn, CurrentVersion=version, EnhancedMonitoring=level
    )
    msk_emulator.complete_operations()


def test_a_finding_fails_is_fixed_and_is_resolved(
    world, invoke, findings, msk_emulator, notifications
):
    arn = seed_orders(world)
    monitoring_id = f"{arn}/MSK.2"

    invoke(scheduled_event())
    first = findings()
    assert first[monitoring_id]["Compliance"]["Status"] == "FAILED"
    assert first[monitoring_id]["Workflow"]["Status"] == "NEW"
    assert first[monitoring_id]["ProductArn"] == PRODUCT
    assert first[monitoring_id]["Severity"]["Label"] == "LOW"
    assert first[monitoring_id]["Resources"][0] == {
        "Type": "AwsMskCluster",
        "Id": arn,
        "Partition": "aws",
        "Region": REGION,
    }
    # a new finding that passes is resolved from the start
    assert first[f"{arn}/MSK.1"]["Compliance"]["Status"] == "PASSED"
    assert first[f"{arn}/MSK.1"]["Workflow"]["Status"] == "RESOLVED"
    assert [n["subject"] for n in notifications()] == [
        "MSK security audit: 1 newly failing, 0 fixed, 0 remediations"
    ]

    set_monitoring(world, arn, "PER_TOPIC_PER_BROKER", msk_emulator)
    result = invoke(api_call_event(arn, "UpdateMonitoring"))

    assert result["details"]["clusters"] == 1
    fixed = findings()[monitoring_id]
    assert fixed["Compliance"]["Status"] == "PASSED"
    assert fixed["Workflow"]["Status"] == "RESOLVED"
    (notice,) = notifications()
    assert notice["subject"] == "MSK security audit: 0 newly failing, 1 fixed, 0 remediations"
    assert notice["severity"] == "INFO"
    assert notice["changes"] == [
        {
            "subject": "cluster",
            "name": "orders",
            "arn": arn,
            "account": LOCAL_ACCOUNT,
            "region": REGION,
            "control": "MSK.2",
            "severity": "LOW",
            "before": "FAILED",
            "after": "PASSED",
        }
    ]

    set_monitoring(world, arn, "DEFAULT", msk_emulator)
    invoke(scheduled_event())
    broken_again = findings()[monitoring_id]
    assert broken_again["Compliance"]["Status"] == "FAILED"
    assert broken_again["Workflow"]["Status"] == "NEW"  # Security Hub reopens it


def test_finding_ids_are_stable_and_not_applicable_ones_are_not_imported(world, invoke, findings):
    arn = seed_orders(world)
    # MSK refuses a group that does not exist; one deleted after the cluster was made is gone.
    gone = world.security_group()
    stream = world.seed({"name": "stream", "serverless": True, "securityGroups": [gone]})["stream"]
    world.ec2.delete_security_group(GroupId=gone)

    invoke(scheduled_event())
    invoke(scheduled_event())

    ids = set(findings())
    provisioned = {i for i in ids if i.startswith(arn)}
    assert len(provisioned) == 15  # 16 cluster controls; AUTOPILOT.7 does not apply (no SCRAM)
    assert f"{arn}/AUTOPILOT.7" not in ids
    # Serverless: what MSK fixes is imported with its verdict, what it lacks is not applicable.
    assert {i.removeprefix(f"{stream}/") for i in ids if i.startswith(stream)} == {
        "MSK.4",
        "MSK.6",
        "AUTOPILOT.1",
        "AUTOPILOT.2",
        "AUTOPILOT.3",
        "AUTOPILOT.5",  # NOT_AVAILABLE: its group no longer exists
        "AUTOPILOT.6",
        "AUTOPILOT.8",
        "AUTOPILOT.9",
        "AUTOPILOT.13",
    }
    unavailable = findings()[f"{stream}/AUTOPILOT.5"]["Compliance"]
    assert unavailable == {
        "Status": "NOT_AVAILABLE",
        "StatusReasons": [
            {"ReasonCode": "DATA_UNAVAILABLE", "Description": f"security groups not found: {gone}"}
        ],
    }


def test_findings_of_a_deleted_cluster_are_archived(world, invoke, findings, stored_report):
    arn = seed_orders(world)
    invoke(scheduled_event())
    world.kafka.delete_cluster(ClusterArn=arn)

    invoke(scheduled_event())

    archived = [f for i, f in findings().items() if i.startswith(arn)]
    assert archived
    assert {f["RecordState"] for f in archived} == {"ARCHIVED"}
    assert [r["subject"] for r in stored_report()["resources"]] == ["account-region"]


def test_no_notification_when_nothing_changed(world, invoke, notifications):
    seed_orders(world)
    invoke(scheduled_event())
    assert len(notifications()) == 1

    result = invoke(scheduled_event())

    assert result["details"]["changes"] == 0
    assert notifications() == []


def test_the_report_in_s3_has_the_documented_shape(world, invoke, stored_report):
    arn = seed_orders(world)

    result = invoke(scheduled_event())

    report = stored_report()
    assert set(report) == {"generated_at", "api_calls", "resources", "controls", "summary"}
    assert report["generated_at"].endswith("Z")
    assert report["api_calls"] == result["details"]["api_calls"] > 0
    (cluster, account) = report["resources"]
    assert account["subject"] == "account-region"
    assert {k: cluster[k] for k in ("subject", "arn", "name", "region", "account")} == {
        "subject": "cluster",
        "arn": arn,
        "name": "orders",
        "region": REGION,
        "account": LOCAL_ACCOUNT,
    }
    assert set(cluster["findings"][0]) == {
        "control",
        "category",
        "status",
        "severity",
        "title",
        "detail",
        "remediation",
    }
    assert report["summary"]["failed"] == {"LOW": 1, "MEDIUM": 0, "HIGH": 0, "CRITICAL": 0}
    assert report["summary"]["errors"] == []


def test_an_event_run_updates_its_cluster_in_the_stored_report(world, invoke, stored_report):
    orders = seed_orders(world)
    payments = world.seed({"name": "payments", "securityGroups": [world.security_group()]})[
        "payments"
    ]
    invoke(scheduled_event())
    before = {c["arn"]: c for c in stored_report()["resources"]}

    invoke(api_call_event(orders))

    after = {c["arn"]: c for c in stored_report()["resources"]}
    assert set(after) == {orders, payments, f"AWS::::Account:{LOCAL_ACCOUNT}"}
    assert after[payments] == before[payments]


def test_metrics_per_severity(world, invoke, emitted):
    seed_orders(world)
    emitted()  # forget the seeding's output

    invoke(scheduled_event())

    values = {}
    for line in emitted():
        if "_aws" in line:
            values.update(
                {
                    m["Name"]: line[m["Name"]]
                    for d in line["_aws"]["CloudWatchMetrics"]
                    for m in d["Metrics"]
                }
            )
    assert {k: v for k, v in values.items() if k.startswith("AuditFailed.")} == {
        "AuditFailed.LOW": [1.0],
        "AuditFailed.MEDIUM": [0.0],
        "AuditFailed.HIGH": [0.0],
        "AuditFailed.CRITICAL": [0.0],
    }
    assert values["AuditClusters"] == [1.0]
    assert values["AuditApiCalls"][0] > 0
