"""The event and failure-record builders on their own: no broker needed."""

import json
import random

from msk_autopilot_local.esm import (
    EventSizer,
    PollerConfig,
    build_event,
    failure_record,
    kafka_record,
)


def test_the_event_sizer_matches_the_serialized_event_byte_for_byte():
    rng = random.Random(5)
    records = [
        kafka_record(
            topic=rng.choice(["orders", "payments", "très-long-topic"[:5]]),
            partition=rng.randrange(12),
            offset=i,
            timestamp=1_795_947_300_000 + i,
            timestamp_type=1,
            key=None if i % 4 == 0 else rng.randbytes(rng.randrange(40)),
            value=None if i % 9 == 0 else rng.randbytes(rng.randrange(300)),
            headers=[("ünïcode-name", rng.randbytes(3)), ("empty", None)] if i % 2 else [],
        )
        for i in range(300)
    ]
    for cluster_arn in (None, "arn:aws:kafka:us-east-1:123456789012:cluster/c/abc-1"):
        sizer = EventSizer("b-1:9092,b-2:9092", cluster_arn)
        for count, record in enumerate(records, start=1):
            sizer.add(record)
            event = build_event(
                records[:count], bootstrap_servers="b-1:9092,b-2:9092", cluster_arn=cluster_arn
            )
            assert sizer.size == len(json.dumps(event, separators=(",", ":")).encode())


def test_records_without_timestamps_or_header_values_keep_a_valid_shape():
    record = kafka_record(
        topic="t",
        partition=0,
        offset=3,
        timestamp=0,
        timestamp_type=0,  # librdkafka: not available
        key=b"k",
        value=b"v",
        headers=[("empty", None), ("text", "abc")],
    )
    assert record.payload["timestamp"] == -1
    assert record.payload["timestampType"] == "NO_TIMESTAMP_TYPE"
    assert record.payload["headers"] == [{"empty": []}, {"text": [97, 98, 99]}]


def test_failure_records_carry_the_payload_for_s3_only():
    records = [
        kafka_record(
            topic="orders",
            partition=p,
            offset=o,
            timestamp=1_795_947_300_123 + o,
            timestamp_type=2,
            key=None,
            value=b"x",
            headers=None,
        )
        for p in (0, 1)
        for o in (7, 8, 9)
    ]
    body = json.dumps(build_event(records, bootstrap_servers="b:9092"), separators=(",", ":"))
    common = {
        "event_body": body,
        "condition": "RetryAttemptsExhausted",
        "invoke_count": 3,
        "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "function_error": "Unhandled",
        "bootstrap_servers": "b:9092",
        "cluster_arn": None,
    }
    sqs = failure_record(records, with_payload=False, **common)
    s3 = failure_record(records, with_payload=True, **common)
    assert "payload" not in sqs
    assert json.loads(s3["payload"]) == json.loads(body)
    assert sqs["KafkaBatchInfo"] == {
        "batchSize": 6,
        "bootstrapServers": "b:9092",
        "payloadSize": len(body),
        "recordsInfo": {
            f"orders-{p}": {
                "firstRecordOffset": "7",
                "lastRecordOffset": "9",
                "firstRecordTimestamp": "2026-11-29T10:15:00.130Z",
                "lastRecordTimestamp": "2026-11-29T10:15:00.132Z",
            }
            for p in (0, 1)
        },
    }
    assert sqs["version"] == "1.0"
    assert sqs["timestamp"].endswith("Z")


def test_infinite_retries_with_a_destination_are_capped_at_ten_like_lambda():
    base = {"bootstrap_servers": "b:9092", "topics": ("t",)}
    assert PollerConfig(**base).effective_max_retries == -1
    assert PollerConfig(**base, on_failure="s3://b").effective_max_retries == 10
    assert PollerConfig(**base, on_failure="s3://b", max_retries=2).effective_max_retries == 2
    assert PollerConfig(**base).consumer_group == "msk-autopilot-esm-record_consumer"
