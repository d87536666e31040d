"""Payload decoders: the base64 text of a key or value in, the decoded value out.

A decoder raises PoisonRecordError when the payload cannot be decoded as configured.
Decoders are built once per container; heavy libraries (fastavro, fastjsonschema) are imported
only by the formats that need them. Schema-registry wire formats are read by framed.py.
"""

from __future__ import annotations

import binascii
import functools
import io
import json
from collections import deque
from collections.abc import Callable, Mapping
from itertools import repeat
from pathlib import Path
from typing import IO, Any, Protocol, cast

import msgspec
import pybase64
from msgspec import Raw

from msk_autopilot.consume.errors import PoisonRecordError
from msk_autopilot.consume.json_schema import ExactValidator, compile_exact, translate

__all__ = [
    "AvroDecoder",
    "AvroReader",
    "JsonDecoder",
    "PayloadDecoder",
    "RawDecoder",
    "payload_bytes",
]


class PayloadDecoder(Protocol):
    """Decodes the base64 keys or values of records.

    `decode_all` is the fast path: a whole partition's payloads in tight loops of C calls.
    Any exception from it means "not all of these are good": the caller then decodes one by
    one with `__call__`, which raises PoisonRecordError per record.
    """

    def __call__(self, text: str) -> Any: ...

    def decode_all(self, texts: list[str | None]) -> list[Any]: ...


type AvroRead = Callable[[IO[bytes], Any, Any], Any]  # fastavro's schemaless_reader

# Base64 shorter than this decodes faster with binascii (lower cost per call), longer with
# pybase64 (SIMD): measured crossover at about 170 characters.
_SHORT_BASE64 = 172


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
        return self.decode_bytes(payload_bytes(text, self._max_bytes))

    def decode_bytes(self, payload: bytes) -> Any:
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


class AvroReader:
    """Reads one Avro datum from bytes: a writer schema, optionally resolved into a reader's."""

    def __init__(self, writer_text: str, reader_text: str | None = None) -> None:
        import fastavro  # noqa: PLC0415  deferred: only Avro consumers pay for the import
        from fastavro import _read_py  # noqa: PLC0415

        self._writer = fastavro.parse_schema(json.loads(writer_text))
        self._reader = fastavro.parse_schema(json.loads(reader_text)) if reader_text else None
        # fastavro's compiled reader recurses on the C stack without a limit: under a recursive
        # schema (a list or tree of records) 20 KB of nesting crashes the process. Its
        # pure-Python reader stops at Python's recursion limit instead (RecursionError: poison).
        recursive = any(_recursive(schema, frozenset()) for schema in (self._writer, self._reader))
        self._read = cast(
            AvroRead, _read_py.schemaless_reader if recursive else fastavro.schemaless_reader
        )

    def __call__(self, body: bytes) -> Any:
        stream = io.BytesIO(body)
        try:
            datum = self._read(stream, self._writer, self._reader)
        except Exception as error:  # noqa: BLE001  fastavro raises many types for bad bytes
            raise PoisonRecordError(
                f"is not Avro of its schema: {type(error).__name__}: {error}"
            ) from None
        if stream.tell() != len(body):
            raise PoisonRecordError(f"has {len(body) - stream.tell()} bytes after the Avro datum")
        return datum


class AvroDecoder:
    """Avro binary of one schema file, without a wire-format prefix (framed.py reads those)."""

    def __init__(self, schema_text: str, max_bytes: int) -> None:
        self._read = AvroReader(schema_text)
        self._max_bytes = max_bytes

    @classmethod
    def from_file(cls, path: Path, max_bytes: int) -> AvroDecoder:
        return cls(path.read_text(encoding="utf-8"), max_bytes)

    def decode_all(self, texts: list[str | None]) -> list[Any]:
        return [None if text is None else self(text) for text in texts]

    def __call__(self, text: str) -> Any:
        return self._read(payload_bytes(text, self._max_bytes))


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
