"""Produce records to any Kafka: the topic is created when missing, every record's delivery is
awaited, and an unreachable broker is an error within a bounded time, not a hang."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from msk_autopilot_local.errors import LocalToolError

__all__ = ["KeyValue", "ProduceError", "produce"]

type KeyValue = tuple[bytes | None, bytes | None]


class ProduceError(LocalToolError):
    """Kafka could not be reached, the topic not created, or records not delivered."""


def produce(
    bootstrap_servers: str,
    topic: str,
    records: Iterable[KeyValue],
    *,
    partitions: int = 1,
    timeout: float = 10.0,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Produce `records` (key, value) to `topic` in order and return how many were delivered.

    The topic is created with `partitions` partitions (replication factor 1) when it does not
    exist. `timeout` bounds reaching Kafka, creating the topic and the final flush; `progress`
    is told how many were handed to the client every 1,000 records. Raises `ProduceError`.
    """
    from confluent_kafka import KafkaException, Producer  # noqa: PLC0415  keeps --help fast

    settings: dict[str, Any] = {"bootstrap.servers": bootstrap_servers, "log_level": 0}
    _ensure_topic(settings, topic, partitions, timeout)
    producer = Producer({**settings, "linger.ms": 20, "enable.idempotence": False})
    delivered = 0
    errors: list[str] = []

    def on_delivery(error: Any, _message: Any) -> None:
        nonlocal delivered
        if error is None:
            delivered += 1
        else:
            errors.append(error.str())

    sent = 0
    try:
        for key, value in records:
            _produce_one(producer, topic, key, value, on_delivery)
            sent += 1
            if sent % 1000 == 0:
                producer.poll(0)
                if progress is not None:
                    progress(sent)
    except KafkaException as error:
        raise ProduceError(f"cannot produce to {topic}: {error.args[0].str()}") from None
    left = producer.flush(timeout)
    if left or errors:
        reason = errors[0] if errors else f"no answer from {bootstrap_servers} within {timeout:g} s"
        raise ProduceError(
            f"{sent - delivered} of {sent} records not delivered to {topic}: {reason}"
        )
    return delivered


def _produce_one(
    producer: Any,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    on_delivery: Callable[[Any, Any], None],
) -> None:
    """Produce one record, serving delivery reports while the client's queue is full."""
    while True:
        try:
            producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
        except BufferError:
            producer.poll(0.1)
        else:
            return


def _ensure_topic(settings: dict[str, Any], topic: str, partitions: int, timeout: float) -> None:
    from confluent_kafka import KafkaException  # noqa: PLC0415
    from confluent_kafka.admin import AdminClient  # noqa: PLC0415
    from confluent_kafka.cimpl import NewTopic  # noqa: PLC0415

    admin = AdminClient(settings)
    servers = settings["bootstrap.servers"]
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as error:
        raise ProduceError(
            f"cannot reach Kafka at {servers} within {timeout:g} s: {error.args[0].str()}"
        ) from None
    if topic in metadata.topics and metadata.topics[topic].error is None:
        return
    future = admin.create_topics([NewTopic(topic, partitions, 1)])[topic]
    try:
        future.result(timeout=timeout)
    except KafkaException as error:
        reason = error.args[0].str()
    except TimeoutError:
        reason = f"no answer within {timeout:g} s"
    else:
        return
    raise ProduceError(f"cannot create topic {topic!r} on {servers}: {reason}")
