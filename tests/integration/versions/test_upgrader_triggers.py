"""The version upgrader's triggers and safety, one run or three each: a dry run changes
nothing, a duplicate trigger and the function's own CloudTrail call start nothing more, and a
failed upgrade halts the rollout with one notice."""

from __future__ import annotations

import json

from upgrade_scenario import ROOT, SOAK_HOURS, schedule_event


def test_a_dry_run_plans_asks_the_gates_and_changes_nothing(world, msk_emulator):
    result = world.deliver(schedule_event(msk_emulator.clock.now()), DRY_RUN="true")

    assert result["status"] == "dry_run"
    clusters = result["details"]["clusters"]
    assert clusters["canary"]["result"]["status"] == "dry_run"
    assert clusters["legacy"]["reason"] == "waiting: the canaries go first: canary"
    kafka = world.client("kafka")
    assert [c["Name"] for c in kafka.list_configurations()["Configurations"]] == ["base"]
    for arn in world.clusters.values():
        operations = kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
        assert {op["OperationType"] for op in operations} <= {"CREATE_CLUSTER_V2"}, operations
    assert not [n for n in world.notices() if "started" in n["subject"]]


def test_a_duplicate_trigger_and_the_functions_own_call_start_nothing_more(world, msk_emulator):
    event = schedule_event(msk_emulator.clock.now())
    first = world.deliver(event)
    again = world.deliver(event)

    assert first["status"] == "acted"
    assert again["status"] == "unchanged"
    assert again["reason"].startswith("rollout halted: the version upgrade of canary is running")
    own = json.loads((ROOT / "events" / "cloudtrail_update_kafka_version.json").read_text())
    own["time"] = event["time"]
    own["detail"]["userIdentity"]["arn"] = (
        "arn:aws:sts::123456789012:assumed-role/upgrader-role/msk-autopilot-version-upgrader"
    )
    assert world.deliver(own)["status"] == "skipped"
    kafka = world.client("kafka")
    operations = [
        op
        for arn in world.clusters.values()
        for op in kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
        if op["OperationType"] == "UPDATE_CLUSTER_KAFKA_VERSION"
    ]
    assert len(operations) == 1


def test_a_failed_upgrade_halts_the_rollout_and_is_notified_once(world, msk_emulator):
    msk_emulator.fail_next_operation(error_code="InternalFailure", error_string="broker stuck")
    world.deliver(schedule_event(msk_emulator.clock.now()))
    msk_emulator.complete_operations()
    world.notices()

    for _ in range(2):
        msk_emulator.clock.advance((SOAK_HOURS + 1) * 3600)
        halted = world.deliver(schedule_event(msk_emulator.clock.now()))
        assert halted["status"] == "unchanged"
        assert halted["details"]["halted"] == (
            "the latest version upgrade of canary failed: fix and upgrade it, or pin it"
        )
    subjects = [notice["subject"] for notice in world.notices()]
    assert subjects.count("Kafka version upgrade of canary failed: rollout halted") == 1


def test_bad_tag_values_are_skips_reported_with_the_reason_and_notified_once(world, msk_emulator):
    kafka = world.client("kafka")
    kafka.tag_resource(
        ResourceArn=world.clusters["legacy"], Tags={"msk-autopilot:kafka-version": "banana"}
    )
    kafka.tag_resource(
        ResourceArn=world.clusters["shared-a"],
        Tags={"msk-autopilot:maintenance-window": "whenever"},
    )
    for _ in range(2):
        clusters = world.deliver(schedule_event(msk_emulator.clock.now()))["details"]["clusters"]
        assert clusters["legacy"]["action"] == "skipped"
        assert clusters["legacy"]["reason"] == (
            "skipped: tag msk-autopilot:kafka-version='banana' is neither a known version nor "
            "'recommended' or 'pinned'"
        )
        assert clusters["shared-a"]["action"] == "skipped"
        assert clusters["shared-a"]["reason"].startswith(
            "skipped: maintenance window 'whenever' is not valid: expected"
        )
    subjects = [notice["subject"] for notice in world.notices()]
    assert subjects.count("Kafka version upgrade of legacy skipped") == 1
    assert subjects.count("Kafka version upgrade of shared-a skipped") == 1
