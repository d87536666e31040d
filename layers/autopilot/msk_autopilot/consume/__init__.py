"""The MSK record consumer: typed, fast decoding with nothing lost and nothing retried forever.

`build_record_consumer(settings, clients)` assembles the pipeline of decoders, hook, sink and
quarantine the settings ask for; `parse_kafka_event` turns Lambda's event into a `KafkaBatch`;
and `Pipeline.handle(batch, context)` returns the partial batch response.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from msk_autopilot.consume.batch import KafkaBatch, parse_kafka_event
from msk_autopilot.consume.errors import PoisonRecordError
from msk_autopilot.consume.formats import AvroDecoder, JsonDecoder, PayloadDecoder, RawDecoder
from msk_autopilot.consume.framed import Encoding, Framing, RegistryDecoder
from msk_autopilot.consume.pipeline import BatchResult, Pipeline, QuarantineError, RecordHook
from msk_autopilot.consume.records import ConsumerRecord, Header, PoisonRecord
from msk_autopilot.consume.registry import (
    ConfluentSchemaRegistry,
    GlueSchemaRegistry,
    SchemaSource,
)
from msk_autopilot.consume.sinks import DiscardSink, EventBridgeSink, Quarantine, S3Sink, Sink
from msk_autopilot.runtime import load_callable
from msk_autopilot.settings import PayloadFormat, RecordConsumerSettings, SettingsError

if TYPE_CHECKING:
    from msk_autopilot.aws import ClientFactory

__all__ = [
    "BatchResult",
    "ConsumerRecord",
    "Header",
    "KafkaBatch",
    "Pipeline",
    "PoisonRecord",
    "PoisonRecordError",
    "QuarantineError",
    "RecordHook",
    "build_record_consumer",
    "parse_kafka_event",
]


def build_record_consumer(settings: RecordConsumerSettings, clients: ClientFactory) -> Pipeline:
    """The pipeline the settings describe; a bad schema file or hook raises SettingsError."""
    problems: list[str] = []
    registries: dict[str, SchemaSource] = {}
    if settings.schema_registry_url:
        registries["confluent"] = ConfluentSchemaRegistry(settings.schema_registry_url)
    registries["glue"] = GlueSchemaRegistry(clients)  # a client is made on its first lookup
    decoders: dict[str, PayloadDecoder] = {}
    for part, payload_format, schema_file in (
        ("KEY", settings.key_format, settings.key_schema),
        ("VALUE", settings.value_format, settings.value_schema),
    ):
        try:
            decoders[part] = _decoder(
                payload_format, schema_file, registries, settings.max_value_bytes
            )
        except (OSError, ValueError, TypeError) as error:
            problems.append(f"{part}_SCHEMA={schema_file} cannot be used: {error}")
    hook: RecordHook | None = None
    if settings.record_hook:
        try:
            hook = load_callable(settings.record_hook, "RECORD_HOOK")
        except SettingsError as error:
            problems.extend(error.problems)
    if problems:
        raise SettingsError(problems)
    sink: Sink
    if settings.sink == "s3":
        sink = S3Sink(clients, settings.archive_bucket)
    elif settings.sink == "eventbridge":
        sink = EventBridgeSink(clients, settings.event_bus_name)
    else:
        sink = DiscardSink()
    return Pipeline(
        key_decoder=decoders["KEY"],
        value_decoder=decoders["VALUE"],
        sink=sink,
        quarantine=Quarantine(clients, settings.failure_bucket),
        hook=hook,
    )


def _decoder(
    payload_format: PayloadFormat,
    schema_file: Path | None,
    registries: dict[str, SchemaSource],
    max_bytes: int,
) -> PayloadDecoder:
    if payload_format == "json":
        return (
            JsonDecoder.from_file(max_bytes, schema_file) if schema_file else JsonDecoder(max_bytes)
        )
    if payload_format == "avro" and schema_file is not None:
        return AvroDecoder.from_file(schema_file, max_bytes)
    if payload_format == "raw":
        return RawDecoder(max_bytes)
    framing, _, encoding = payload_format.partition("-")
    return RegistryDecoder(
        framing=cast(Framing, framing),
        encoding=cast(Encoding, encoding),
        registry=registries[framing],
        max_bytes=max_bytes,
        reader_schema=schema_file.read_text(encoding="utf-8") if schema_file else None,
    )
