"""Failures as Lambda handles them: partial batch responses, retries, bisection, on-failure
destinations, and restarts that resume from the committed offsets."""

import base64
import io
import json
import threading
from collections import Counter

from esm_kit import Recorder, Sent, committed, create_topic, produce

from msk_autopilot_local.esm import run_poller


def failure(partition_key: str, offset: int) -> dict:
    """A batch item failure exactly as powertools' BatchProcessor reports one for Kafka."""
    return {"itemIdentifier": {"partition": partition_key, "offset": offset}}


def test_a_partial_batch_response_resumes_each_partition_at_its_first_failed_offset(
    kafka, config_for
):
    topic = create_topic(kafka.bootstrap_servers, partitions=2)
    produce(
        kafka.bootstrap_servers,
        [Sent(topic, p, None, b"%d" % i) for i in range(200) for p in (0, 1)],
    )
    p0, p1 = f"{topic}-0", f"{topic}-1"
    failed_once: set[tuple[str, int]] = set()
    commits_seen_at_retry: list[dict[int, int]] = []

    def answer(event):
        offsets = {key: [r["offset"] for r in group] for key, group in event["records"].items()}
        if failed_once and not commits_seen_at_retry:  # the first invocation after the failure
            commits_seen_at_retry.append(committed(kafka.bootstrap_servers, group, topic, 2))
        items = []
        # offsets 37 and 40 of partition 0 fail once; the earliest one is where it resumes
        for key, offset in ((p0, 40), (p0, 37)):
            if offset in offsets.get(key, []) and (key, offset) not in failed_once:
                failed_once.add((key, offset))
                items.append(failure(key, offset))
        return {"batchItemFailures": items}

    handler = Recorder(answer)
    config = config_for(topic, handler, batch_size=100, batching_window=0.3)
    group = config.consumer_group
    summary = run_poller(config, status_stream=io.StringIO())

    assert summary.exit_code == 0, summary.error
    assert summary.partial_failures == 1
    assert summary.committed == {p0: 200, p1: 200}
    failing_event = next(
        e for e in handler.events if 37 in [r["offset"] for r in e["records"].get(p0, [])]
    )
    retry = handler.events[handler.events.index(failing_event) + 1]
    tail = [r["offset"] for r in failing_event["records"][p0] if r["offset"] >= 37]
    assert list(retry["records"]) == [p0]  # only the failed partition is retried ...
    assert [r["offset"] for r in retry["records"][p0]] == tail  # ... from its first failure
    first_p0 = failing_event["records"][p0][0]["offset"]
    assert commits_seen_at_retry[0].get(0, 0) == 37  # the records before 37 were committed
    assert commits_seen_at_retry[0].get(0, 0) > first_p0
    for key in (p0, p1):
        counts = Counter(handler.offsets(key))
        assert sorted(counts) == list(range(200))  # nothing skipped
        duplicated = sorted(o for o, n in counts.items() if n > 1)
        assert duplicated == (tail if key == p0 else [])  # nothing duplicated but the tail


def test_a_handler_error_mid_batch_retries_the_whole_batch_uncommitted(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers)
    produce(kafka.bootstrap_servers, [Sent(topic, 0, None, b"%d" % i) for i in range(300)])
    raised: list[list[int]] = []
    committed_at_retry: list[dict[int, int]] = []

    def answer(event):
        offsets = [r["offset"] for r in event["records"][f"{topic}-0"]]
        if raised and not committed_at_retry:
            committed_at_retry.append(committed(kafka.bootstrap_servers, group, topic, 1))
        if 157 in offsets and not raised:
            raised.append(offsets)
            raise RuntimeError("database unavailable")
        return {"status": "ok"}  # an answer without batchItemFailures is a success

    handler = Recorder(answer)
    config = config_for(topic, handler, batch_size=100, batching_window=0.3)
    group = config.consumer_group
    status = io.StringIO()
    summary = run_poller(config, status_stream=status)

    assert summary.exit_code == 0, summary.error
    assert summary.function_errors == 1
    assert summary.retries == 1
    failed_at = next(i for i, e in enumerate(handler.events) if 157 in handler.offsets_of(e))
    assert handler.offsets_of(handler.events[failed_at + 1]) == raised[0]  # same batch again
    assert committed_at_retry[0].get(0, 0) == raised[0][0]  # nothing of it was committed
    counts = Counter(handler.offsets(f"{topic}-0"))
    assert sorted(counts) == list(range(300))
    assert sorted(o for o, n in counts.items() if n > 1) == raised[0]
    assert "RuntimeError: database unavailable" in status.getvalue()
    assert "Traceback" in status.getvalue()
    assert summary.committed == {f"{topic}-0": 300}


