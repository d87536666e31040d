"""Schema-registry wire formats: which schema a key or value names, and the bytes after it.

Confluent: magic byte 0, the schema id as a 4-byte big-endian integer, then the Avro, JSON or
Protobuf bytes; Protobuf puts its message indexes first (zig-zag varints: their count, then
the path of the message in its file; a single 0 byte means the file's first message), as
confluent-kafka's `SchemaId.id_to_bytes` writes them.

AWS Glue Schema Registry: header version byte 3, compression byte 0 (none) or 5 (zlib), the
16-byte schema version UUID, then the payload (AWSSchemaRegistryConstants in
awslabs/aws-glue-schema-registry: HEADER_VERSION_BYTE = 3, COMPRESSION_DEFAULT_BYTE = 0,
COMPRESSION_BYTE = 5, SCHEMA_VERSION_ID_SIZE = 16).

Every parser here raises PoisonRecordError and nothing else, whatever the bytes.
"""

from __future__ import annotations

import uuid
import zlib

from msk_autopilot.consume.errors import PoisonRecordError

__all__ = ["confluent_frame", "glue_frame", "message_indexes"]

_CONFLUENT_PREFIX = 5
_GLUE_PREFIX = 18
_GLUE_VERSION = 3
_GLUE_COMPRESSION = {0: False, 5: True}
_VARINT_BYTES = 10  # a 64-bit varint takes at most ten bytes
# Nested message types deeper than this do not occur in real schemas; a larger count is noise.
_MAX_INDEXES = 64


def confluent_frame(payload: bytes) -> tuple[str, bytes]:
    """The schema id and the bytes after Confluent's 5-byte prefix."""
    if len(payload) < _CONFLUENT_PREFIX or payload[0] != 0:
        raise PoisonRecordError("has no Confluent wire-format prefix (magic byte 0, schema id)")
    return str(int.from_bytes(payload[1:_CONFLUENT_PREFIX], "big")), payload[_CONFLUENT_PREFIX:]


def glue_frame(payload: bytes, max_bytes: int) -> tuple[str, bytes]:
    """The schema version id and the (inflated) bytes after Glue's 18-byte header."""
    if (
        len(payload) < _GLUE_PREFIX
        or payload[0] != _GLUE_VERSION
        or payload[1] not in _GLUE_COMPRESSION
    ):
        raise PoisonRecordError("has no Glue wire-format prefix (version 3, compression 0 or 5)")
    body = payload[_GLUE_PREFIX:]
    if _GLUE_COMPRESSION[payload[1]]:
        body = _inflate(body, max_bytes)
    return str(uuid.UUID(bytes=payload[2:_GLUE_PREFIX])), body


def message_indexes(body: bytes) -> tuple[tuple[int, ...], bytes]:
    """Confluent Protobuf's message indexes and the message bytes after them."""
    count, position = _zigzag(body, 0)
    if count == 0:
        return (0,), body[position:]
    if not 0 < count <= _MAX_INDEXES:
        raise PoisonRecordError(f"has a Protobuf message-index count of {count}")
    indexes: list[int] = []
    for _ in range(count):
        index, position = _zigzag(body, position)
        if index < 0:
            raise PoisonRecordError(f"has a negative Protobuf message index {index}")
        indexes.append(index)
    return tuple(indexes), body[position:]


def _zigzag(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    for offset, byte in enumerate(data[position : position + _VARINT_BYTES]):
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return (value >> 1) ^ -(value & 1), position + offset + 1
    raise PoisonRecordError("has truncated or overlong Protobuf message indexes")


def _inflate(body: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(body, max_bytes + 1)
    except zlib.error as error:
        raise PoisonRecordError(f"has a corrupt Glue zlib payload: {error}") from None
    if len(data) > max_bytes:
        raise PoisonRecordError(f"inflates to more than MAX_VALUE_BYTES={max_bytes}")
    if not inflater.eof:
        raise PoisonRecordError("has a truncated Glue zlib payload")
    return data
