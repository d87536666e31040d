"""Payload decoders: the base64 text of a key or value in, the decoded value out.

A decoder raises PoisonRecordError when the payload can never be decoded as configured and
TransientDecodeError when a dependency failed. Decoders are built once per container; heavy
libraries (fastavro, fastjsonschema) are imported only by the formats that need them.
"""

from __future__ import annotations

import binascii
import functools
import io
import json
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from itertools import repeat
from pathlib import Path
from typing import IO, Any, Literal, Protocol, cast

import msgspec
import pybase64
from msgspec import Raw

from msk_autopilot.consume.errors import PoisonRecordError
from msk_autopilot.consume.json_schema import ExactValidator, compile_exact, translate
from msk_autopilot.consume.registry import SchemaSource

__all__ = ["AvroDecoder", "JsonDecoder", "PayloadDecoder", "RawDecoder", "payload_bytes"]


class PayloadDecoder(Protocol):
    """Decodes the base64 keys or values of records.

    `decode_all` is the fast path: a whole partition's payloads in tight loops of C calls.
    Any exception from it means "not all of these are good": the caller then decodes one by
    one with `__call__`, which raises PoisonRecordError or TransientDecodeError per record.
    """

    def __call__(self, text: str) -> Any: ...

    def decode_all(self, texts: list[str | None]) -> list[Any]: ...


type AvroWireFormat = Literal["plain", "confluent", "glue"]
type AvroRead = Callable[[IO[bytes], Any, Any], Any]  # fastavro's schemaless_reader

# Base64 shorter than this decodes faster with binascii (lower cost per call), longer with
# pybase64 (SIMD): measured crossover at about 170 characters.
_SHORT_BASE64 = 172
_CONFLUENT_PREFIX = 5  # magic byte 0, then a 4-byte big-endian schema id
_GLUE_PREFIX = 18  # version byte 3, compression byte (0 none, 5 zlib), 16-byte version UUID
_GLUE_COMPRESSION = {0: False, 5: True}


# msgspec and fastjsonschema raise RecursionError for values nested beyond their limits (ten
# thousand `[` is 10 KB): the record is poison like any other that cannot be decoded.
_TOO_DEEP = "nests too deeply to decode"


_short_base64 = functools.partial(binascii.a2b_base64, strict_mode=True)
_long_base64 = functools.partial(pybase64.b64decode, validate=True)


