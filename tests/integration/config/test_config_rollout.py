"""The configuration rotator end to end: the real handler, cold-started per run, against the MSK
emulator. Each run takes at most one step per configuration; state lives only in AWS."""

import os
import time
from typing import Any

import botocore.client
import pytest
from config_account import PREFIX, REGION, Account, cloudtrail_event
from moto.kafka.models import kafka_backends

from msk_autopilot.config.rollout import ReconcileError

BASE = """\
# Broker settings of the orders clusters.
# msk-autopilot:kafka-versions = 3.8.x
auto.create.topics.enable=false
min.insync.replicas=2
log.retention.hours=168
"""
# The same properties: reordered, recommented, re-spaced. Not a new revision.
BASE_REWORDED = """\
# msk-autopilot:kafka-versions = 3.8.x
log.retention.hours = 168
# durability first
min.insync.replicas = 2
auto.create.topics.enable = false
"""
BASE_EDITED = BASE.replace("log.retention.hours=168", "log.retention.hours=72")
OTHER = "num.partitions=6\n"
MSK_BASE = "msk-autopilot-base"
ACCOUNT_ID = "123456789012"


def base_of(result: dict[str, Any]) -> dict[str, Any]:
    return result["details"]["configurations"]["base"]


def converge(account: Account, **environment: str) -> dict[str, Any]:
    """Run the rotator, letting MSK finish each update, until no configuration moves."""
    for _ in range(12):
        result = account.rotate_configurations(**environment)
        states = {c["state"] for c in result["details"]["configurations"].values()}
        if not states & {"updating", "waiting"}:
            return result
        account.finish_operations()
    raise AssertionError(f"no convergence: {result}")


def metric_total(lines: list[dict[str, Any]], name: str) -> float:
    return sum(sum(line[name]) for line in lines if "_aws" in line and name in line)


def subjects(notifications: list[dict[str, Any]]) -> list[str]:
    return [notification["subject"] for notification in notifications]


@pytest.fixture
def trio(account: Account) -> dict[str, str]:
    """Three clusters that follow `base`; beta is the canary."""
    return {
        "alpha": account.cluster("alpha"),
        "beta": account.cluster("beta", canary=True),
        "gamma": account.cluster("gamma"),
    }


def test_first_rollout_goes_canary_first_one_cluster_at_a_time(account, trio, emitted):
    account.push("base", BASE)

    first = account.rotate_configurations()
    assert first["status"] == "acted"
    assert base_of(first)["order"] == ["beta", "alpha", "gamma"]
    assert base_of(first)["actions"] == [
        f"created {MSK_BASE} revision 1",
        "started update of beta to revision 1",
    ]
    waiting = account.rotate_configurations()  # beta's update still runs
    assert base_of(waiting)["state"] == "waiting"
    assert "beta" in base_of(waiting)["reason"]
    assert account.operations(trio["alpha"]) == account.operations(trio["gamma"]) == []

    for name in ("alpha", "gamma"):
        account.finish_operations()
        step = account.rotate_configurations()
        assert base_of(step)["actions"] == [f"started update of {name} to revision 1"]
    account.finish_operations()
    done = account.rotate_configurations()

    assert done["status"] == "unchanged"
    assert base_of(done)["state"] == "complete"
    assert {account.position(arn) for arn in trio.values()} == {(MSK_BASE, 1)}
    assert account.revision_count(MSK_BASE) == 1
    configuration = account.configurations()[MSK_BASE]
    assert configuration["KafkaVersions"] == ["3.8.x"]
    stored = account.kafka.describe_configuration_revision(Arn=configuration["Arn"], Revision=1)
    assert stored["ServerProperties"] == (
        b"auto.create.topics.enable=false\nmin.insync.replicas=2\nlog.retention.hours=168\n"
    )
    started = [
        op["StartTime"]
        for name in ("beta", "alpha", "gamma")
        for op in account.operations(trio[name])
    ]
    assert started == sorted(started)  # canary, then by name
    assert subjects(account.notifications()) == [
        f"{MSK_BASE} revision 1 created",
        "beta: base revision 1",
        "alpha: base revision 1",
        "gamma: base revision 1",
        "base revision 1 runs on every eligible cluster",
    ]
    lines = emitted()
    assert metric_total(lines, "ConfigRevisionsCreated") == 1
    assert metric_total(lines, "ConfigClustersUpdated") == 3
    assert metric_total(lines, "ConfigDriftFound") == 0


