"""The Lambda Kafka event: its envelope is checked here, its records one by one later.

Only the envelope can make an event invalid (rejected as a whole). A malformed *record* must
not: it becomes a poison record of its partition, so one bad record never costs the batch.
The records stay the dicts Lambda delivered, so nothing is decoded twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from msk_autopilot.events import EventValidationError, UnsupportedEventError, event_kind

__all__ = ["KafkaBatch", "parse_kafka_event"]

# Lambda keys each record list by "<topic>-<partition>"; it is also the batch item identifier.
_PARTITION_KEY = re.compile(r"(?P<topic>.+)-(?P<partition>\d+)")


class KafkaBatch(msgspec.Struct, frozen=True):
    """One invocation's records, per topic-partition, in offset order as delivered."""

    event_source: str
    event_source_arn: str | None
    partitions: Mapping[str, list[Any]]

    @property
    def record_count(self) -> int:
        return sum(len(records) for records in self.partitions.values())


def split_partition_key(partition_key: str) -> tuple[str, int]:
    """("orders", 3) from "orders-3" (topic names may contain dashes: the last one splits)."""
    match = _PARTITION_KEY.fullmatch(partition_key)
    if match is None:
        raise ValueError(f"{partition_key!r} is not <topic>-<partition>")
    return match["topic"], int(match["partition"])


def parse_kafka_event(raw: object) -> KafkaBatch:
    """The batch in a Lambda MSK or self-managed Kafka event, or InvalidEventError."""
    kind = event_kind(raw)
    if kind != "kafka" or not isinstance(raw, Mapping):
        raise UnsupportedEventError(kind, ("kafka",))
    partitions = raw.get("records")
    if not isinstance(partitions, Mapping):
        raise EventValidationError("kafka: records must be an object of topic-partition lists")
    for partition_key, records in partitions.items():
        if not isinstance(partition_key, str) or _PARTITION_KEY.fullmatch(partition_key) is None:
            raise EventValidationError(f"kafka: {partition_key!r} is not <topic>-<partition>")
        if not isinstance(records, list):
            raise EventValidationError(f"kafka: records of {partition_key} must be a list")
    arn = raw.get("eventSourceArn")
    return KafkaBatch(
        event_source=str(raw["eventSource"]),
        event_source_arn=arn if isinstance(arn, str) else None,
        partitions=partitions,
    )
