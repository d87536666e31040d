"""Operation events against the MSK emulator: real updates start, complete and fail operations on
the emulated clock; moto's EventBridge routes the events to an SQS queue, read the way a
consumer reads them."""

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from msk_autopilot.aws import ClientFactory
from msk_autopilot.health.operation_events import (
    DETAIL_TYPE,
    LEASE,
    SOURCE,
    OperationEvents,
    PublishReport,
    build_operation_events,
)
from msk_autopilot_local.emulator import seed_fleet
from msk_autopilot_local.template.resolve import load_template

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
TABLE = "msk-autopilot-idempotency"


@pytest.fixture
def aws(aws, msk_emulator) -> boto3.Session:
    """The app's account (tests/integration/conftest.py), storage changes without cool-down."""
    msk_emulator.configure(storage_cooldown_seconds=0)
    return aws


@pytest.fixture
def cluster_arn(aws) -> str:
    spec = {"name": "orders", "brokers": 3, "volumeSizeGiB": 1000, "subnets": ["a", "b", "c"]}
    return seed_fleet(aws, {"clusters": [spec]}).clusters["orders"]


@pytest.fixture
def bus(aws) -> Callable[[], list[dict[str, Any]]]:
    """A rule on source msk-autopilot delivering to a queue; returns a reader of the events
    delivered since the last read."""
    sqs, events = aws.client("sqs"), aws.client("events")
    url = sqs.create_queue(QueueName="operation-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="operation-events", EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="operation-events", Targets=[{"Id": "queue", "Arn": arn}])

    def read() -> list[dict[str, Any]]:
        delivered: list[dict[str, Any]] = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            delivered += [json.loads(message["Body"]) for message in messages]
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(messages)
                ],
            )
        return delivered

    return read


def resize(aws, cluster_arn: str, gib: int) -> str:
    kafka = aws.client("kafka")
    version = kafka.describe_cluster_v2(ClusterArn=cluster_arn)["ClusterInfo"]["CurrentVersion"]
    return kafka.update_broker_storage(
        ClusterArn=cluster_arn,
        CurrentVersion=version,
        TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "ALL", "VolumeSizeGB": gib}],
    )["ClusterOperationArn"]


def sweep(publisher: OperationEvents, cluster_arn: str, now) -> PublishReport:
    """What the health monitor does for one cluster."""
    cluster = publisher.msk.cluster(cluster_arn)
    return publisher.publish(cluster, publisher.msk.operations(cluster_arn), now=now)


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["detail"]["operationArn"], e["detail"]["transition"]) for e in events]


def test_transitions_after_the_first_sweep_reach_the_bus_once_each(
    aws, cluster_arn, bus, msk_emulator
):
    publisher = build_operation_events(ClientFactory(REGION), TABLE)
    history = resize(aws, cluster_arn, 1100)
    msk_emulator.complete_operations()
    running = resize(aws, cluster_arn, 1200)
    msk_emulator.clock.advance(60)

    first = sweep(publisher, cluster_arn, msk_emulator.clock.now())
    assert first.published == []
    assert first.retry == []
    assert bus() == []  # the ended operation and the running one's start are history

    msk_emulator.complete_operations()
    later = resize(aws, cluster_arn, 1300)
    sweep(publisher, cluster_arn, msk_emulator.clock.now())
    assert summary(bus()) == [(running, "completed"), (later, "started")]

    msk_emulator.complete_operations()
    msk_emulator.fail_next_operation(error_code="InternalError", error_string="broker 2 stuck")
    failing = resize(aws, cluster_arn, 1400)
    msk_emulator.complete_operations()
    report = sweep(publisher, cluster_arn, msk_emulator.clock.now())
    events = bus()
    # started and ended between two sweeps: both, started first
    assert summary(events) == [(later, "completed"), (failing, "started"), (failing, "failed")]
    assert [t.kind.value for t in report.published] == ["completed", "started", "failed"]

    failed = events[2]
    assert failed["source"] == SOURCE
    assert failed["detail-type"] == DETAIL_TYPE
    assert failed["resources"] == [cluster_arn, failing]
    operation = aws.client("kafka").describe_cluster_operation_v2(ClusterOperationArn=failing)[
        "ClusterOperationInfo"
    ]
    detail = failed["detail"]
    assert detail == {
        "eventId": report.published[2].event_id,
        "transition": "failed",
        "clusterArn": cluster_arn,
        "clusterName": "orders",
        "operationArn": failing,
        "operationType": "UPDATE_BROKER_STORAGE",
        "operationState": "UPDATE_FAILED",
        "startTime": operation["StartTime"].isoformat(),
        "endTime": operation["EndTime"].isoformat(),
        "error": {"errorCode": "InternalError", "errorString": "broker 2 stuck"},
        "possibleDuplicate": False,
    }
    assert "error" not in events[0]["detail"]
    assert events[0]["detail"]["operationState"] == "UPDATE_COMPLETE"
    assert history not in {arn for arn, _ in summary(events)}

    # the event ids are stable: a second publisher with no memory of its own names them alike
    assert len({e["detail"]["eventId"] for e in events}) == 3
    assert sweep(publisher, cluster_arn, msk_emulator.clock.now()).published == []
    msk_emulator.clock.advance(3600)
    assert sweep(publisher, cluster_arn, msk_emulator.clock.now()).published == []
    assert bus() == []


