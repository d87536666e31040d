"""Helpers for the ESM poller's tests: produce, read committed offsets, record events."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

QUIET = {"log_level": 0}  # librdkafka's own log lines would only be noise here


@dataclass
class Sent:
    """A record as produced, to compare with what the handler got."""

    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    timestamp: int | None = None
    offset: int = -1


def create_topic(bootstrap: str, partitions: int = 1, **config: str) -> str:
    topic = f"t-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bootstrap, **QUIET})
    new_topic = NewTopic(topic, partitions, 1, config=config)
    admin.create_topics([new_topic])[topic].result(timeout=10)
    return topic


def produce(bootstrap: str, records: list[Sent]) -> list[Sent]:
    """Produce `records` in order and fill in their offsets (and broker timestamps)."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 5, "message.max.bytes": 8_000_000, **QUIET}
    )
    failures: list[str] = []

    def delivered(error, message, sent):
        if error is not None:
            failures.append(str(error))
            return
        sent.offset = message.offset()
        sent.timestamp = message.timestamp()[1]

    for index, sent in enumerate(records):
        extra = {"timestamp": sent.timestamp} if sent.timestamp is not None else {}
        producer.produce(
            sent.topic,
            key=sent.key,
            value=sent.value,
            partition=sent.partition,
            headers=sent.headers or None,
            on_delivery=lambda error, message, sent=sent: delivered(error, message, sent),
            **extra,
        )
        if index % 1000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0
    assert not failures, failures[:3]
    return records


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    """The group's committed offsets (partition -> next offset; absent: nothing committed)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, **QUIET})
    try:
        answer = consumer.committed(
            [TopicPartition(topic, p) for p in range(partitions)], timeout=10
        )
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in answer if tp.offset >= 0}


class Recorder:
    """A handler that keeps every event it was given; `fail` decides its answer per event."""

    def __init__(self, answer: Callable[[dict], object] | None = None) -> None:
        self.events: list[dict] = []
        self.answer = answer

    def __call__(self, event, context):
        self.events.append(event)
        return self.answer(event) if self.answer else {"batchItemFailures": []}

    def records(self) -> list[dict]:
        return [r for event in self.events for group in event["records"].values() for r in group]

    @staticmethod
    def offsets_of(event: dict) -> list[int]:
        return [r["offset"] for group in event["records"].values() for r in group]

    def offsets(self, partition_key: str) -> list[int]:
        return [r["offset"] for e in self.events for r in e["records"].get(partition_key, [])]
