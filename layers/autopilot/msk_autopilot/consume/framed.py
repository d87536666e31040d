"""Keys and values in a schema registry's wire format, decoded with the schema they name.

The decoder and schema of each id are cached per container (bounded, least recently used
first out), so a warm function asks the registry nothing. An id the registry could not give
(unknown, or the registry down, failing or throttling) makes its records poison, and is not
asked for again within COOL_DOWN_SECONDS by the container's clock: a batch of 8,000 records
naming one unknown id costs one registry call, never a retry storm.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal

from msk_autopilot.consume.errors import PoisonRecordError
from msk_autopilot.consume.formats import AvroReader, JsonDecoder, payload_bytes
from msk_autopilot.consume.registry import RegisteredSchema, SchemaSource, SchemaType
from msk_autopilot.consume.wire import confluent_frame, glue_frame, message_indexes

__all__ = ["COOL_DOWN_SECONDS", "Encoding", "Framing", "RegistryDecoder"]

type Framing = Literal["confluent", "glue"]
type Encoding = Literal["avro", "json", "protobuf"]
type _BodyDecoder = Callable[[bytes], Any]

COOL_DOWN_SECONDS = 60.0
_CACHED_IDS = 256  # schemas in use at once by one topic's producers: a handful, rarely more
_SCHEMA_TYPES: dict[Encoding, SchemaType] = {"avro": "AVRO", "json": "JSON", "protobuf": "PROTOBUF"}


class RegistryDecoder:
    """Decodes `<framing>-<encoding>` payloads: Avro (resolved into an optional reader schema),
    JSON validated by its JSON Schema, or Protobuf as a dict."""

    def __init__(
        self,
        *,
        framing: Framing,
        encoding: Encoding,
        registry: SchemaSource,
        max_bytes: int,
        reader_schema: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if encoding == "protobuf" and framing == "glue":
            # Glue keeps .proto text, and the Lambda runtime has no .proto compiler.
            raise ValueError("Glue-framed Protobuf is not supported")
        self._framing = framing
        self._encoding = encoding
        self._registry = registry
        self._max_bytes = max_bytes
        self._reader_schema = reader_schema
        self._clock = clock
        self._decoders: OrderedDict[str, _BodyDecoder] = OrderedDict()
        self._failures: OrderedDict[str, tuple[float, str]] = OrderedDict()  # until, reason

    def decode_all(self, texts: list[str | None]) -> list[Any]:
        return [None if text is None else self(text) for text in texts]

    def __call__(self, text: str) -> Any:
        payload = payload_bytes(text, self._max_bytes)
        if self._framing == "confluent":
            schema_id, body = confluent_frame(payload)
        else:
            schema_id, body = glue_frame(payload, self._max_bytes)
        return self._decoder(schema_id)(body)

    def _decoder(self, schema_id: str) -> _BodyDecoder:
        decoder = self._decoders.get(schema_id)
        if decoder is not None:
            self._decoders.move_to_end(schema_id)
            return decoder
        failure = self._failures.get(schema_id)
        if failure is not None and self._clock() < failure[0]:
            raise PoisonRecordError(failure[1])
        try:
            decoder = self._build(schema_id, self._registry.schema(schema_id, self._schema_type))
        except PoisonRecordError as error:
            _remember(self._failures, schema_id, (self._clock() + COOL_DOWN_SECONDS, str(error)))
            raise
        self._failures.pop(schema_id, None)
        _remember(self._decoders, schema_id, decoder)
        return decoder

    @property
    def _schema_type(self) -> SchemaType:
        return _SCHEMA_TYPES[self._encoding]

    def _build(self, schema_id: str, schema: RegisteredSchema) -> _BodyDecoder:
        try:
            if self._encoding == "avro":
                return AvroReader(schema.definition, self._reader_schema)
            if self._encoding == "json":
                return JsonDecoder(self._max_bytes, _json_schema(schema.definition)).decode_bytes
            from msk_autopilot.consume.protobuf import ProtobufSchema  # noqa: PLC0415  deferred

            protobuf = ProtobufSchema(schema)
        except Exception as error:  # noqa: BLE001  each schema library has its own errors
            raise PoisonRecordError(
                f"refers to schema {schema_id}, which cannot be used: "
                f"{type(error).__name__}: {error}"
            ) from None
        return lambda body: protobuf.decode(*message_indexes(body))


def _json_schema(text: str) -> dict[str, Any] | bool:
    schema = json.loads(text)
    if not isinstance(schema, dict | bool):
        raise TypeError("not a JSON Schema (an object or a boolean)")
    return schema


def _remember[V](cache: OrderedDict[str, V], schema_id: str, value: V) -> None:
    cache[schema_id] = value
    cache.move_to_end(schema_id)
    if len(cache) > _CACHED_IDS:
        cache.popitem(last=False)