def test_concurrent_sweeps_publish_each_transition_once(aws, cluster_arn, bus, msk_emulator):
    sweep(
        build_operation_events(ClientFactory(REGION), TABLE), cluster_arn, msk_emulator.clock.now()
    )
    msk_emulator.clock.advance(60)
    done = resize(aws, cluster_arn, 1100)
    msk_emulator.complete_operations()
    msk_emulator.fail_next_operation(error_code="KafkaError", error_string="disk full")
    failing = resize(aws, cluster_arn, 1200)
    msk_emulator.complete_operations()
    running = resize(aws, cluster_arn, 1300)
    now = msk_emulator.clock.now()

    sweeps = 6
    start = threading.Barrier(sweeps)
    # DynamoDB applies a conditional write atomically; moto, called from threads, can let two
    # pass. Writes are serialized here as DynamoDB does.
    one_write_at_a_time = threading.Lock()
    reports: list[PublishReport] = []
    errors: list[BaseException] = []

    def wait_to_write(**_: Any) -> None:  # returns nothing: a value would be the response
        one_write_at_a_time.acquire()

    def written(**_: Any) -> None:
        one_write_at_a_time.release()

    def run() -> None:
        publisher = build_operation_events(ClientFactory(REGION), TABLE)  # one invocation's own
        for operation in ("PutItem", "UpdateItem"):
            publisher.dynamodb.meta.events.register(
                f"before-call.dynamodb.{operation}", wait_to_write
            )
            publisher.dynamodb.meta.events.register(f"after-call.dynamodb.{operation}", written)
        start.wait(timeout=30)
        try:
            reports.append(sweep(publisher, cluster_arn, now))
        except BaseException as error:
            errors.append(error)
            raise

    threads = [threading.Thread(target=run) for _ in range(sweeps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    events = bus()
    ids = Counter(e["detail"]["eventId"] for e in events)
    assert len(events) == 5  # 2 + 2 + 1 transitions
    assert set(ids.values()) == {1}, ids  # each once
    assert sorted(summary(events)) == sorted(
        [
            (done, "started"),
            (done, "completed"),
            (failing, "started"),
            (failing, "failed"),
            (running, "started"),
        ]
    )
    assert not any(e["detail"]["possibleDuplicate"] for e in events)
    assert sum(len(r.published) for r in reports) == 5
    assert all(r.retry == [] for r in reports)


def test_a_publisher_that_stops_after_sending_is_taken_over_with_the_flag(
    aws, cluster_arn, bus, msk_emulator
):
    sweep(
        build_operation_events(ClientFactory(REGION), TABLE), cluster_arn, msk_emulator.clock.now()
    )
    msk_emulator.clock.advance(60)
    operation = resize(aws, cluster_arn, 1100)
    now = msk_emulator.clock.now()

    crashing = build_operation_events(ClientFactory(REGION), TABLE)

    def stop(**_: Any) -> None:
        raise RuntimeError("the invocation timed out after PutEvents")

    crashing.events.meta.events.register("after-call.events.PutEvents", stop)
    with pytest.raises(RuntimeError):
        sweep(crashing, cluster_arn, now)
    (sent,) = bus()
    assert sent["detail"]["possibleDuplicate"] is False

    publisher = build_operation_events(ClientFactory(REGION), TABLE)
    held = sweep(publisher, cluster_arn, now + LEASE - timedelta(seconds=1))
    assert held.published == []
    assert bus() == []  # the claim is the stopped publisher's
    taken = sweep(publisher, cluster_arn, now + LEASE + timedelta(seconds=1))
    (copy,) = bus()
    assert summary([copy]) == [(operation, "started")]
    assert copy["detail"]["eventId"] == sent["detail"]["eventId"]
    assert copy["detail"]["possibleDuplicate"] is True
    assert [t.event_id for t in taken.published] == [sent["detail"]["eventId"]]
    assert sweep(publisher, cluster_arn, now + 2 * LEASE).published == []


def readme_routing() -> tuple[dict[str, Any], dict[str, Any]]:
    """The event pattern of the README's `aws events put-rule` and of its template snippet."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Operation events") : readme.index("## Reliability")]
    command = re.search(r"aws events put-rule .*?--event-pattern '(.*?)'", section, flags=re.S)
    assert command is not None
    (snippet,) = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    return json.loads(command.group(1)), snippet


def test_the_readme_rule_routes_failed_operations_only(aws, cluster_arn, msk_emulator, tmp_path):
    pattern, snippet = readme_routing()
    (tmp_path / "rule.yaml").write_text("Resources:\n" + snippet)
    resources = load_template(tmp_path / "rule.yaml")["Resources"]
    assert resources["FailedMskOperations"]["Properties"]["EventPattern"] == pattern

    sqs, events = aws.client("sqs"), aws.client("events")
    url = sqs.create_queue(QueueName="msk-failed-operations")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="msk-failed-operations", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="msk-failed-operations", Targets=[{"Id": "failed", "Arn": arn}])
    publisher = build_operation_events(ClientFactory(REGION), TABLE)
    sweep(publisher, cluster_arn, msk_emulator.clock.now())
    msk_emulator.clock.advance(60)
    msk_emulator.fail_next_operation(error_code="InternalError", error_string="broker 1 stuck")
    failing = resize(aws, cluster_arn, 1100)
    msk_emulator.complete_operations()
    resize(aws, cluster_arn, 1200)
    msk_emulator.complete_operations()
    published = sweep(publisher, cluster_arn, msk_emulator.clock.now()).published
    assert len(published) == 4  # two started, one failed, one completed

    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    detail = json.loads(message["Body"])["detail"]
    assert (detail["operationArn"], detail["transition"]) == (failing, "failed")