def test_an_edit_makes_one_new_revision_and_a_rolling_update(account, trio):
    account.push("base", BASE)
    converge(account)
    account.notifications()

    account.push("base", BASE_REWORDED)
    unchanged = account.rotate_configurations()
    assert base_of(unchanged)["state"] == "complete"
    assert account.revision_count(MSK_BASE) == 1

    account.push("base", BASE_EDITED)
    first = account.rotate_configurations()
    assert base_of(first)["actions"] == [
        f"created {MSK_BASE} revision 2",
        "started update of beta to revision 2",
    ]
    created = account.notifications()[0]
    assert created["changes"] == ["~ log.retention.hours: 168 -> 72"]
    for _ in range(3):  # runs while beta updates add nothing
        assert base_of(account.rotate_configurations())["state"] == "waiting"
    assert account.revision_count(MSK_BASE) == 2

    converge(account)
    assert {account.position(arn) for arn in trio.values()} == {(MSK_BASE, 2)}
    assert account.revision_count(MSK_BASE) == 2
    assert all(len(account.operations(arn)) == 2 for arn in trio.values())


def test_an_invalid_configuration_changes_nothing_and_notifies_once(account, trio):
    account.push("base", BASE)
    converge(account)
    account.notifications()
    follower = account.cluster("delta", follows="broken")
    account.push(
        "broken",
        "auto.create.topics.enable=maybe\nnum.partitions=3\nnum.partitions=4\nlog.retension.ms=1\n",
    )
    account.push("base", BASE_EDITED.replace("min.insync.replicas=2", "min.insync.replicas=0"))

    result = account.rotate_configurations()

    broken = result["details"]["configurations"]["broken"]
    assert broken["state"] == "invalid"
    assert broken["problems"] == [
        f"{PREFIX}broken:1: auto.create.topics.enable must be true or false, not 'maybe'",
        f"{PREFIX}broken:3: num.partitions is set twice (first on line 2)",
        f"{PREFIX}broken:4: 'log.retension.ms' is not a property MSK lets customers set; "
        "did you mean 'log.retention.ms'?",
    ]
    assert base_of(result)["state"] == "invalid"
    assert base_of(result)["problems"] == [
        f"{PREFIX}base:4: min.insync.replicas must be at least 1, not 0"
    ]
    assert "msk-autopilot-broken" not in account.configurations()
    assert account.revision_count(MSK_BASE) == 1
    assert account.operations(follower) == []
    assert all(len(account.operations(arn)) == 1 for arn in trio.values())
    warned = account.notifications()
    assert sorted(subjects(warned)) == [
        "configuration base is invalid; nothing applied",
        "configuration broken is invalid; nothing applied",
    ]
    assert {n["severity"] for n in warned} == {"WARNING"}

    again = account.rotate_configurations()
    assert base_of(again)["state"] == "invalid"
    assert account.notifications() == []  # the same problem is not notified every run


def test_a_failed_update_halts_the_rollout_while_other_configurations_go_on(account, trio, emitted):
    delta = account.cluster("delta", follows="other")
    account.push("base", BASE)
    account.push("other", OTHER)
    converge(account)
    account.notifications()
    account.push("base", BASE_EDITED)
    account.push("other", "num.partitions=12\n")
    account.control.fail_next_operation(
        error_code="InternalFailure", error_string="broker 2 did not come back"
    )

    started = account.rotate_configurations()  # beta's update starts (and will fail)
    assert base_of(started)["actions"][-1] == "started update of beta to revision 2"
    account.finish_operations()
    halted = account.rotate_configurations()

    assert base_of(halted)["state"] == "halted"
    assert base_of(halted)["actions"] == [
        f"rollback of beta not needed: MSK reports {MSK_BASE} revision 1 again"
    ]
    assert account.position(trio["beta"]) == (MSK_BASE, 1)
    assert halted["details"]["configurations"]["other"]["state"] == "complete"
    assert account.position(delta) == ("msk-autopilot-other", 2)
    critical = [n for n in account.notifications() if n["severity"] == "CRITICAL"]
    assert subjects(critical) == ["rollout of base revision 2 halted"]
    assert critical[0]["error"] == "InternalFailure: broker 2 did not come back"

    for _ in range(2):
        assert base_of(account.rotate_configurations())["state"] == "halted"
    assert len(account.operations(trio["alpha"])) == len(account.operations(trio["gamma"])) == 1
    assert [n for n in account.notifications() if n["severity"] == "CRITICAL"] == []
    assert metric_total(emitted(), "ConfigRollbacks") == 0


