"""Records reach the handler exactly as Lambda's Kafka event source mapping shapes them."""

import base64
import io
import json
import os
import random
from pathlib import Path

from esm_kit import Recorder, Sent, committed, create_topic, produce

from msk_autopilot_local.esm import MAX_PAYLOAD_BYTES, run_poller

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = json.loads((ROOT / "events" / "msk_records.json").read_text())
RECORD_FIELDS = ["topic", "partition", "offset", "timestamp", "timestampType", "key", "value"]
CLUSTER_ARN = (
    "arn:aws:kafka:us-east-1:123456789012:cluster/orders/5c9a6e0a-1c2d-4f7e-9a31-2b8f0d4e6a11-2"
)


def lambda_shape(sent: Sent) -> dict:
    shaped = {
        "topic": sent.topic,
        "partition": sent.partition,
        "offset": sent.offset,
        "timestamp": sent.timestamp,
        "timestampType": "CREATE_TIME",
        "key": base64.b64encode(sent.key).decode() if sent.key is not None else None,
    }
    if sent.value is not None:
        shaped["value"] = base64.b64encode(sent.value).decode()
    shaped["headers"] = [{name: list(data or b"")} for name, data in sent.headers]
    return shaped


def test_20000_records_arrive_exactly_as_lambda_shapes_them(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers, partitions=4)
    rng = random.Random(8)
    sent = []
    for i in range(20_000):
        headers = [("trace", rng.randbytes(8)), ("bin", bytes([0, 255, i % 256, 10, 13]))]
        if i % 3 == 0:
            headers.append(("trace", b"second value, same name"))
        sent.append(
            Sent(
                topic=topic,
                partition=i % 4,
                key=None if i % 5 == 0 else f"order-{i}".encode(),
                value=json.dumps({"orderId": i, "pad": "x" * (i % 50)}).encode(),
                headers=headers if i % 7 else [],
                timestamp=1_795_947_300_000 + i if i % 2 else None,  # else the producer's clock
            )
        )
    produce(kafka.bootstrap_servers, sent)

    handler = Recorder()
    config = config_for(topic, handler, batch_size=500)
    summary = run_poller(config, status_stream=io.StringIO())

    assert summary.exit_code == 0, summary.error
    assert summary.records_succeeded == 20_000
    assert summary.committed == {f"{topic}-{p}": 5000 for p in range(4)}
    assert committed(kafka.bootstrap_servers, config.consumer_group, topic, 4) == dict.fromkeys(
        range(4), 5000
    )
    for event in handler.events:
        assert event["eventSource"] == "SelfManagedKafka"
        assert event["bootstrapServers"] == kafka.bootstrap_servers
        assert "eventSourceArn" not in event
        assert sum(len(group) for group in event["records"].values()) <= 500
        for key, group in event["records"].items():
            assert {f"{r['topic']}-{r['partition']}" for r in group} == {key}
            assert [r["offset"] for r in group] == sorted(r["offset"] for r in group)
    received = handler.records()
    assert len(received) == 20_000
    by_position = {(r["partition"], r["offset"]): r for r in received}
    assert len(by_position) == 20_000  # each record once
    for record in sent:
        got = by_position[(record.partition, record.offset)]
        assert got == lambda_shape(record)
        assert list(got) == [*RECORD_FIELDS, "headers"]  # Lambda's field order too
    assert any(r["key"] is None for r in received)
    assert base64.b64decode(by_position[(1, 0)]["value"]) == sent[1].value


def test_msk_shape_with_a_cluster_arn_matches_the_sample_event(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers)
    produce(
        kafka.bootstrap_servers,
        [Sent(topic, 0, b"order-1001", b'{"orderId": "1001"}', [("traceparent", b"00-4bf9")])],
    )
    handler = Recorder()
    summary = run_poller(
        config_for(topic, handler, cluster_arn=CLUSTER_ARN), status_stream=io.StringIO()
    )
    assert summary.exit_code == 0
    (event,) = handler.events
    assert list(event) == list(SAMPLE)  # eventSource, eventSourceArn, bootstrapServers, records
    assert event["eventSource"] == "aws:kafka"
    assert event["eventSourceArn"] == CLUSTER_ARN
    sample_record = next(iter(SAMPLE["records"].values()))[0]
    (record,) = event["records"][f"{topic}-0"]
    assert list(record) == list(sample_record)
    assert record["headers"] == [{"traceparent": list(b"00-4bf9")}]


