"""What the consumer makes of one Kafka record: decoded, typed, and ready for a sink."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import msgspec

from msk_autopilot.consume.errors import PoisonRecordError

__all__ = ["ConsumerRecord", "Header", "PoisonRecord", "WireHeaders"]

# Lambda's form of a record's headers: one single-entry object per header, its value a list of
# byte values (signed, -128..-1, when the sender's Java bytes were).
type _Wire = tuple[dict[str, list[int]], ...]


class Header(msgspec.Struct, frozen=True, gc=False):
    """One Kafka header: names are text, values are bytes (Kafka keeps them opaque)."""

    key: str
    value: bytes


class WireHeaders(Sequence[Header]):
    """A record's headers kept as Lambda delivered them until something reads them.

    Converting every header of every record cost about a quarter of the consumer's time, and
    most consumers never look at a header: the conversion (and so the check that each value
    holds bytes) happens on first read, by `ConsumerRecord.header`, a hook, or a sink. A
    malformed header then raises PoisonRecordError, and the reader makes the record poison.
    """

    __slots__ = ("_headers", "_wire")

    def __init__(self, wire: object) -> None:
        self._wire = wire
        self._headers: tuple[Header, ...] | None = None

    def converted(self) -> tuple[Header, ...]:
        if self._headers is None:
            try:
                entries = msgspec.convert(self._wire, _Wire)
            except msgspec.ValidationError as error:
                raise PoisonRecordError(f"malformed headers: {error}") from None
            self._headers = tuple(
                Header(name, _header_bytes(name, data))
                for entry in entries
                for name, data in entry.items()
            )
        return self._headers

    @overload
    def __getitem__(self, index: int) -> Header: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Header, ...]: ...
    def __getitem__(self, index: int | slice) -> Header | tuple[Header, ...]:
        return self.converted()[index]

    def __len__(self) -> int:
        return len(self.converted())

    def __iter__(self) -> Iterator[Header]:
        return iter(self.converted())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, WireHeaders | tuple):
            return self.converted() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.converted())

    def __repr__(self) -> str:
        return f"WireHeaders({self._wire!r})"


def _header_bytes(name: str, data: list[int]) -> bytes:
    try:
        return bytes(data)
    except ValueError:
        pass
    # Java's bytes are signed: Lambda may send -128..-1 for 0x80..0xff.
    if not all(-128 <= byte < 0 for byte in data if byte < 0 or byte > 255):
        raise PoisonRecordError(f"header {name!r} holds values that are not bytes") from None
    return bytes(byte & 0xFF for byte in data)


class ConsumerRecord(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    """A decoded record; encoded as JSON it is one line of the archive or one event's detail.

    `key` and `value` are `bytes` (raw format), the decoded JSON or Avro datum, or None (null
    key, tombstone value). A JSON payload the hook has not touched is kept as the validated
    `msgspec.Raw` text, so archiving it costs no re-encoding. `headers` are `WireHeaders` as
    delivered (converted on first read) or a tuple of `Header` a hook made. (gc=False: a record
    never refers back to itself, so the collector need not track the thousands made per batch.)
    """

    topic: str
    partition: int
    offset: int
    timestamp: int  # epoch milliseconds, as Kafka stamped it (CREATE_TIME or LOG_APPEND_TIME)
    timestamp_type: str | None
    key: Any
    value: Any
    headers: Sequence[Header] = ()

    def header(self, key: str) -> bytes | None:
        """The last value of header `key` (Kafka allows repeats; the last one wins); raises
        PoisonRecordError if the delivered headers are malformed."""
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