def test_a_cluster_left_on_the_failed_revision_is_rolled_back(account, trio, emitted):
    account.push("base", BASE)
    converge(account)
    account.push("base", BASE_EDITED)
    account.control.fail_next_operation(error_code="InternalFailure", error_string="bad config")
    account.rotate_configurations()
    account.finish_operations()
    # MSK may report the new revision after a rolling update failed halfway (brokers already
    # restarted with it); the emulator keeps the old one, so set what MSK would report.
    arn = account.configurations()[MSK_BASE]["Arn"]
    beta = kafka_backends[ACCOUNT_ID][REGION].msk_clusters[trio["beta"]]
    beta.settings["ConfigurationInfo"] = {"Arn": arn, "Revision": 2}

    halted = account.rotate_configurations()

    rollback = base_of(halted)["actions"]
    assert rollback[0].startswith(f"rollback of beta to {MSK_BASE} revision 1: started")
    account.finish_operations()
    assert account.position(trio["beta"]) == (MSK_BASE, 1)
    assert base_of(account.rotate_configurations())["state"] == "halted"
    assert metric_total(emitted(), "ConfigRollbacks") == 1
    assert {account.position(trio[name]) for name in ("alpha", "gamma")} == {(MSK_BASE, 1)}


def test_pushing_again_retries_a_halted_rollout(account, trio):
    # Operations end the moment they start, so the emulated clock stays on real time, which
    # Parameter Store's LastModifiedDate is on.
    account.control.configure(operation_seconds=0)
    account.push("base", BASE)
    converge(account)
    account.push("base", BASE_EDITED)
    account.control.fail_next_operation(error_code="InternalFailure", error_string="transient")
    account.rotate_configurations()
    assert base_of(account.rotate_configurations())["state"] == "halted"

    time.sleep(0.05)
    account.push("base", BASE_EDITED)  # unchanged text, new write: "try again"
    retried = account.rotate_configurations()

    assert base_of(retried)["actions"] == ["started update of beta to revision 2"]
    assert account.revision_count(MSK_BASE) == 2
    converge(account)
    assert {account.position(arn) for arn in trio.values()} == {(MSK_BASE, 2)}


def test_out_of_band_drift_is_repaired(account, trio, emitted):
    account.push("base", BASE)
    converge(account)
    account.notifications()
    foreign = account.kafka.create_configuration(
        Name="hand-tuned", ServerProperties=b"num.partitions=12\n"
    )["Arn"]
    version = account.kafka.describe_cluster_v2(ClusterArn=trio["alpha"])["ClusterInfo"]
    account.kafka.update_cluster_configuration(
        ClusterArn=trio["alpha"],
        CurrentVersion=version["CurrentVersion"],
        ConfigurationInfo={"Arn": foreign, "Revision": 1},
    )
    account.finish_operations()

    own = cloudtrail_event(
        "UpdateClusterConfiguration",
        "arn:aws:sts::123456789012:assumed-role/rotator-role/msk-autopilot-config-rotator",
        trio["alpha"],
    )
    assert account.rotate_configurations(own)["status"] == "skipped"
    someone = cloudtrail_event(
        "UpdateClusterConfiguration",
        "arn:aws:sts::123456789012:assumed-role/platform-admin/jane",
        trio["alpha"],
    )
    repaired = account.rotate_configurations(someone)

    assert base_of(repaired)["drifted"] == ["alpha"]
    assert base_of(repaired)["actions"] == ["started update of alpha to revision 1"]
    assert account.notifications()[0]["purpose"] == "repair drift"
    account.finish_operations()
    assert account.position(trio["alpha"]) == (MSK_BASE, 1)
    assert base_of(account.rotate_configurations())["state"] == "complete"
    assert metric_total(emitted(), "ConfigDriftFound") == 1


def test_report_only_mode_reports_drift_and_leaves_it(account, trio):
    newcomer = account.kafka.create_configuration(
        Name="team-default", ServerProperties=b"num.partitions=3\n"
    )["Arn"]
    account.push("base", BASE)
    converge(account)
    late = account.kafka.create_cluster_v2(
        ClusterName="late",
        Tags={"msk-autopilot:managed": "true", "msk-autopilot:configuration": "base"},
        Provisioned={
            "BrokerNodeGroupInfo": {
                "ClientSubnets": ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"],
                "InstanceType": "kafka.m5.large",
                "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}},
            },
            "KafkaVersion": "3.8.x",
            "NumberOfBrokerNodes": 3,
            "ConfigurationInfo": {"Arn": newcomer, "Revision": 1},
        },
    )["ClusterArn"]
    account.notifications()
    event = cloudtrail_event("CreateClusterV2", "arn:aws:sts::123456789012:assumed-role/x/y", late)

    result = account.rotate_configurations(event, CONFIG_DRIFT_ACTION="report")

    assert base_of(result)["state"] == "complete"
    assert base_of(result)["skipped"] == {
        "late": "drifted to team-default revision 1; report-only mode"
    }
    assert account.operations(late) == []
    assert subjects(account.notifications()) == ["late drifted from configuration base"]


