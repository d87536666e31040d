"""The storage scaler end to end: real handler, MSK emulator, moto CloudWatch/SNS/DynamoDB."""

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from msk_autopilot.aws import ClientFactory
from msk_autopilot.events import AlarmStateChange, EventParser
from msk_autopilot.observability import metrics
from msk_autopilot.outcome import Outcome, Status
from msk_autopilot.settings import StorageScalerSettings, load
from msk_autopilot.storage.scaler import build_storage_scaler
from msk_autopilot_local.cli import main
from msk_autopilot_local.emulator.events import disk_alarm_state_change
from msk_autopilot_local.local_lambda import LocalContext
from msk_autopilot_local.stack import DeployedStack

ROOT = Path(__file__).resolve().parents[3]
TAG = "msk-autopilot:managed"

SCHEDULE = json.loads((ROOT / "events/scheduled_event.json").read_text())
TOPIC = "arn:aws:sns:us-east-1:123456789012:msk-autopilot-notifications"


def alarm_event(cluster_arn: str, cluster_name: str, now, broker: str = "1", state="ALARM"):
    return disk_alarm_state_change(
        cluster_arn=cluster_arn, cluster_name=cluster_name, broker=broker, time=now, state=state
    )


def schedule_event(now):
    return {**SCHEDULE, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ")}


def storage_operations(kafka, arn):
    ops = kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
    return [op for op in ops if op["OperationType"] in {"UPDATE_BROKER_STORAGE", "UPDATE_STORAGE"}]


def volume(kafka, arn) -> int:
    info = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
    return info["Provisioned"]["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]["VolumeSize"]


def test_alarm_grows_storage_ahead_of_the_forecast(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator, notifications
):
    arn = fleet(cluster_spec("orders"))["orders"]
    disk("orders", 40, 70)  # 50 GiB/h on 1000 GiB: would fill within the cool-down
    result = invoke(alarm_event(arn, "orders", msk_emulator.clock.now()))
    assert result["status"] == "acted", result
    decision = result["details"]["decision"]
    assert decision["action"] == "grow"
    assert decision["new_gib"] >= 1000 + 10
    # the new size keeps the forecast at the horizon under the 60 % target
    assert decision["new_forecast_percent"] <= 60.0
    kafka = aws.client("kafka")
    assert kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"] == "UPDATING"
    msk_emulator.complete_operations()
    assert volume(kafka, arn) == decision["new_gib"]
    (message,) = notifications()
    assert "1000 -> " in message["subject"]
    assert message["cluster"] == arn


def test_the_growth_notice_carries_the_monthly_cost_change(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator, notifications, tmp_path
):
    prices = tmp_path / "prices.json"
    # kafka.m5.large is not in the built-in table; a price file fills it in.
    prices.write_text('{"regions": {"us-east-1": {"broker_hour": {"kafka.m5.large": 0.2}}}}')
    arn = fleet(cluster_spec("orders"))["orders"]
    disk("orders", 40, 70)
    result = invoke(alarm_event(arn, "orders", msk_emulator.clock.now()), PRICING_FILE=str(prices))
    assert result["status"] == "acted", result
    new_gib = result["details"]["decision"]["new_gib"]
    brokers = 3 * 730 * 0.2
    before, after = brokers + 3 * 1000 * 0.10, brokers + 3 * new_gib * 0.10
    (message,) = notifications()
    assert message["monthly_cost"] == {
        "currency": "USD",
        "before": round(before, 2),
        "after": round(after, 2),
        "delta": round(after - before, 2),
    }
    assert f"monthly cost {before:,.2f} -> {after:,.2f} USD (+" in message["subject"]


def test_a_growth_priced_without_the_broker_price_says_the_cost_is_unknown(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator, notifications, tmp_path
):
    prices = tmp_path / "prices.json"  # a price file that takes kafka.m5.large's price away
    prices.write_text('{"regions": {"us-east-1": {"broker_hour": {"kafka.m5.large": null}}}}')
    arn = fleet(cluster_spec("orders"))["orders"]  # kafka.m5.large
    disk("orders", 40, 70)
    event = alarm_event(arn, "orders", msk_emulator.clock.now())
    assert invoke(event, PRICING_FILE=str(prices))["status"] == "acted"
    (message,) = notifications()
    assert message["monthly_cost"]["before"] is None
    assert message["subject"].endswith("monthly cost unknown -> unknown USD")


def test_sweep_scales_only_opted_in_clusters_and_keeps_no_alarms(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator
):
    arns = fleet(cluster_spec("orders"), cluster_spec("payments", opted_in=False))
    disk("orders", 40, 70)
    disk("payments", 40, 70)
    result = invoke(schedule_event(msk_emulator.clock.now()))
    assert result["status"] == "acted", result
    assert result["details"]["clusters"] == {arns["orders"]: "acted"}
    kafka = aws.client("kafka")
    assert len(storage_operations(kafka, arns["orders"])) == 1
    assert storage_operations(kafka, arns["payments"]) == []
    # The disk alarms are the health monitor's (tests/integration/health).
    stack_alarms = set(DeployedStack.read(aws, ROOT / "template.yaml").physical_ids.values())
    alarms = aws.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert [a["AlarmName"] for a in alarms if a["AlarmName"] not in stack_alarms] == []


def test_cool_down_is_respected_after_a_change(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator
):
    arn = fleet(cluster_spec("orders"))["orders"]
    disk("orders", 40, 70)
    assert invoke(alarm_event(arn, "orders", msk_emulator.clock.now()))["status"] == "acted"
    msk_emulator.complete_operations()
    msk_emulator.clock.advance(3600)  # one hour later: still inside the 6 h cool-down
    new_size = volume(aws.client("kafka"), arn)
    disk("orders", 40, 95, hours=1)  # usage at the new size races up
    result = invoke(alarm_event(arn, "orders", msk_emulator.clock.now()))
    assert result["status"] == "skipped", result
    assert "cool-down" in result["reason"]
    assert len(storage_operations(aws.client("kafka"), arn)) == 1
    assert volume(aws.client("kafka"), arn) == new_size


def test_no_update_while_an_operation_runs(aws, cluster_spec, fleet, disk, invoke, msk_emulator):
    arn = fleet(cluster_spec("orders"))["orders"]
    msk_emulator.configure(operation_seconds=3600)
    disk("orders", 40, 70)
    assert invoke(alarm_event(arn, "orders", msk_emulator.clock.now()))["status"] == "acted"
    msk_emulator.clock.advance(600)  # next decision window, operation still running
    result = invoke(alarm_event(arn, "orders", msk_emulator.clock.now(), broker="2"))
    assert result["status"] == "skipped"
    assert "UPDATING" in result["reason"]
    assert len(storage_operations(aws.client("kafka"), arn)) == 1


def test_cap_reached_grows_to_the_cap_and_alerts(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator, notifications
):
    arn = fleet(cluster_spec("big", volume=16000))["big"]
    disk("big", 50, 80)
    result = invoke(alarm_event(arn, "big", msk_emulator.clock.now()))
    decision = result["details"]["decision"]
    assert decision["action"] == "cap_reached"
    assert decision["severity"] == "CRITICAL"
    assert decision["new_gib"] == 16384
    assert result["status"] == "acted"
    severities = {message["severity"] for message in notifications()}
    assert "CRITICAL" in severities


def test_ten_identical_alarm_events_update_once(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator
):
    arn = fleet(cluster_spec("orders"))["orders"]
    disk("orders", 40, 70)
    event = alarm_event(arn, "orders", msk_emulator.clock.now())
    results = [invoke(event) for _ in range(10)]
    assert [r["status"] for r in results].count("acted") == 10  # the recorded outcome, replayed
    assert len(storage_operations(aws.client("kafka"), arn)) == 1


def test_concurrent_deliveries_of_one_alarm_act_and_notify_once(
    aws, cluster_spec, fleet, disk, msk_emulator, notifications
):
    """Five deliveries of one alarm at once. Whichever claims the decision (its idempotency
    record's PutItem succeeds) holds the claim until the four others have answered, so each of
    them meets the claim in progress: the interleaving the race makes likely, made certain."""
    arn = fleet(cluster_spec("orders"))["orders"]
    disk("orders", 40, 70)
    event = EventParser(AlarmStateChange)(alarm_event(arn, "orders", msk_emulator.clock.now()))
    settings = load(
        StorageScalerSettings,
        {
            "AWS_REGION": "us-east-1",
            "NOTIFICATION_TOPIC_ARN": TOPIC,
            "IDEMPOTENCY_TABLE_NAME": "msk-autopilot-idempotency",
        },
    )
    deliveries = 5
    start = threading.Barrier(deliveries)
    answered = threading.Condition()
    outcomes: list[Outcome] = []
    storage_calls: list[str] = []  # every storage update asked of MSK, accepted or refused
    # DynamoDB applies a conditional write to an item atomically; moto, called from threads, can
    # let two conditional PutItems both pass. Writes are serialized here as DynamoDB does.
    one_write_at_a_time = threading.Lock()
    metrics.clear_metrics()

    def deliver() -> None:
        clients = ClientFactory.for_settings(settings)  # one Lambda invocation's own clients
        claimed = threading.Event()

        def wait_to_write(**_: Any) -> None:  # returns nothing: a value would be the response
            one_write_at_a_time.acquire()

        def note_claim(http_response: Any, **_: Any) -> None:
            one_write_at_a_time.release()
            if http_response.status_code == 200:
                claimed.set()

        def hold_the_claim(**_: Any) -> None:
            if claimed.is_set():
                with answered:
                    answered.wait_for(lambda: len(outcomes) == deliveries - 1, timeout=30)

        kafka = clients.client("kafka")
        dynamodb = clients.client("dynamodb")
        dynamodb.meta.events.register("before-call.dynamodb.PutItem", wait_to_write)
        dynamodb.meta.events.register("after-call.dynamodb.PutItem", note_claim)
        kafka.meta.events.register("before-call.kafka.DescribeClusterV2", hold_the_claim)
        for operation in ("UpdateBrokerStorage", "UpdateStorage"):
            kafka.meta.events.register(
                f"before-call.kafka.{operation}",
                lambda operation=operation, **_: storage_calls.append(operation),
            )
        scaler = build_storage_scaler(settings, clients)
        start.wait()
        result = scaler.handle(event, LocalContext(function_name="storage-scaler"))
        with answered:
            outcomes.append(result)
            answered.notify_all()

    threads = [threading.Thread(target=deliver) for _ in range(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert storage_calls == ["UpdateBrokerStorage"]
    (acted,) = [o for o in outcomes if o.status is Status.ACTED]
    others = [o for o in outcomes if o is not acted]
    assert [o.status for o in others] == [Status.SKIPPED] * (deliveries - 1)
    assert all("another delivery is handling" in o.reason for o in others), others
    (message,) = notifications()
    assert "1000 -> " in message["subject"]
    assert metrics.metric_set["StorageGiBAdded"]["Value"] == [
        acted.details["decision"]["new_gib"] - 1000
    ]
    assert len(storage_operations(aws.client("kafka"), arn)) == 1


def test_dry_run_decides_the_same_without_changing_anything(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator
):
    arn = fleet(cluster_spec("orders"))["orders"]
    disk("orders", 40, 70)
    now = msk_emulator.clock.now()
    dry = invoke(alarm_event(arn, "orders", now), DRY_RUN="true")
    assert dry["status"] == "dry_run"
    assert storage_operations(aws.client("kafka"), arn) == []
    assert volume(aws.client("kafka"), arn) == 1000
    real = invoke(alarm_event(arn, "orders", now))
    assert real["details"]["decision"]["new_gib"] == dry["details"]["decision"]["new_gib"]


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("unknown", "cluster not found"),
        ("no-metrics", "no KafkaDataLogsDiskUsed samples"),
        ("not-opted-in", "not opted in"),
        ("creating", "not ACTIVE"),
        ("serverless", "serverless clusters have no broker storage to grow"),
        ("express", "Express brokers have no EBS volumes to grow"),
    ],
)
def test_clusters_that_cannot_be_scaled_are_skipped_with_a_reason(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator, setup, reason
):
    arn = (
        "arn:aws:kafka:us-east-1:123456789012:cluster/ghost/00000000-0000-0000-0000-000000000000-1"
    )
    if setup == "no-metrics":
        arn = fleet(cluster_spec("quiet"))["quiet"]
    elif setup == "not-opted-in":
        arn = fleet(cluster_spec("mine", opted_in=False))["mine"]
        disk("mine", 40, 70)
    elif setup == "creating":
        msk_emulator.configure(cluster_create_seconds=3600)
        arn = aws.client("kafka").create_cluster_v2(
            ClusterName="young",
            Tags={TAG: "true"},
            Provisioned={
                "BrokerNodeGroupInfo": {
                    "InstanceType": "kafka.m5.large",
                    "ClientSubnets": ["subnet-a", "subnet-b", "subnet-c"],
                    "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}},
                },
                "KafkaVersion": "3.8.x",
                "NumberOfBrokerNodes": 3,
            },
        )["ClusterArn"]
    elif setup == "serverless":
        arn = fleet(
            {"name": "lite", "serverless": True, "subnets": ["a", "b"], "tags": {TAG: "true"}}
        )["lite"]
    elif setup == "express":
        arn = fleet(
            {
                "name": "fast",
                "instanceType": "express.m7g.large",
                "brokers": 3,
                "subnets": ["subnet-a", "subnet-b", "subnet-c"],
                "tags": {TAG: "true"},
            }
        )["fast"]
    result = invoke({"action": "scale", "clusterArn": arn})
    assert result["status"] == "skipped", result
    assert reason in result["reason"]


def test_foreign_and_recovering_alarms_are_skipped(aws, cluster_spec, fleet, invoke, msk_emulator):
    arn = fleet(cluster_spec("orders"))["orders"]
    now = msk_emulator.clock.now()
    ok = invoke(alarm_event(arn, "orders", now, state="OK"))
    assert ok["status"] == "skipped"
    assert "not ALARM" in ok["reason"]
    foreign = alarm_event(arn, "orders", now)
    foreign["detail"]["configuration"]["description"] = "CPU too high"
    foreign["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["name"] = "CpuUser"
    result = invoke(foreign)
    assert result["status"] == "skipped"
    assert "not a disk alarm" in result["reason"]


def test_malformed_events_are_rejected(aws, invoke):
    assert invoke({"action": "scale"})["status"] == "rejected"
    assert invoke({"detail-type": "CloudWatch Alarm State Change"})["status"] == "rejected"


@pytest.mark.parametrize("time", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_impossible_event_times_are_rejected_naming_the_field(
    aws, cluster_spec, fleet, invoke, msk_emulator, time
):
    arn = fleet(cluster_spec("orders"))["orders"]
    now = msk_emulator.clock.now()
    for event in (alarm_event(arn, "orders", now), schedule_event(now)):
        event["time"] = time
        result = invoke(event)
        assert result["status"] == "rejected", result
        assert "`$.time`" in result["reason"]
    kafka = aws.client("kafka")
    assert storage_operations(kafka, arn) == []


def test_plan_storage_shows_the_decision_without_acting(
    aws, cluster_spec, fleet, disk, msk_emulator, capsys
):
    arns = fleet(cluster_spec("orders"), cluster_spec("idle"))
    disk("orders", 40, 70)
    assert main(["plan-storage", "--json"]) == 0
    rows = {row["cluster"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["orders"]["action"] == "grow"
    assert rows["orders"]["new_gib"] > 1000
    assert rows["idle"]["action"] == "skip"
    assert "no KafkaDataLogsDiskUsed samples" in rows["idle"]["reason"]
    assert storage_operations(aws.client("kafka"), arns["orders"]) == []
    assert main(["plan-storage", "--cluster", arns["orders"]]) == 0
    table = capsys.readouterr().out
    assert "orders" in table
    assert "grow" in table


def test_provisioned_throughput_grows_with_size_when_enabled(
    aws, fleet, disk, invoke, msk_emulator
):
    spec = {
        "name": "fast",
        "brokers": 3,
        "volumeSizeGiB": 1000,
        "instanceType": "kafka.m5.4xlarge",
        "provisionedThroughput": 300,
        "subnets": ["subnet-a", "subnet-b", "subnet-c"],
        "tags": {TAG: "true"},
    }
    arn = fleet(spec)["fast"]
    disk("fast", 40, 70)
    result = invoke(
        alarm_event(arn, "fast", msk_emulator.clock.now()), STORAGE_SCALE_THROUGHPUT="true"
    )
    assert result["status"] == "acted", result
    decision = result["details"]["decision"]
    assert result["details"]["update"]["action"] == "UpdateStorage"
    assert 300 < decision["new_throughput_mibps"] <= 593  # m5.4xlarge's maximum
    msk_emulator.complete_operations()
    ebs = aws.client("kafka").describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["Provisioned"][
        "BrokerNodeGroupInfo"
    ]["StorageInfo"]["EbsStorageInfo"]
    assert ebs["VolumeSize"] == decision["new_gib"]
    assert ebs["ProvisionedThroughput"] == {
        "Enabled": True,
        "VolumeThroughput": decision["new_throughput_mibps"],
    }


def test_a_failed_invocation_leaves_no_idempotency_record_behind(
    aws, cluster_spec, fleet, disk, invoke, msk_emulator
):
    arn = fleet(cluster_spec("orders"))["orders"]
    disk("orders", 40, 70)
    sns = aws.client("sns")
    topic = "arn:aws:sns:us-east-1:123456789012:msk-autopilot-notifications"
    sns.delete_topic(TopicArn=topic)  # the notification after the update fails
    event = alarm_event(arn, "orders", msk_emulator.clock.now())
    with pytest.raises(ClientError, match=r"NotFound"):
        invoke(event)
    sns.create_topic(Name="msk-autopilot-notifications")
    retried = invoke(event)  # Lambda's retry is decided afresh, not replayed as the failure
    assert retried["status"] == "skipped"
    assert "UPDATING" in retried["reason"]
    assert len(storage_operations(aws.client("kafka"), arn)) == 1
