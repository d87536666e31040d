"""The health gates hold the auditor's remediations: a fix restarts brokers, so a cluster that
is hot on CPU (or whose metrics are missing) keeps its failing control until a later run."""

from datetime import UTC, datetime, timedelta

from audit_world import TAG, scheduled_event

from msk_autopilot_local.emulator import seed_fleet
from msk_autopilot_local.emulator.metrics import put_broker_metrics

FIX_PUBLIC_ACCESS = {"REMEDIATE_CONTROLS": "MSK.4"}


def remediations(result):
    return {r["cluster_name"]: r for r in result["details"]["remediations"]}


def updates(world, arn):
    listed = world.kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
    return [op["OperationType"] for op in listed]


def public(world, name, **extra):
    spec = {
        "name": name,
        "securityGroups": [world.security_group()],
        "authentication": {"iam": True},
        "publicAccess": True,  # MSK.4 fails
        "tags": {TAG: "true"},
        **extra,
    }
    return world.seed(spec)[name]


def test_a_hot_cluster_is_not_remediated_and_a_cool_one_is(world, invoke, notifications):
    hot, cool = public(world, "hot"), public(world, "cool")
    # 100 % user and 60 % system half a minute ago, on top of the healthy window's samples
    when = datetime.now(UTC) - timedelta(seconds=30)
    cpu = {"CpuUser": 100.0, "CpuSystem": 60.0}
    put_broker_metrics(world.session.client("cloudwatch"), "hot", 2, cpu, when)
    seeded = updates(world, hot)  # making them public was an operation of its own

    for _ in range(2):  # two scheduled runs
        result = invoke(scheduled_event(), **FIX_PUBLIC_ACCESS)
        held = remediations(result)["hot"]
        assert held["status"] == "held_by_gate"
        assert held["reason"].startswith("deferred by gate cpu: broker 2 CPU (user + system)")
        assert updates(world, hot) == seeded

    assert remediations(result)["cool"]["status"] == "not_ready"  # fixed by the first run
    assert updates(world, cool) == [*seeded, "UPDATE_CONNECTIVITY"]
    notes = [n for n in notifications() if "deferred by gate" in n["subject"]]
    assert [n["subject"] for n in notes] == ["remediation of hot deferred by gate cpu"]


def test_missing_metrics_hold_a_remediation(world, invoke):
    spec = {
        "name": "fresh",
        "securityGroups": [world.security_group()],
        "authentication": {"iam": True},
        "publicAccess": True,
        "tags": {TAG: "true"},
    }
    arn = seed_fleet(world.session, {"clusters": [spec]}).clusters["fresh"]  # no metrics yet
    seeded = updates(world, arn)

    held = remediations(invoke(scheduled_event(), **FIX_PUBLIC_ACCESS))["fresh"]

    assert held["status"] == "held_by_gate"
    assert "remediation waits when a gate cannot tell" in held["reason"]
    assert updates(world, arn) == seeded
