"""The health gates against the MSK emulator through botocore: the reader asks CloudWatch for the
series MSK publishes (request validation included), and the gatekeeper defers, counts and
notifies once per cluster and gate across sweeps, and again after an admission in between.
Changes are counted where they land: MSK calls seen by botocore, operations in the emulator."""

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from msk_autopilot.health.change import ChangeKind
from msk_autopilot.health.gates import gates_for
from msk_autopilot.health.reading import HealthReader
from msk_autopilot.msk import MskPort, UpdateStatus
from msk_autopilot.observability import metrics
from msk_autopilot_local.emulator import seed_fleet
from msk_autopilot_local.emulator.metrics import (
    put_broker_metrics,
    put_cluster_metric,
    put_healthy_window,
)

REGION = "us-east-1"
MUTATING = ("Update", "Batch", "Create", "Delete", "Reboot")


@pytest.fixture
def session(gated_msk: MskPort) -> boto3.Session:  # gated_msk sets up credentials and moto
    return boto3.Session(region_name=REGION)


@pytest.fixture
def orders(session: boto3.Session) -> str:
    spec = {"name": "orders", "brokers": 3, "tags": {"msk-autopilot:managed": "true"}}
    return seed_fleet(session, {"clusters": [spec]}).clusters["orders"]


@pytest.fixture
def msk_calls(gated_msk: MskPort) -> list[str]:
    """The mutating MSK calls the gated port makes, as botocore sends them."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        if model.name.startswith(MUTATING):
            calls.append(model.name)

    gated_msk.kafka.meta.events.register("before-call.kafka.*", record)
    return calls


@pytest.fixture
def inbox(session: boto3.Session, gated_msk: MskPort) -> Any:
    """Reads the subjects the gatekeeper published since the last read."""
    sqs = session.client("sqs")
    queue = sqs.create_queue(QueueName="gate-notices")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    topic = gated_msk.gates.notifier.topic_arn  # type: ignore[attr-defined]
    session.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])

    def read() -> list[str]:
        subjects = []
        while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                subjects.append(message["Body"])
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return subjects

    return read


def a_minute_ago() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=1)


def fix_monitoring(port: MskPort, arn: str, *, dry_run: bool) -> Any:
    return port.update(
        arn,
        "UpdateMonitoring",
        {"EnhancedMonitoring": "PER_TOPIC_PER_BROKER"},
        change=ChangeKind.REMEDIATION,
        reason="MSK.2",
        dry_run=dry_run,
    )


def test_the_reader_asks_for_the_series_msk_publishes(session, orders, gated_msk):
    cloudwatch = session.client("cloudwatch")
    at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    for broker in (1, 2, 3):
        put_broker_metrics(cloudwatch, "orders", broker, {"CpuUser": 10.0 * broker}, at)
        put_broker_metrics(cloudwatch, "orders", broker, {"CpuSystem": 1.0}, at)
    put_cluster_metric(cloudwatch, "orders", "ActiveControllerCount", [0, 1, 0], at)
    put_cluster_metric(cloudwatch, "orders", "OfflinePartitionsCount", [0], at)
    queries: list[dict[str, Any]] = []
    cloudwatch.meta.events.register(
        "provide-client-params.monitoring.GetMetricData",
        lambda params, **_: queries.extend(params["MetricDataQueries"]),
    )
    reader = HealthReader(cloudwatch)
    cluster = gated_msk.cluster(orders)

    reading = reader.read(cluster, [], gates_for(ChangeKind.CONFIGURATION), now=datetime.now(UTC))

    cpu = reading.metrics["CpuUser"]
    assert {broker: [s.value for s in samples] for broker, samples in cpu.items()} == {
        "1": [10.0],
        "2": [20.0],
        "3": [30.0],
    }
    # ActiveControllerCount is read with Sum over the brokers' data points: 1 per minute.
    assert [s.value for s in reading.metrics["ActiveControllerCount"]["cluster"]] == [1.0]
    assert [s.value for s in reading.metrics["OfflinePartitionsCount"]["cluster"]] == [0.0]
    assert reading.metrics["UnderReplicatedPartitions"] == {"1": [], "2": [], "3": []}
    dimensions = {
        (q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"]): [
            d["Name"] for d in q["MetricStat"]["Metric"]["Dimensions"]
        ]
        for q in queries
    }
    assert dimensions[("ActiveControllerCount", "Sum")] == ["Cluster Name"]
    assert dimensions[("OfflinePartitionsCount", "Maximum")] == ["Cluster Name"]
    assert dimensions[("CpuUser", "Average")] == ["Cluster Name", "Broker ID"]
    assert {q["MetricStat"]["Period"] for q in queries} == {60}


def test_storage_growth_reads_no_metric(session, orders, gated_msk):
    calls: list[str] = []
    cloudwatch = session.client("cloudwatch")
    cloudwatch.meta.events.register("before-call.monitoring.*", lambda model, **_: calls.append(1))
    reader = HealthReader(cloudwatch)
    reading = reader.read(
        gated_msk.cluster(orders), [], gates_for(ChangeKind.STORAGE_GROWTH), now=datetime.now(UTC)
    )
    assert reading.metrics == {}
    assert calls == []


def test_a_deferral_is_notified_once_per_cluster_and_gate_and_again_after_an_admission(
    session, orders, gated_msk, msk_calls, inbox
):
    cloudwatch = session.client("cloudwatch")
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    now = [start]
    gated_msk.gates.clock = lambda: now[0]  # type: ignore[attr-defined]
    put_healthy_window(cloudwatch, "orders", brokers=3, end=start)
    put_broker_metrics(
        cloudwatch, "orders", 1, {"UnderReplicatedPartitions": 5}, start - timedelta(minutes=2)
    )
    metrics.clear_metrics()

    for minute in range(3):  # three sweeps, a minute apart; dry run reports the deferral too
        now[0] = start + timedelta(minutes=minute)
        result = fix_monitoring(gated_msk, orders, dry_run=True)
        assert result.status is UpdateStatus.DEFERRED
        assert result.gate == "under-replicated"
    assert len(inbox()) == 1
    assert metrics.metric_set["Deferred.under-replicated"]["Value"] == [1, 1, 1]

    # 20 minutes on, the window holds only healthy minutes: admitted, the notice forgotten.
    now[0] = start + timedelta(minutes=20)
    put_healthy_window(cloudwatch, "orders", brokers=3, end=now[0])
    assert fix_monitoring(gated_msk, orders, dry_run=True).status is UpdateStatus.DRY_RUN
    # Under-replicated again: news again, once.
    now[0] += timedelta(minutes=1)
    put_broker_metrics(
        cloudwatch, "orders", 3, {"UnderReplicatedPartitions": 1}, now[0] - timedelta(seconds=30)
    )
    for _ in range(2):
        assert fix_monitoring(gated_msk, orders, dry_run=False).gate == "under-replicated"
    subjects = inbox()
    assert len(subjects) == 1
    assert "remediation of orders deferred by gate under-replicated" in subjects[0]
    assert msk_calls == []
    assert [op.operation_type for op in gated_msk.operations(orders)] == []


def test_another_gate_on_the_same_cluster_is_news_of_its_own(session, orders, gated_msk, inbox):
    cloudwatch = session.client("cloudwatch")
    put_healthy_window(cloudwatch, "orders", brokers=3)
    # A minute ago: CloudWatch's EndTime is exclusive, and the reader's is "now".
    put_broker_metrics(cloudwatch, "orders", 2, {"UnderMinIsrPartitionCount": 1}, a_minute_ago())
    assert fix_monitoring(gated_msk, orders, dry_run=True).gate == "under-min-isr"
    put_cluster_metric(cloudwatch, "orders", "OfflinePartitionsCount", [3], a_minute_ago())
    assert fix_monitoring(gated_msk, orders, dry_run=True).gate == "offline-partitions"
    assert len(inbox()) == 2


def test_an_admitted_change_reaches_msk_once(session, orders, gated_msk, msk_calls):
    put_healthy_window(session.client("cloudwatch"), "orders", brokers=3)
    result = fix_monitoring(gated_msk, orders, dry_run=False)
    assert result.status is UpdateStatus.STARTED
    assert msk_calls == ["UpdateMonitoring"]
    assert [op.operation_type for op in gated_msk.operations(orders)] == ["UPDATE_MONITORING"]
