"""The Kafka dead-letter topic (`--on-failure kafka://topic`) on the real local broker: each failed
record produced to the topic as Lambda documents it (kafka-on-failure-destination.html)."""

import base64
import io
import json

import pytest
from confluent_kafka import Consumer
from esm_kit import QUIET, Recorder, Sent, create_topic, produce

from msk_autopilot_local.esm import EsmError, run_poller

CLUSTER_ARN = (
    "arn:aws:kafka:us-east-1:123456789012:cluster/orders/5c9a6e0a-1c2d-4f7e-9a31-2b8f0d4e6a11-2"
)


def read_topic(bootstrap: str, topic: str, count: int) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{topic}",
            "auto.offset.reset": "earliest",
            **QUIET,
        }
    )
    consumer.subscribe([topic])
    messages = []
    try:
        for _ in range(100):
            messages += [m for m in consumer.consume(count, timeout=0.2) if m.error() is None]
            if len(messages) >= count:
                break
        messages += [m for m in consumer.consume(10, timeout=0.5) if m.error() is None]
    finally:
        consumer.close()
    return messages


def test_records_that_keep_failing_go_to_the_dead_letter_topic_one_message_each(kafka, config_for):
    source = create_topic(kafka.bootstrap_servers)
    dead_letters = create_topic(kafka.bootstrap_servers, partitions=2)
    sent = produce(
        kafka.bootstrap_servers,
        [
            Sent(source, 0, None if i == 12 else b"k%d" % i, b"v%d" % i, [("trace", b"t%d" % i)])
            for i in range(20)
        ],
    )
    key = f"{source}-0"

    def answer(event):
        offsets = [r["offset"] for r in event["records"][key]]
        return (
            {"batchItemFailures": [{"itemIdentifier": {"partition": key, "offset": 10}}]}
            if 10 in offsets
            else {"batchItemFailures": []}
        )

    handler = Recorder(answer)
    config = config_for(
        source,
        handler,
        batch_size=20,
        batching_window=0.3,
        max_retries=1,
        cluster_arn=CLUSTER_ARN,
        on_failure=f"kafka://{dead_letters}",
    )
    summary = run_poller(config, status_stream=io.StringIO())

    assert summary.exit_code == 0, summary.error
    assert summary.records_to_destination == 10  # 10-19: the tail that kept failing
    assert summary.committed == {key: 20}
    messages = read_topic(kafka.bootstrap_servers, dead_letters, 10)
    by_offset = {
        json.loads(m.value())["KafkaBatchInfo"]["recordInfo"]["offset"]: m for m in messages
    }
    assert sorted(by_offset, key=int) == [str(i) for i in range(10, 20)]  # each once
    for offset, message in by_offset.items():
        original = sent[int(offset)]
        assert message.key() == original.key  # Lambda keeps the record's key (None: no key)
        assert message.headers() is None  # Lambda documents no headers of its own
        document = json.loads(message.value())
        assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert document["requestContext"]["approximateInvokeCount"] == 2
        assert document["version"] == "1.0"
        info = document["KafkaBatchInfo"]
        assert info["batchSize"] == 1
        assert info["eventSourceArn"] == CLUSTER_ARN
        assert info["bootstrapServers"] == kafka.bootstrap_servers
        assert info["recordInfo"]["timestamp"].endswith("Z")
        payload = document["payload"]  # the event of this one record, as an object
        assert info["payloadSize"] == len(json.dumps(payload, separators=(",", ":")))
        assert payload["eventSource"] == "aws:kafka"
        (record,) = payload["records"][key]
        assert record["offset"] == int(offset)
        assert base64.b64decode(record["value"]) == original.value
        assert record["headers"] == [{"trace": list(original.headers[0][1])}]
    assert by_offset["12"].key() is None


def test_a_dead_letter_topic_that_does_not_exist_is_refused_before_polling(kafka, config_for):
    source = create_topic(kafka.bootstrap_servers)
    config = config_for(source, Recorder(), on_failure="kafka://no-such-dead-letters")
    with pytest.raises(EsmError, match=r"kafka://no-such-dead-letters: the topic does not exist"):
        run_poller(config, status_stream=io.StringIO())


def test_a_source_topic_cannot_be_its_own_dead_letter_topic(kafka, config_for):
    source = create_topic(kafka.bootstrap_servers)
    config = config_for(source, Recorder(), on_failure=f"kafka://{source}")
    with pytest.raises(EsmError, match="cannot be its own dead-letter topic"):
        run_poller(config, status_stream=io.StringIO())