def test_tombstones_and_empty_values_keep_lambdas_shape(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers)
    sent = produce(
        kafka.bootstrap_servers,
        [
            Sent(topic, 0, b"deleted-key", None),  # a tombstone: Lambda sends no "value"
            Sent(topic, 0, None, b""),  # an empty value is still a value
        ],
    )
    handler = Recorder()
    assert run_poller(config_for(topic, handler), status_stream=io.StringIO()).exit_code == 0
    tombstone, empty = handler.records()
    assert "value" not in tombstone
    assert tombstone == lambda_shape(sent[0])
    assert empty["value"] == ""
    assert empty["key"] is None


def test_a_batch_of_large_records_is_cut_at_6_mb(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers, partitions=2)
    sent = produce(
        kafka.bootstrap_servers,
        [Sent(topic, i % 2, f"big-{i}".encode(), os.urandom(700_000)) for i in range(20)],
    )
    handler = Recorder()
    summary = run_poller(
        config_for(topic, handler, batch_size=100, batching_window=1.0),
        status_stream=io.StringIO(),
    )
    assert summary.exit_code == 0
    sizes = [len(json.dumps(event, separators=(",", ":"))) for event in handler.events]
    assert max(sizes) <= MAX_PAYLOAD_BYTES
    assert summary.max_event_bytes == max(sizes)
    assert len(handler.events) >= 3  # 20 records of ~933 KB in base64 do not fit in two
    counts = [sum(len(g) for g in e["records"].values()) for e in handler.events]
    assert max(counts) == 6  # a seventh would cross 6 MB
    assert sorted((r["partition"], r["offset"]) for r in handler.records()) == sorted(
        (s.partition, s.offset) for s in sent
    )


def test_a_record_too_large_for_any_event_goes_to_the_destination_uninvoked(kafka, config_for, aws):
    topic = create_topic(kafka.bootstrap_servers, **{"max.message.bytes": "8000000"})
    sent = produce(
        kafka.bootstrap_servers,
        [
            Sent(topic, 0, None, b"before"),
            Sent(topic, 0, b"huge", os.urandom(5_000_000)),  # 6.7 MB in base64
            Sent(topic, 0, None, b"after"),
        ],
    )
    handler = Recorder()
    summary = run_poller(
        config_for(topic, handler, on_failure="s3://esm-failures"), status_stream=io.StringIO()
    )
    assert summary.exit_code == 0, summary.error
    assert [r["offset"] for r in handler.records()] == [0, 2]
    assert summary.records_to_destination == 1
    assert summary.committed == {f"{topic}-0": 3}
    s3 = aws["s3"]
    (item,) = s3.list_objects_v2(Bucket="esm-failures")["Contents"]
    document = json.loads(s3.get_object(Bucket="esm-failures", Key=item["Key"])["Body"].read())
    assert document["requestContext"]["condition"] == "MaximumPayloadSizeExceeded"
    assert document["responseContext"] is None  # never invoked
    assert document["KafkaBatchInfo"]["payloadSize"] > MAX_PAYLOAD_BYTES
    (record,) = json.loads(document["payload"])["records"][f"{topic}-0"]
    assert base64.b64decode(record["value"]) == sent[1].value


def test_the_batching_window_gathers_records_into_one_invocation(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers)
    produce(kafka.bootstrap_servers, [Sent(topic, 0, None, b"%d" % i) for i in range(30)])
    handler = Recorder()
    summary = run_poller(
        config_for(topic, handler, batch_size=1000, batching_window=0.5),
        status_stream=io.StringIO(),
    )
    assert summary.invocations == 1
    assert len(handler.records()) == 30


def test_status_is_a_refreshing_line_on_a_terminal_and_lines_elsewhere(kafka, config_for):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    topic = create_topic(kafka.bootstrap_servers)
    produce(kafka.bootstrap_servers, [Sent(topic, 0, None, b"x") for _ in range(10)])
    terminal, log = Terminal(), io.StringIO()
    run_poller(config_for(topic, Recorder(), batch_size=5), status_stream=terminal)
    run_poller(config_for(topic, Recorder(), batch_size=5, status_interval=0.2), status_stream=log)
    assert "\r" in terminal.getvalue()
    assert "10 records ok" in terminal.getvalue()
    assert "lag 0" in terminal.getvalue()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) >= 2
    assert lines[-1].startswith("esm: 2 batches | 10 records ok")