def test_poison_records_are_bisected_out_and_land_in_s3_with_the_whole_event(
    kafka, config_for, aws
):
    topic = create_topic(kafka.bootstrap_servers)
    sent = produce(
        kafka.bootstrap_servers,
        [Sent(topic, 0, b"k%d" % i, b"poison" if i in (13, 77) else b"ok") for i in range(100)],
    )

    def answer(event):
        for record in event["records"][f"{topic}-0"]:
            if base64.b64decode(record["value"]) == b"poison":
                raise ValueError(f"cannot parse offset {record['offset']}")

    handler = Recorder(answer)
    arn = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/abc-1"
    config = config_for(
        topic,
        handler,
        batch_size=100,
        batching_window=0.3,
        bisect=True,
        max_retries=1,
        on_failure="s3://esm-failures/dlq",
        cluster_arn=arn,
    )
    summary = run_poller(config, status_stream=io.StringIO())

    assert summary.exit_code == 0, summary.error
    assert summary.records_to_destination == 2
    assert summary.bisections > 0
    assert summary.committed == {f"{topic}-0": 100}
    s3 = aws["s3"]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="esm-failures")["Contents"])
    assert len(keys) == 2
    assert all(key.startswith("dlq/aws/lambda/") and f"/{topic}-0/" in key for key in keys)
    documents = [
        json.loads(s3.get_object(Bucket="esm-failures", Key=key)["Body"].read()) for key in keys
    ]
    by_offset = {}
    for document in documents:
        assert list(document) == [
            "requestContext",
            "responseContext",
            "version",
            "timestamp",
            "KafkaBatchInfo",
            "payload",
        ]
        assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert document["requestContext"]["approximateInvokeCount"] == 2  # first try + 1 retry
        assert document["requestContext"]["functionArn"] == (
            "arn:aws:lambda:us-east-1:123456789012:function:handler"
        )
        assert document["responseContext"] == {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        }
        info = document["KafkaBatchInfo"]
        assert info["batchSize"] == 1
        assert info["eventSourceArn"] == arn
        assert info["bootstrapServers"] == kafka.bootstrap_servers
        assert info["payloadSize"] == len(document["payload"])
        ((key, span),) = info["recordsInfo"].items()
        assert key == f"{topic}-0"
        assert span["firstRecordOffset"] == span["lastRecordOffset"]
        payload = json.loads(document["payload"])  # the whole event, as an escaped string
        assert payload["eventSource"] == "aws:kafka"
        (record,) = payload["records"][f"{topic}-0"]
        assert str(record["offset"]) == span["firstRecordOffset"]
        by_offset[record["offset"]] = record
    assert sorted(by_offset) == [13, 77]
    assert base64.b64decode(by_offset[13]["key"]) == sent[13].key
    successes = [
        r["offset"]
        for e in handler.events
        if all(base64.b64decode(r["value"]) != b"poison" for r in e["records"][f"{topic}-0"])
        for r in e["records"][f"{topic}-0"]
    ]
    assert successes == [i for i in range(100) if i not in (13, 77)]  # once each, in order


