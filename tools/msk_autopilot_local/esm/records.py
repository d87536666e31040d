"""Kafka records as Lambda puts them in an event, the event itself, its size as it grows, and
Lambda's on-failure invocation record."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "EventSizer",
    "KafkaRecord",
    "build_event",
    "compact_json",
    "describe",
    "failure_record",
    "iso_millis",
    "kafka_record",
    "record_from_message",
]

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
_TIMESTAMP_TYPES = {1: "CREATE_TIME", 2: "LOG_APPEND_TIME"}  # librdkafka's codes


def compact_json(document: Any) -> str:
    """JSON as Lambda sends it; ASCII only, so its length in characters is its size in bytes."""
    return json.dumps(document, separators=(",", ":"))


@dataclass(slots=True)
class KafkaRecord:
    """One Kafka record, with its part of a Lambda event ready and measured."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    payload: dict[str, Any]
    size: int  # bytes of `payload` in compact JSON
    arrived: float = 0.0  # monotonic time the poller fetched it

    @property
    def partition_key(self) -> str:
        return f"{self.topic}-{self.partition}"


def kafka_record(
    *,
    topic: str,
    partition: int,
    offset: int,
    timestamp: int,
    timestamp_type: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | str | None]] | None,
) -> KafkaRecord:
    """A record as Lambda puts it in an event.

    Key and value are base64; a null key is `null`; a null value (a tombstone) has no `value`
    field at all, as Lambda sends it (powertools-lambda-typescript#5016). Headers are a list of
    one-key objects whose value is the header's bytes as an array of numbers (a null header
    value becomes an empty array). A record without a timestamp has -1 and NO_TIMESTAMP_TYPE.
    """
    known_type = _TIMESTAMP_TYPES.get(timestamp_type)
    payload: dict[str, Any] = {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "timestamp": timestamp if known_type else -1,
        "timestampType": known_type or "NO_TIMESTAMP_TYPE",
        "key": base64.b64encode(key).decode("ascii") if key is not None else None,
    }
    if value is not None:
        payload["value"] = base64.b64encode(value).decode("ascii")
    payload["headers"] = [
        {name: list(data.encode() if isinstance(data, str) else data or b"")}
        for name, data in headers or ()
    ]
    return KafkaRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=payload["timestamp"],
        payload=payload,
        size=len(compact_json(payload)),
    )


def record_from_message(message: Any) -> KafkaRecord:
    timestamp_type, timestamp = message.timestamp()
    key, value = message.key(), message.value()
    return kafka_record(
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        timestamp=timestamp,
        timestamp_type=timestamp_type,
        key=key.encode() if isinstance(key, str) else key,
        value=value.encode() if isinstance(value, str) else value,
        headers=message.headers(),
    )


def _envelope(bootstrap_servers: str, cluster_arn: str | None) -> dict[str, Any]:
    if cluster_arn:
        return {
            "eventSource": "aws:kafka",
            "eventSourceArn": cluster_arn,
            "bootstrapServers": bootstrap_servers,
        }
    return {"eventSource": "SelfManagedKafka", "bootstrapServers": bootstrap_servers}


def build_event(
    records: Sequence[KafkaRecord], *, bootstrap_servers: str, cluster_arn: str | None = None
) -> dict[str, Any]:
    """Lambda's Kafka event for `records`, grouped by "topic-partition" in order of arrival."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record.partition_key, []).append(record.payload)
    return {**_envelope(bootstrap_servers, cluster_arn), "records": groups}


class EventSizer:
    """The compact-JSON size of an event as records are added, without serializing it."""

    def __init__(self, bootstrap_servers: str, cluster_arn: str | None) -> None:
        self.size = len(compact_json({**_envelope(bootstrap_servers, cluster_arn), "records": {}}))
        self._groups: set[str] = set()

    def size_with(self, record: KafkaRecord) -> int:
        key = record.partition_key
        if key in self._groups:
            return self.size + 1 + record.size  # ,{record}
        comma = 1 if self._groups else 0
        return self.size + comma + len(compact_json(key)) + 3 + record.size  # ,"t-0":[{...}]

    def add(self, record: KafkaRecord) -> None:
        self.size = self.size_with(record)
        self._groups.add(record.partition_key)


def iso_millis(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(max(epoch_ms, 0) / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{max(epoch_ms, 0) % 1000:03d}Z"


def failure_record(
    records: Sequence[KafkaRecord],
    *,
    event_body: str,
    condition: str,
    invoke_count: int,
    function_arn: str,
    function_error: str | None,
    bootstrap_servers: str,
    cluster_arn: str | None,
    with_payload: bool,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Lambda's on-failure invocation record for a Kafka batch (kafka-on-failure.html).

    SQS and SNS get the metadata only; S3 also gets `payload`, the whole event as a JSON string.
    `responseContext` is null when the batch was never invoked (MaximumPayloadSizeExceeded).
    """
    records_info: dict[str, dict[str, str]] = {}
    for record in records:
        info = records_info.setdefault(
            record.partition_key,
            {
                "firstRecordOffset": str(record.offset),
                "lastRecordOffset": str(record.offset),
                "firstRecordTimestamp": iso_millis(record.timestamp),
                "lastRecordTimestamp": iso_millis(record.timestamp),
            },
        )
        info["lastRecordOffset"] = str(record.offset)
        info["lastRecordTimestamp"] = iso_millis(record.timestamp)
    response_context: dict[str, Any] | None = None
    if condition != "MaximumPayloadSizeExceeded":
        response_context = {"statusCode": 200, "executedVersion": "$LATEST"}
        if function_error:
            response_context["functionError"] = function_error
    batch_info: dict[str, Any] = {"batchSize": len(records)}
    if cluster_arn:
        batch_info["eventSourceArn"] = cluster_arn
    batch_info.update(
        bootstrapServers=bootstrap_servers, payloadSize=len(event_body), recordsInfo=records_info
    )
    document: dict[str, Any] = {
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": iso_millis(int(time.time() * 1000)),
        "KafkaBatchInfo": batch_info,
    }
    if with_payload:
        document["payload"] = event_body
    return document


def describe(records: Sequence[KafkaRecord]) -> str:
    """ "t-0 offsets 3-9, t-1 offset 4": which records, for a message."""
    spans: dict[str, list[int]] = {}
    for record in records:
        span = spans.setdefault(record.partition_key, [record.offset, record.offset])
        span[0], span[1] = min(span[0], record.offset), max(span[1], record.offset)
    return ", ".join(
        f"{key} offset {low}" if low == high else f"{key} offsets {low}-{high}"
        for key, (low, high) in spans.items()
    )