def _base64_length(size: int) -> int:
    return 4 * -(-size // 3)


def all_payload_bytes(texts: list[str | None], max_bytes: int) -> list[bytes | None]:
    """The bytes of many payloads (None stays None); raises on any bad one, naming none."""
    if max(map(len, filter(None, texts)), default=0) > _base64_length(max_bytes):
        raise PoisonRecordError("a payload is larger than MAX_VALUE_BYTES")
    # validate=True passed positionally: a partial's keywords cost a dict per call, and so
    # called, pybase64 costs no more than binascii on short payloads.
    decode = pybase64.b64decode
    if None not in texts:
        return list(map(decode, cast(list[str], texts), repeat(None), repeat(True)))
    return [None if text is None else decode(text, None, True) for text in texts]


def payload_bytes(text: str, max_bytes: int) -> bytes:
    """The bytes of a base64 key or value; too large or not base64 is poison."""
    if len(text) > _base64_length(max_bytes):
        raise PoisonRecordError(f"is larger than MAX_VALUE_BYTES={max_bytes}")
    try:
        return _short_base64(text) if len(text) < _SHORT_BASE64 else _long_base64(text)
    except ValueError:
        raise PoisonRecordError("is not valid base64") from None


class RawDecoder:
    """The raw format: the bytes themselves (base64 in JSON output)."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes

    def __call__(self, text: str) -> bytes:
        return payload_bytes(text, self._max_bytes)

    def decode_all(self, texts: list[str | None]) -> list[Any]:
        return all_payload_bytes(texts, self._max_bytes)


class JsonDecoder:
    """JSON text, optionally validated against a JSON Schema.

    The validated text itself is kept (`msgspec.Raw`) and written to the sink verbatim, so a
    value is parsed once, into the schema's fast types, and never re-encoded.
    """

    def __init__(self, max_bytes: int, schema: Mapping[str, Any] | bool | None = None) -> None:
        self._max_bytes = max_bytes
        self._any = msgspec.json.Decoder()
        self._schema = schema
        self._exact: ExactValidator | None = None
        fast_type = translate(schema) if schema is not None else None
        self._fast = msgspec.json.Decoder(fast_type) if fast_type is not None else None
        if schema is not None and self._fast is None:
            self._exact = compile_exact(schema)  # outside the fast subset: compile now

    @classmethod
    def from_file(cls, max_bytes: int, path: Path) -> JsonDecoder:
        schema = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(schema, dict | bool):
            raise TypeError(f"{path} does not hold a JSON Schema (an object or a boolean)")
        # A schema outside the fast subset is compiled (and so checked) now; one inside it
        # was checked by translating it, and its exact validator waits for a first refusal.
        return cls(max_bytes, schema)

    def exact_validator(self) -> ExactValidator:
        if self._exact is None:
            if self._schema is None:
                raise RuntimeError("this JSON decoder has no schema")
            self._exact = compile_exact(self._schema)
        return self._exact

    def __call__(self, text: str) -> Any:
        payload = payload_bytes(text, self._max_bytes)
        try:
            if self._fast is not None:
                self._fast.decode(payload)
            elif self._schema is not None:
                return self._exactly(payload)
            else:
                self._any.decode(payload)
        except msgspec.ValidationError:
            return self._exactly(payload)  # the fast types may be stricter: ask the schema
        except ValueError as error:  # msgspec.DecodeError, or UnicodeDecodeError in a string
            raise PoisonRecordError(f"is not JSON: {error}") from None
        except RecursionError:
            raise PoisonRecordError(_TOO_DEEP) from None
        return Raw(payload)

    def decode_all(self, texts: list[str | None]) -> list[Any]:
        if self._fast is None:
            return [None if text is None else self(text) for text in texts]
        payloads = all_payload_bytes(texts, self._max_bytes)
        if None in payloads:  # tombstones
            validate = self._fast.decode
            for payload in payloads:
                if payload is not None:
                    validate(payload)
            return [None if payload is None else Raw(payload) for payload in payloads]
        present = cast(list[bytes], payloads)
        deque(map(self._fast.decode, present), maxlen=0)  # validated, nothing kept
        return list(map(Raw, present))

    def _exactly(self, payload: bytes) -> Any:
        try:
            value = self._any.decode(payload)
        except ValueError as error:  # msgspec.DecodeError, or UnicodeDecodeError in a string
            raise PoisonRecordError(f"is not JSON: {error}") from None
        except RecursionError:
            raise PoisonRecordError(_TOO_DEEP) from None
        try:
            self.exact_validator()(value)
        except ValueError as error:
            raise PoisonRecordError(f"fails its JSON Schema: {error}") from None
        except RecursionError:  # a recursive schema ($ref to itself) on a deep value
            raise PoisonRecordError(f"{_TOO_DEEP} for its JSON Schema") from None
        return value


class AvroDecoder:
    """Avro binary, plain or behind a Confluent or Glue wire-format prefix.

    With a schema registry the prefix's id names the writer schema (looked up once per
    container); a configured schema file is then the reader schema the datum is resolved into.
    Without a registry the schema file is both.
    """

    def __init__(
        self,
        *,
        wire_format: AvroWireFormat,
        schema_text: str | None,
        registry: SchemaSource | None,
        max_bytes: int,
    ) -> None:
        import fastavro  # noqa: PLC0415  deferred: only Avro consumers pay for the import
        from fastavro import _read_py  # noqa: PLC0415

        if schema_text is None and registry is None:
            raise ValueError("Avro needs a schema file or a schema registry")
        self._fastavro = fastavro
        # fastavro's compiled reader recurses on the C stack without a limit: under a recursive
        # schema (a list or tree of records) 20 KB of nesting crashes the process. Its
        # pure-Python reader stops at Python's recursion limit instead (RecursionError: poison).
        self._bounded_read: AvroRead = _read_py.schemaless_reader
        self._wire_format = wire_format
        self._reader = fastavro.parse_schema(json.loads(schema_text)) if schema_text else None
        self._own_read = self._read_for(self._reader)
        self._registry = registry
        self._max_bytes = max_bytes
        self._writers: dict[str, tuple[Any, AvroRead]] = {}  # schema id -> parsed, its reader
        self._unusable: dict[str, str] = {}  # schema id -> why no record can use it

    @classmethod
    def from_settings(
        cls,
        *,
        wire_format: AvroWireFormat,
        schema_file: Path | None,
        registry: SchemaSource | None,
        max_bytes: int,
    ) -> AvroDecoder:
        text = schema_file.read_text(encoding="utf-8") if schema_file else None
        return cls(
            wire_format=wire_format, schema_text=text, registry=registry, max_bytes=max_bytes
        )

    def decode_all(self, texts: list[str | None]) -> list[Any]:
        return [None if text is None else self(text) for text in texts]

    def __call__(self, text: str) -> Any:
        schema_id, body = self._unframe(payload_bytes(text, self._max_bytes))
        if self._registry is not None and schema_id is not None:
            (writer, read), reader = self._writer(self._registry, schema_id), self._reader
        else:
            writer, reader, read = self._reader, None, self._own_read
        stream = io.BytesIO(body)
        try:
            datum = read(stream, writer, reader)
        except Exception as error:  # noqa: BLE001  fastavro raises many types for bad bytes
            raise PoisonRecordError(
                f"is not Avro of its schema: {type(error).__name__}: {error}"
            ) from None
        if stream.tell() != len(body):
            raise PoisonRecordError(f"has {len(body) - stream.tell()} bytes after the Avro datum")
        return datum

    def _unframe(self, payload: bytes) -> tuple[str | None, bytes]:
        if self._wire_format == "plain":
            return None, payload
        if self._wire_format == "confluent":
            if len(payload) < _CONFLUENT_PREFIX or payload[0] != 0:
                raise PoisonRecordError(
                    "has no Confluent wire-format prefix (magic byte 0, schema id)"
                )
            return str(int.from_bytes(payload[1:5], "big")), payload[_CONFLUENT_PREFIX:]
        if len(payload) < _GLUE_PREFIX or payload[0] != 3 or payload[1] not in _GLUE_COMPRESSION:
            raise PoisonRecordError(
                "has no Glue wire-format prefix (version 3, compression 0 or 5)"
            )
        body = payload[_GLUE_PREFIX:]
        if _GLUE_COMPRESSION[payload[1]]:
            body = self._inflate(body)
        return str(uuid.UUID(bytes=payload[2:_GLUE_PREFIX])), body

    def _inflate(self, body: bytes) -> bytes:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(body, self._max_bytes + 1)
        except zlib.error as error:
            raise PoisonRecordError(f"has a corrupt Glue zlib payload: {error}") from None
        if len(data) > self._max_bytes:
            raise PoisonRecordError(f"inflates to more than MAX_VALUE_BYTES={self._max_bytes}")
        if not inflater.eof:
            raise PoisonRecordError("has a truncated Glue zlib payload")
        return data

    def _writer(self, registry: SchemaSource, schema_id: str) -> tuple[Any, AvroRead]:
        if schema_id in self._writers:
            return self._writers[schema_id]
        if schema_id in self._unusable:  # an unknown id stays unknown: do not ask per record
            raise PoisonRecordError(self._unusable[schema_id])
        try:
            text = registry.avro_schema(schema_id)
        except PoisonRecordError as error:
            self._unusable[schema_id] = str(error)
            raise
        try:
            writer = self._fastavro.parse_schema(json.loads(text))
        except Exception as error:  # noqa: BLE001  fastavro's schema errors have no common base
            self._unusable[schema_id] = (
                f"refers to registry schema {schema_id}, not valid Avro: {error}"
            )
            raise PoisonRecordError(self._unusable[schema_id]) from None
        self._writers[schema_id] = writer, self._read_for(writer, self._reader)
        return self._writers[schema_id]

    def _read_for(self, *schemas: Any) -> AvroRead:
        """The bounded reader if any of the parsed schemas is recursive, else the fast one."""
        if any(_recursive(schema, frozenset()) for schema in schemas):
            return self._bounded_read
        return cast(AvroRead, self._fastavro.schemaless_reader)


def _recursive(schema: Any, enclosing: frozenset[str]) -> bool:
    """Whether a parsed Avro schema names a record type inside that type's own definition
    (fastavro's parsed schemas define a named type once and refer to it by full name after)."""
    if isinstance(schema, str):
        return schema in enclosing
    if isinstance(schema, list):  # a union
        return any(_recursive(branch, enclosing) for branch in schema)
    if not isinstance(schema, dict):
        return False
    if schema.get("type") in ("record", "error"):
        enclosing = enclosing | {schema["name"]}
        return any(_recursive(field["type"], enclosing) for field in schema["fields"])
    return any(
        _recursive(schema[part], enclosing)
        for part in ("type", "items", "values")
        if part in schema
    )