def test_a_run_interrupted_mid_rollout_is_resumed_by_the_next(account, trio, monkeypatch):
    real_call = botocore.client.BaseClient._make_api_call
    crash_on = {"UpdateClusterConfiguration": 1}

    def crashing_call(client, operation_name, params):
        if crash_on.get(operation_name, 0) > 0:
            crash_on[operation_name] -= 1
            raise TimeoutError("Task timed out after 120.00 seconds")
        return real_call(client, operation_name, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", crashing_call)
    account.push("base", BASE)

    # The run dies after creating the revision, before touching any cluster; the function
    # fails the invocation (error alarm, Lambda retry) and changes nothing more.
    with pytest.raises(ReconcileError, match="Task timed out"):
        account.rotate_configurations()
    assert account.revision_count(MSK_BASE) == 1
    assert all(account.operations(arn) == [] for arn in trio.values())

    resumed = account.rotate_configurations()
    assert base_of(resumed)["actions"] == ["started update of beta to revision 1"]
    account.finish_operations()
    crash_on["UpdateClusterConfiguration"] = 1
    with pytest.raises(ReconcileError):  # dies again, mid-rollout this time
        account.rotate_configurations()

    converge(account)
    assert account.revision_count(MSK_BASE) == 1
    assert {account.position(arn) for arn in trio.values()} == {(MSK_BASE, 1)}
    assert all(len(account.operations(arn)) == 1 for arn in trio.values())


def test_dry_run_reports_the_plan_and_changes_nothing(account, trio):
    account.push("base", BASE)

    result = account.rotate_configurations(DRY_RUN="true")

    assert result["status"] == "dry_run"
    assert base_of(result)["state"] == "planned"
    assert base_of(result)["actions"] == [
        f"would create {MSK_BASE} revision 1",
        "would update beta to revision 1 (roll out)",
    ]
    assert account.configurations() == {}
    assert all(account.operations(arn) == [] for arn in trio.values())
    assert account.notifications() == []


def test_each_unusable_input_gets_a_reason_and_no_change(account, monkeypatch):
    stranger = account.cluster("stranger", follows="ghost")
    account.cluster("untagged", follows=None)
    shy = account.cluster("shy", opted_in=False)
    legacy = account.cluster("legacy", kafka_version="3.9.x")
    doomed = account.cluster("doomed", canary=True)
    account.cluster("fine")
    account.kafka.create_cluster_v2(
        ClusterName="lambda-events",
        Serverless={
            "VpcConfigs": [{"SubnetIds": ["subnet-0aaa", "subnet-0bbb"]}],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
        Tags={"msk-autopilot:managed": "true", "msk-autopilot:configuration": "base"},
    )
    account.push("base", BASE)
    account.ssm.put_parameter(Name=PREFIX + "team/nested", Value=OTHER, Type="String")
    account.ssm.put_parameter(Name=PREFIX + "listed", Value="a,b", Type="StringList")
    real_call = botocore.client.BaseClient._make_api_call

    def deleting_call(client, operation_name, params):
        result = real_call(client, operation_name, params)
        if operation_name == "ListClustersV2" and account.configurations() == {}:
            # someone else deletes it mid-run: not a call of the function (see tests/conftest)
            function = os.environ.pop("AWS_LAMBDA_FUNCTION_NAME", None)
            try:
                real_call(client, "DeleteCluster", {"ClusterArn": doomed})
            finally:
                if function is not None:
                    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = function
        return result

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", deleting_call)

    result = account.rotate_configurations()

    details = result["details"]
    assert details["clustersNotFollowing"] == {
        "stranger": f"follows 'ghost', which is not under {PREFIX}",
        "untagged": "has no msk-autopilot:configuration tag; follows nothing",
    }
    assert set(details["unusableParameters"]) == {PREFIX + "team/nested", PREFIX + "listed"}
    assert base_of(result)["skipped"] == {
        "doomed": "was deleted",
        "lambda-events": "is serverless; serverless clusters take no configuration",
        "legacy": "runs Apache Kafka 3.9.x; the configuration lists 3.8.x",
        "shy": "is not opted in (tag msk-autopilot:managed=true)",
    }
    assert base_of(result)["actions"][-1] == "started update of fine to revision 1"
    assert account.operations(stranger) == account.operations(shy) == []
    assert account.operations(legacy) == []
