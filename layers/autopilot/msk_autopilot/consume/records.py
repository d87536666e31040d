"""What the consumer makes of one Kafka record: decoded, typed, and ready for a sink."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["ConsumerRecord", "Header", "PoisonRecord"]


class Header(msgspec.Struct, frozen=True, gc=False):
    """One Kafka header: names are text, values are bytes (Kafka keeps them opaque)."""

    key: str
    value: bytes


class ConsumerRecord(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    """A decoded record; encoded as JSON it is one line of the archive or one event's detail.

    `key` and `value` are `bytes` (raw format), the decoded JSON or Avro datum, or None (null
    key, tombstone value). A JSON payload the hook has not touched is kept as the validated
    `msgspec.Raw` text, so archiving it costs no re-encoding. (gc=False: a record never refers
    back to itself, so the collector need not track the thousands made per batch.)
    """

    topic: str
    partition: int
    offset: int
    timestamp: int  # epoch milliseconds, as Kafka stamped it (CREATE_TIME or LOG_APPEND_TIME)
    timestamp_type: str | None
    key: Any
    value: Any
    headers: tuple[Header, ...] = ()

    def header(self, key: str) -> bytes | None:
        """The last value of header `key` (Kafka allows repeats; the last one wins)."""
        for header in reversed(self.headers):
            if header.key == key:
                return header.value
        return None


class PoisonRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A record that cannot be decoded or fails its schema, as written to quarantine.

    `record` is the record exactly as Lambda delivered it (base64 key and value, headers as
    byte lists, every metadata field), so a quarantined line can be replayed as it was.
    """

    partition_key: str = msgspec.field(name="topicPartition")
    offset: int | None
    timestamp: int | None
    reason: str
    record: Any