def test_reported_poison_goes_to_sqs_as_metadata_only_then_the_partition_moves_on(
    kafka, config_for, aws
):
    topic = create_topic(kafka.bootstrap_servers)
    produce(kafka.bootstrap_servers, [Sent(topic, 0, None, b"%d" % i) for i in range(60)])
    key = f"{topic}-0"

    def answer(event):
        offsets = [r["offset"] for r in event["records"][key]]
        return {"batchItemFailures": [failure(key, 25)] if 25 in offsets else []}

    handler = Recorder(answer)
    config = config_for(
        topic,
        handler,
        batch_size=30,
        batching_window=0.3,
        max_retries=2,
        on_failure=aws["queue_url"],
    )
    summary = run_poller(config, status_stream=io.StringIO())

    assert summary.exit_code == 0, summary.error
    assert summary.records_to_destination == 5  # 25-29: the tail that kept failing
    assert summary.committed == {key: 60}
    assert handler.offsets(key).count(25) == 3  # first try and two retries
    messages = aws["sqs"].receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10)
    (message,) = messages["Messages"]
    document = json.loads(message["Body"])
    assert "payload" not in document  # SQS gets metadata only
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == 3
    assert document["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    info = document["KafkaBatchInfo"]
    assert "eventSourceArn" not in info  # self-managed Kafka has no ARN
    assert info["batchSize"] == 5
    assert info["recordsInfo"][key]["firstRecordOffset"] == "25"
    assert info["recordsInfo"][key]["lastRecordOffset"] == "29"
    assert info["recordsInfo"][key]["firstRecordTimestamp"].endswith("Z")
    assert max(handler.offsets(key)) == 59  # the records after the poison were delivered


def test_without_a_destination_exhausted_records_are_discarded_loudly(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers)
    produce(kafka.bootstrap_servers, [Sent(topic, 0, None, b"%d" % i) for i in range(20)])

    def answer(event):
        if 5 in [r["offset"] for r in event["records"][f"{topic}-0"]]:
            raise ValueError("poison")

    status = io.StringIO()
    summary = run_poller(
        config_for(topic, Recorder(answer), batch_size=10, batching_window=0.3, max_retries=1),
        status_stream=status,
    )
    assert summary.records_discarded == 10
    assert summary.records_succeeded == 10
    assert summary.exit_code == 1
    assert summary.committed == {f"{topic}-0": 20}
    assert "discarded 10 records" in status.getvalue()


def test_a_restart_resumes_from_the_committed_offsets_with_nothing_lost(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers, partitions=2)
    produce(
        kafka.bootstrap_servers,
        [Sent(topic, p, None, b"%d" % i) for i in range(150) for p in (0, 1)],
    )
    first, second = Recorder(), Recorder()
    config = config_for(topic, first, batch_size=40, batching_window=0.3, max_batches=3)
    summary = run_poller(config, status_stream=io.StringIO())
    assert summary.stop_reason == "max-batches"
    assert summary.exit_code == 0
    after_first = committed(kafka.bootstrap_servers, config.consumer_group, topic, 2)
    assert sum(after_first.values()) == summary.records_succeeded == len(first.records())

    again = config_for(topic, second, group_id=config.consumer_group, batch_size=40)
    assert run_poller(again, status_stream=io.StringIO()).exit_code == 0
    for partition in (0, 1):
        key = f"{topic}-{partition}"
        resumed = second.offsets(key)
        assert resumed[0] == after_first.get(partition, 0)  # exactly where it stopped
        assert sorted(first.offsets(key) + resumed) == list(range(150))  # no loss, no repeat


def test_a_run_that_stops_mid_failure_redelivers_that_batch_on_restart(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers)
    produce(kafka.bootstrap_servers, [Sent(topic, 0, None, b"%d" % i) for i in range(100)])
    stop = threading.Event()
    crashed: list[list[int]] = []

    def crash(event):
        offsets = [r["offset"] for r in event["records"][f"{topic}-0"]]
        if offsets[0] >= 50:
            crashed.append(offsets)
            stop.set()  # as if the poller were killed while this batch kept failing
            raise ConnectionError("downstream went away")

    first, second = Recorder(crash), Recorder()
    config = config_for(topic, first, batch_size=25, batching_window=0.3)
    summary = run_poller(config, stop=stop, status_stream=io.StringIO())
    assert summary.exit_code == 1
    assert "still failing" in summary.error
    assert summary.committed == {f"{topic}-0": 50}

    again = config_for(topic, second, group_id=config.consumer_group, batch_size=25)
    assert run_poller(again, status_stream=io.StringIO()).exit_code == 0
    assert second.offsets(f"{topic}-0") == list(range(50, 100))
    assert second.offsets(f"{topic}-0")[:25] == crashed[0]
