"""The broker scaler end to end, one rule of the broker policy per test: the real handler, the MSK
emulator's capacity rules and topic APIs, hourly load in moto CloudWatch, SNS and DynamoDB."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from broker_world import (
    capacity_operations,
    described,
    load_alarm,
    scale_request,
    spec,
)

from msk_autopilot.sweep import SweepIncompleteError
from msk_autopilot_local.emulator.exceptions import MskError
from msk_autopilot_local.emulator.models.nodes import NodesMixin

ROOT = Path(__file__).resolve().parents[3]
SCHEDULE = json.loads((ROOT / "events/scheduled_event.json").read_text())
M7G_PRICES = (
    '{"regions": {"us-east-1": {"broker_hour": '
    '{"kafka.m7g.large": 0.2, "kafka.m7g.xlarge": 0.4, "kafka.m7g.2xlarge": 0.8}}}}'
)
HOT_CPU = {"cpu_user": 60.0, "cpu_system": 15.0}


def instance_type(aws, arn: str) -> str:
    return described(aws, arn)["Provisioned"]["BrokerNodeGroupInfo"]["InstanceType"]


def broker_count(aws, arn: str) -> int:
    return described(aws, arn)["Provisioned"]["NumberOfBrokerNodes"]


def sweep(now) -> dict:
    return {**SCHEDULE, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ")}


# --- vertical, Standard ---------------------------------------------------------------------


def test_sustained_cpu_sizes_up_one_step_and_tells_the_monthly_cost_change(
    aws, fleet, hot, invoke, msk_emulator, notifications, tmp_path
):
    prices = tmp_path / "prices.json"
    prices.write_text(M7G_PRICES)
    arn = fleet(spec("orders"))["orders"]
    hot(arn, **HOT_CPU)
    result = invoke(scale_request(arn), PRICING_FILE=str(prices))
    assert result["status"] == "acted", result
    assert "CPU (user + system)" in result["reason"]
    # the CPU gate holds rolling changes at 75 % CPU, but not this one: it is the remedy
    assert result["details"]["decision"]["change"] == "broker_type_larger"
    assert result["details"]["monthly_cost"] == {
        "currency": "USD",
        "before": 1176.0,  # 3 x 730 h x 0.40 + 3 x 1000 GiB x 0.10
        "after": 2052.0,
        "delta": 876.0,
    }
    msk_emulator.complete_operations()
    assert instance_type(aws, arn) == "kafka.m7g.2xlarge"
    (notice,) = notifications()
    assert "3 x kafka.m7g.xlarge -> 3 x kafka.m7g.2xlarge" in notice["subject"]
    assert "(+876.00)" in notice["subject"]


def test_throughput_above_the_sizes_guidance_sizes_up(aws, fleet, hot, invoke, msk_emulator):
    arn = fleet(spec("orders"))["orders"]
    hot(arn, cpu_user=20.0, cpu_system=5.0, bytes_in=12_000_000.0)  # guidance: 9.6 MB/s
    result = invoke(scale_request(arn))
    assert result["status"] == "acted", result
    assert "Throughput per broker exceeded the size's guidance" in result["reason"]
    msk_emulator.complete_operations()
    assert instance_type(aws, arn) == "kafka.m7g.2xlarge"


def test_no_size_down_before_the_quiet_period_ends(aws, fleet, quiet, invoke, msk_emulator):
    arn = fleet(spec("orders"))["orders"]
    quiet(arn)
    result = invoke(scale_request(arn), BROKER_QUIET_DAYS="14")
    assert result["status"] == "acted"  # 14 quiet days: the control case
    fresh = fleet(spec("payments"))["payments"]
    msk_emulator.set_broker_load(
        fresh, since=timedelta(days=6), cpu_user=8.0, cpu_system=4.0, bytes_in=100_000.0
    )
    early = invoke(scale_request(fresh))
    assert early["status"] == "unchanged", early
    assert capacity_operations(aws, fresh) == []


def test_quiet_cluster_sizes_down_when_partitions_fit(aws, fleet, quiet, invoke, msk_emulator):
    topics = [{"name": "orders", "partitions": 60, "replicationFactor": 3}]
    arn = fleet(spec("orders", topics=topics))["orders"]
    quiet(arn)
    result = invoke(scale_request(arn))
    assert result["status"] == "acted", result
    assert result["details"]["decision"]["change"] == "broker_type_smaller"
    assert result["details"]["partitions_source"] == "DescribeTopicPartitions"
    msk_emulator.complete_operations()
    assert instance_type(aws, arn) == "kafka.m7g.large"


def test_no_size_down_when_partitions_would_not_fit_and_msk_is_never_asked(
    aws, fleet, quiet, invoke
):
    # 1,600 replicas per broker: above the 1,500 kafka.m7g.xlarge's smaller size allows
    topics = [{"name": "clicks", "partitions": 1600, "replicationFactor": 3}]
    arn = fleet(spec("clicks", instance_type="kafka.m7g.2xlarge", topics=topics))["clicks"]
    quiet(arn)
    result = invoke(scale_request(arn))
    assert result["status"] == "unchanged", result
    assert "1600 partitions per broker exceed the 1500 kafka.m7g.xlarge allows" in result["reason"]
    assert capacity_operations(aws, arn) == []


# --- horizontal, Express --------------------------------------------------------------------


def test_express_scales_out_on_throughput_with_rebalancing_active(
    aws, fleet, hot, invoke, msk_emulator
):
    arn = fleet(spec("fast", instance_type="express.m7g.large"))["fast"]
    hot(arn, cpu_user=20.0, cpu_system=5.0, bytes_in=14_000_000.0)  # 90 % of 15.6 MB/s
    result = invoke(scale_request(arn))
    assert result["status"] == "acted", result
    assert result["details"]["decision"]["change"] == "broker_count_up"
    assert "reassignment" not in result["details"]  # intelligent rebalancing places partitions
    msk_emulator.complete_operations()
    assert broker_count(aws, arn) == 6


def test_express_scales_out_when_throttled(aws, fleet, hot, invoke, msk_emulator):
    arn = fleet(spec("fast", instance_type="express.m7g.large"))["fast"]
    hot(arn, cpu_user=20.0, cpu_system=5.0, bytes_in=1_000_000.0, produce_throttle_ms=40.0)
    result = invoke(scale_request(arn))
    assert result["status"] == "acted", result
    assert "throttled" in result["reason"]
    msk_emulator.complete_operations()
    assert broker_count(aws, arn) == 6


def test_express_scales_in_only_with_rebalancing_active(aws, fleet, quiet, invoke, msk_emulator):
    clusters = fleet(
        spec("active", instance_type="express.m7g.xlarge", brokers=6),
        spec("paused", instance_type="express.m7g.xlarge", brokers=6),
    )
    kafka = aws.client("kafka")
    paused = clusters["paused"]
    version = described(aws, paused)["CurrentVersion"]
    kafka.update_rebalancing(
        ClusterArn=paused, CurrentVersion=version, Rebalancing={"Status": "PAUSED"}
    )
    msk_emulator.complete_operations()
    for arn in clusters.values():
        quiet(arn)
    active = invoke(scale_request(clusters["active"]))
    assert active["status"] == "acted", active
    assert active["details"]["decision"]["change"] == "broker_count_down"
    held = invoke(scale_request(paused))
    # without rebalancing the policy sizes down instead, and never resumes rebalancing itself
    assert held["details"]["decision"]["action"] == "type_smaller", held
    msk_emulator.complete_operations()
    assert broker_count(aws, clusters["active"]) == 3
    assert broker_count(aws, paused) == 6
    assert described(aws, paused)["Provisioned"]["Rebalancing"] == {"Status": "PAUSED"}


# --- horizontal, Standard -------------------------------------------------------------------

CROWDED = [{"name": "events", "partitions": 1100, "replicationFactor": 3}]  # > 1,000 recommended
DISK = {"from": 30, "to": 30, "hours": 2}


def test_standard_scale_out_is_recommended_with_its_reassignment_unless_opted_in(
    aws, fleet, hot, invoke, msk_emulator, notifications
):
    clusters = fleet(
        spec("told", instance_type="kafka.m7g.large", topics=CROWDED, diskUsage=DISK),
        spec(
            "scaled",
            instance_type="kafka.m7g.large",
            topics=CROWDED,
            diskUsage=DISK,
            scale_out=True,
        ),
    )
    for arn in clusters.values():
        hot(arn, cpu_user=25.0, cpu_system=10.0)
    told = invoke(scale_request(clusters["told"]))
    assert told["status"] == "unchanged", told
    assert told["reason"].startswith("recommended: ")
    moves = told["details"]["reassignment"]
    # 3,300 replicas over 6 brokers: 550 each, so 550 move to each new broker
    assert moves["replicas_to_move"] == 3 * 550
    assert moves["balanced"] is True
    assert set(moves["replicas_per_broker"].values()) == {550}
    assert moves["bytes_to_move"] > 0  # estimated from KafkaDataLogsDiskUsed
    plan = json.loads(moves["reassignment_json"])
    assert plan["version"] == 1
    assert {broker for p in plan["partitions"] for broker in p["replicas"]} >= {4, 5, 6}
    assert capacity_operations(aws, clusters["told"]) == []
    again = invoke(scale_request(clusters["told"]))
    assert again["status"] == "unchanged"
    (recommendation,) = notifications()  # once a day, not once a run
    assert recommendation["subject"].startswith("Recommended: count up of told")
    assert recommendation["reassignment"]["partitions_to_move"] == moves["partitions_to_move"]

    scaled = invoke(scale_request(clusters["scaled"]))
    assert scaled["status"] == "acted", scaled
    assert scaled["details"]["reassignment"]["replicas_to_move"] == 3 * 550
    msk_emulator.complete_operations()
    assert broker_count(aws, clusters["scaled"]) == 6
    (notice,) = notifications()
    assert "partitions to move" in notice["subject"]


def test_after_a_standard_scale_out_the_empty_brokers_get_a_plan_naming_them_as_msk_does(
    aws, fleet, hot, invoke, msk_emulator, notifications
):
    arn = fleet(spec("grown", instance_type="kafka.m7g.large", topics=CROWDED, scale_out=True))[
        "grown"
    ]
    hot(arn, cpu_user=25.0, cpu_system=10.0)
    assert invoke(scale_request(arn))["status"] == "acted"
    msk_emulator.complete_operations()
    new_ids = {
        int(node["BrokerNodeInfo"]["BrokerId"])
        for node in aws.client("kafka").list_nodes(ClusterArn=arn)["NodeInfoList"]
    } - {1, 2, 3}
    notifications()  # the scale-out's own notice
    msk_emulator.clock.advance(7 * 3600)  # past the scale-out's cool-down
    hot(arn, cpu_user=25.0, cpu_system=10.0)

    result = invoke(scale_request(arn))

    assert result["status"] == "unchanged", result
    assert result["reason"].startswith(
        f"recommended: brokers {', '.join(map(str, sorted(new_ids)))} hold no partitions"
    )
    assert result["details"]["decision"]["action"] == "no_change"  # not yet more brokers
    plan = json.loads(result["details"]["reassignment"]["reassignment_json"])
    targets = {broker for partition in plan["partitions"] for broker in partition["replicas"]}
    assert new_ids <= targets
    assert set(result["details"]["reassignment"]["replicas_per_broker"].values()) == {550}
    assert len(capacity_operations(aws, arn)) == 1
    (notice,) = notifications()
    assert notice["subject"].startswith("Recommended: fill the empty brokers")


def test_standard_scale_in_is_only_recommended_with_its_drain_plan(
    aws, fleet, quiet, invoke, notifications
):
    topics = [{"name": "audit", "partitions": 30, "replicationFactor": 3}]
    arn = fleet(spec("audit", instance_type="kafka.m7g.large", brokers=6, topics=topics))["audit"]
    quiet(arn)
    result = invoke(scale_request(arn))
    assert result["status"] == "unchanged", result
    decision = result["details"]["decision"]
    assert (decision["action"], decision["target_count"]) == ("count_down", 3)
    drain = result["details"]["reassignment"]
    assert drain["balanced"] is True
    assert [drain["replicas_per_broker"][b] for b in ("4", "5", "6")] == [0, 0, 0]
    assert sum(drain["replicas_per_broker"].values()) == 90
    assert capacity_operations(aws, arn) == []
    (notice,) = notifications()
    assert notice["subject"].startswith("Recommended: count down of audit")


# --- what holds a change ------------------------------------------------------------------


def test_under_replication_defers_a_size_up(aws, fleet, hot, invoke, msk_emulator):
    arn = fleet(spec("orders"))["orders"]
    hot(arn, **HOT_CPU)
    msk_emulator.set_cluster_health(arn, under_replicated_partitions=4, cpu_user=60, cpu_system=15)
    result = invoke(scale_request(arn))
    assert result["status"] == "deferred", result
    assert result["details"]["update"]["gate"] == "under-replicated"
    assert capacity_operations(aws, arn) == []


def test_msk_maintenance_holds_every_change(aws, fleet, hot, invoke, msk_emulator):
    arn = fleet(spec("fast", instance_type="express.m7g.large"))["fast"]
    hot(arn, cpu_user=20.0, cpu_system=5.0, bytes_in=14_000_000.0)
    msk_emulator.start_maintenance(arn)  # Express stays ACTIVE, with a BROKER_UPDATE running
    result = invoke(scale_request(arn))
    assert result["status"] == "skipped", result
    assert "BROKER_UPDATE" in result["reason"]
    assert capacity_operations(aws, arn) == []


def test_a_change_waits_for_its_cool_down_after_the_last_one(aws, fleet, hot, invoke, msk_emulator):
    arn = fleet(spec("orders", instance_type="kafka.m7g.large"))["orders"]
    hot(arn, **HOT_CPU)
    assert invoke(scale_request(arn))["status"] == "acted"
    msk_emulator.complete_operations()
    msk_emulator.clock.advance(4 * 3600)
    # still hot on the new size: 4 hours of history since the change, 2 h of cool-down left
    msk_emulator.set_broker_load(arn, since=timedelta(hours=4), **HOT_CPU)
    result = invoke(scale_request(arn))
    assert result["status"] == "skipped", result
    assert result["reason"].startswith("broker_type_larger cool-down: next allowed in 2.")
    assert len(capacity_operations(aws, arn)) == 1
    shorter = invoke(scale_request(arn), BROKER_LARGER_COOLDOWN_HOURS="3")
    assert shorter["status"] == "acted", shorter


def test_dry_run_decides_the_same_and_changes_nothing(aws, fleet, hot, invoke, notifications):
    arn = fleet(spec("orders"))["orders"]
    hot(arn, **HOT_CPU)
    result = invoke(scale_request(arn), DRY_RUN="true")
    assert result["status"] == "dry_run", result
    assert result["details"]["decision"]["target_type"] == "kafka.m7g.2xlarge"
    assert capacity_operations(aws, arn) == []
    assert notifications() == []


def test_clusters_not_opted_in_are_never_read_or_changed(aws, fleet, hot, invoke, msk_emulator):
    clusters = fleet(spec("theirs", opted_in=False), spec("ours"))
    for arn in clusters.values():
        hot(arn, **HOT_CPU)
    direct = invoke(scale_request(clusters["theirs"]))
    assert direct["status"] == "skipped"
    assert "not opted in" in direct["reason"]
    swept = invoke(sweep(msk_emulator.clock.now()))
    assert swept["status"] == "acted", swept
    assert swept["details"]["clusters"] == {clusters["ours"]: "acted"}
    assert capacity_operations(aws, clusters["theirs"]) == []


# --- triggers -----------------------------------------------------------------------------


def test_a_cpu_alarm_wakes_the_scaler_and_a_duplicate_changes_nothing_more(
    aws, fleet, hot, invoke, msk_emulator, notifications
):
    arn = fleet(spec("orders"))["orders"]
    hot(arn, **HOT_CPU)
    alarm = load_alarm(arn, "orders", msk_emulator.clock.now())
    first = invoke(alarm)
    assert first["status"] == "acted", first
    duplicate = invoke(alarm)
    assert duplicate["status"] == "skipped", duplicate
    assert duplicate["reason"] == "cluster is UPDATING, not ACTIVE"  # the first one's change
    assert len(capacity_operations(aws, arn)) == 1
    assert len(notifications()) == 1


def test_alarms_other_than_load_alarms_are_ignored(aws, fleet, hot, invoke, msk_emulator):
    arn = fleet(spec("orders"))["orders"]
    hot(arn, **HOT_CPU)
    heap = load_alarm(arn, "orders", msk_emulator.clock.now(), unit="heap")
    result = invoke(heap)
    assert result["status"] == "skipped"
    assert "not a CPU or throughput alarm" in result["reason"]
    assert capacity_operations(aws, arn) == []


def test_an_express_cluster_at_the_largest_size_without_rebalancing_gets_a_recommendation(
    aws, fleet, hot, invoke, msk_emulator
):
    arn = fleet(spec("top", instance_type="express.m7g.16xlarge"))["top"]
    kafka = aws.client("kafka")
    version = described(aws, arn)["CurrentVersion"]
    kafka.update_rebalancing(
        ClusterArn=arn, CurrentVersion=version, Rebalancing={"Status": "PAUSED"}
    )
    msk_emulator.complete_operations()
    hot(arn, cpu_user=20.0, cpu_system=5.0, produce_throttle_ms=40.0)
    result = invoke(scale_request(arn))
    assert result["status"] == "unchanged", result
    assert result["reason"].startswith("recommended: ")
    assert result["details"]["decision"]["action"] == "count_up"
    assert capacity_operations(aws, arn) == []
    assert described(aws, arn)["Provisioned"]["Rebalancing"] == {"Status": "PAUSED"}


def test_a_cluster_that_cannot_be_read_fails_the_sweep_after_the_others_had_their_turn(
    aws, fleet, hot, invoke, msk_emulator, monkeypatch
):
    clusters = fleet(spec("broken"), spec("orders"))
    for arn in clusters.values():
        hot(arn, **HOT_CPU)
    listed = NodesMixin.list_nodes

    def refuse_broken(backend, cluster_arn):
        if cluster_arn == clusters["broken"]:
            raise ServiceUnavailable("The MSK service is unavailable.")
        return listed(backend, cluster_arn)

    monkeypatch.setattr(NodesMixin, "list_nodes", refuse_broken)
    with pytest.raises(SweepIncompleteError) as failed:
        invoke(sweep(msk_emulator.clock.now()))
    assert failed.value.cluster_arns == [clusters["broken"]]
    assert len(capacity_operations(aws, clusters["orders"])) == 1  # it had its turn
    assert capacity_operations(aws, clusters["broken"]) == []


class ServiceUnavailable(MskError):
    code = 503
    error_type = "ServiceUnavailableException"
