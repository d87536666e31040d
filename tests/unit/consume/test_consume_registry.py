"""Schema-registry wire formats end to end: records made by confluent-kafka's own serializers
against the local Confluent-compatible registry, records in Glue's format with their schemas in
moto's Glue, and registry failures that make records poison with one registry call per id."""

import gzip
import io
import json
import struct
import subprocess
import sys
import uuid
import zlib

import boto3
import fastavro
import msgspec
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from consume_support import ARCHIVE, FAILURES, REGION, FaultyClients, b64, event, record
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    json_format,
    message_factory,
    timestamp_pb2,
)

from msk_autopilot.consume import PoisonRecordError, parse_kafka_event
from msk_autopilot.consume.framed import COOL_DOWN_SECONDS, RegistryDecoder
from msk_autopilot.consume.registry import ConfluentSchemaRegistry
from msk_autopilot_local.schema_registry import LocalSchemaRegistry

ORDER_AVRO = {
    "type": "record",
    "name": "Order",
    "fields": [{"name": "id", "type": "long"}, {"name": "note", "type": "string"}],
}
ORDER_JSON_SCHEMA = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
KEY_AVRO = {"type": "record", "name": "Key", "fields": [{"name": "customer", "type": "int"}]}


def _protobuf_classes():
    """shop.Order (with a nested Line, a Money from an imported file, a well-known Timestamp)
    and shop.Refund, built from descriptors as protoc's output would be."""
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    field = descriptor_pb2.FieldDescriptorProto
    money = descriptor_pb2.FileDescriptorProto(name="shop/money.proto", package="shop")
    money.message_type.add(name="Money").field.extend(
        [
            field(name="currency", number=1, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL),
            field(name="cents", number=2, type=field.TYPE_INT64, label=field.LABEL_OPTIONAL),
        ]
    )
    order_file = descriptor_pb2.FileDescriptorProto(
        name="shop/order.proto",
        package="shop",
        syntax="proto3",
        dependency=["shop/money.proto", "google/protobuf/timestamp.proto"],
    )
    order = order_file.message_type.add(name="Order")
    order.nested_type.add(name="Line").field.extend(
        [
            field(name="sku", number=1, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL),
            field(name="qty", number=2, type=field.TYPE_INT32, label=field.LABEL_OPTIONAL),
        ]
    )
    order.field.extend(
        [
            field(name="id", number=1, type=field.TYPE_INT64, label=field.LABEL_OPTIONAL),
            field(
                name="total",
                number=2,
                type=field.TYPE_MESSAGE,
                type_name=".shop.Money",
                label=field.LABEL_OPTIONAL,
            ),
            field(
                name="placed_at",
                number=3,
                type=field.TYPE_MESSAGE,
                type_name=".google.protobuf.Timestamp",
                label=field.LABEL_OPTIONAL,
            ),
            field(
                name="lines",
                number=4,
                type=field.TYPE_MESSAGE,
                type_name=".shop.Order.Line",
                label=field.LABEL_REPEATED,
            ),
        ]
    )
    order_file.message_type.add(name="Refund").field.add(
        name="order_id", number=1, type=field.TYPE_INT64, label=field.LABEL_OPTIONAL
    )
    money.syntax = "proto3"
    pool.AddSerializedFile(money.SerializeToString())
    pool.AddSerializedFile(order_file.SerializeToString())
    return tuple(
        message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
        for name in ("shop.Order", "shop.Order.Line", "shop.Refund")
    )


Order, OrderLine, Refund = _protobuf_classes()


@pytest.fixture
def registry():
    with LocalSchemaRegistry() as local:
        yield local


def parse(raw: dict):
    return parse_kafka_event(raw)


def context(topic: str, field: MessageField = MessageField.VALUE) -> SerializationContext:
    return SerializationContext(topic, field)


def lines(s3, bucket: str) -> list[dict]:
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return [
        json.loads(line)
        for key in sorted(keys)
        for line in gzip.decompress(
            s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        ).splitlines()
    ]


def test_avro_keys_and_values_from_confluent_kafkas_serializers_decode(registry, consumer, s3):
    client = SchemaRegistryClient({"url": registry.url})
    values = AvroSerializer(client, json.dumps(ORDER_AVRO))
    keys = AvroSerializer(client, json.dumps(KEY_AVRO))
    originals = [({"customer": n}, {"id": n, "note": "é" * n}) for n in range(3)]
    batch = event(
        *(
            record(
                n,
                values(value, context("orders")),
                key=keys(key, context("orders", MessageField.KEY)),
            )
            for n, (key, value) in enumerate(originals)
        )
    )
    pipeline = consumer(
        KEY_FORMAT="confluent-avro", VALUE_FORMAT="confluent-avro", SCHEMA_REGISTRY_URL=registry.url
    )
    registry.requests.clear()

    assert pipeline.process(parse(batch)).redeliver_from == {}
    assert [(line["key"], line["value"]) for line in lines(s3, ARCHIVE)] == originals
    assert sorted(registry.requests) == ["/schemas/ids/1", "/schemas/ids/2"]


def test_json_schema_values_from_confluent_kafkas_serializer_decode(registry, consumer, s3):
    serialize = JSONSerializer(
        json.dumps(ORDER_JSON_SCHEMA), SchemaRegistryClient({"url": registry.url})
    )
    good = {"id": 7, "tags": ["a", "b"]}
    framed = serialize(good, context("orders"))
    schema_id = struct.unpack(">I", framed[1:5])[0]
    refused = b"\x00" + struct.pack(">I", schema_id) + b'{"id": "seven"}'
    pipeline = consumer(VALUE_FORMAT="confluent-json", SCHEMA_REGISTRY_URL=registry.url)

    assert (
        pipeline.process(parse(event(record(1, framed), record(2, refused)))).redeliver_from == {}
    )
    assert [line["value"] for line in lines(s3, ARCHIVE)] == [good]
    (poison,) = lines(s3, FAILURES)
    assert poison["reason"].startswith("value fails its JSON Schema")


def test_protobuf_values_from_confluent_kafkas_serializer_decode_with_their_imports(
    registry, consumer, s3
):
    client = SchemaRegistryClient({"url": registry.url})
    conf = {"use.deprecated.format": False}
    order = Order(id=12, lines=[OrderLine(sku="tea", qty=2)])
    order.total.currency, order.total.cents = "EUR", 1250
    order.placed_at.FromSeconds(1_795_947_300)
    line = OrderLine(sku="cup", qty=1)
    refund = Refund(order_id=12)
    framed = [
        ProtobufSerializer(Order, client, conf)(order, context("orders")),
        ProtobufSerializer(OrderLine, client, conf)(line, context("lines")),
        ProtobufSerializer(Refund, client, conf)(refund, context("refunds")),
    ]
    # The first message of a file is one 0 byte; a nested one and a second one carry their path.
    assert [payload[5:8] for payload in framed[1:]] == [b"\x04\x00\x00", b"\x02\x02\x08"]
    pipeline = consumer(VALUE_FORMAT="confluent-protobuf", SCHEMA_REGISTRY_URL=registry.url)

    result = pipeline.process(
        parse(event(*(record(n, payload) for n, payload in enumerate(framed))))
    )

    assert result.redeliver_from == {}
    assert [line["value"] for line in lines(s3, ARCHIVE)] == [
        json_format.MessageToDict(message, preserving_proto_field_name=True)
        for message in (order, line, refund)
    ]
    assert any(
        path.startswith("/subjects/shop%2Fmoney.proto/versions/") for path in registry.requests
    )


def test_glue_avro_and_json_records_decode_with_schemas_from_glue(consumer, s3):
    glue = boto3.client("glue", region_name=REGION)
    glue.create_registry(RegistryName="orders")
    avro_version = glue.create_schema(
        RegistryId={"RegistryName": "orders"},
        SchemaName="order-avro",
        DataFormat="AVRO",
        Compatibility="BACKWARD",
        SchemaDefinition=json.dumps(ORDER_AVRO),
    )["SchemaVersionId"]
    json_version = glue.create_schema(
        RegistryId={"RegistryName": "orders"},
        SchemaName="order-json",
        DataFormat="JSON",
        Compatibility="NONE",
        SchemaDefinition=json.dumps(ORDER_JSON_SCHEMA),
    )["SchemaVersionId"]
    evolved = {
        **ORDER_AVRO,
        "fields": [*ORDER_AVRO["fields"], {"name": "n", "type": "int", "default": 0}],
    }
    second = glue.register_schema_version(
        SchemaId={"RegistryName": "orders", "SchemaName": "order-avro"},
        SchemaDefinition=json.dumps(evolved),
    )["SchemaVersionId"]

    def glue_framed(version: str, body: bytes, *, compressed: bool = False) -> bytes:
        header = bytes([3, 5 if compressed else 0]) + uuid.UUID(version).bytes
        return header + (zlib.compress(body) if compressed else body)

    def avro(schema, datum) -> bytes:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, fastavro.parse_schema(schema), datum)
        return out.getvalue()

    avro_batch = event(
        record(1, glue_framed(avro_version, avro(ORDER_AVRO, {"id": 1, "note": "a"}))),
        record(
            2, glue_framed(second, avro(evolved, {"id": 2, "note": "b", "n": 5}), compressed=True)
        ),
    )
    assert consumer(VALUE_FORMAT="glue-avro").process(parse(avro_batch)).redeliver_from == {}
    json_batch = event(
        record(
            3, glue_framed(json_version, b'{"id": 3, "tags": ["x"]}', compressed=True), topic="j"
        )
    )
    assert consumer(VALUE_FORMAT="glue-json").process(parse(json_batch)).redeliver_from == {}
    assert [line["value"] for line in lines(s3, ARCHIVE)] == [
        {"id": 3, "tags": ["x"]},
        {"id": 1, "note": "a"},
        {"id": 2, "note": "b", "n": 5},
    ]


def test_8000_records_of_an_unknown_id_are_poison_after_one_registry_call(registry, consumer, s3):
    pipeline = consumer(VALUE_FORMAT="confluent-avro", SCHEMA_REGISTRY_URL=registry.url)
    framed = b"\x00" + struct.pack(">I", 99) + b"\x02"
    batch = event(*(record(offset, framed) for offset in range(8_000)))

    assert pipeline.process(parse(batch)).redeliver_from == {}
    assert registry.requests == ["/schemas/ids/99"]
    quarantined = lines(s3, FAILURES)
    assert len(quarantined) == 8_000
    assert {line["reason"] for line in quarantined} == {
        "value refers to schema id 99, unknown to the registry"
    }


@pytest.mark.parametrize("status", [503, 500, 429], ids=["unavailable", "5xx", "throttled"])
def test_a_failing_registry_makes_records_poison_and_is_asked_again_only_after_a_cool_down(
    registry, status
):
    now = [1000.0]
    client = SchemaRegistryClient({"url": registry.url})
    payload = b64(
        AvroSerializer(client, json.dumps(ORDER_AVRO))({"id": 1, "note": "a"}, context("o"))
    )
    decoder = RegistryDecoder(
        framing="confluent",
        encoding="avro",
        registry=ConfluentSchemaRegistry(registry.url),
        max_bytes=1024,
        clock=lambda: now[0],
    )
    registry.requests.clear()
    registry.failing = status
    for _ in range(3):
        with pytest.raises(PoisonRecordError, match=f"schema registry answered HTTP {status}"):
            decoder(payload)
    registry.failing = None
    now[0] += COOL_DOWN_SECONDS - 1
    with pytest.raises(PoisonRecordError, match=f"HTTP {status}"):
        decoder(payload)  # still cooling down: the registry is not asked
    now[0] += 1
    assert decoder(payload) == {"id": 1, "note": "a"}
    assert decoder(payload) == {"id": 1, "note": "a"}
    assert registry.requests == ["/schemas/ids/1", "/schemas/ids/1"]


def test_an_unreachable_registry_makes_the_record_poison():
    decoder = RegistryDecoder(
        framing="confluent",
        encoding="avro",
        registry=ConfluentSchemaRegistry("http://127.0.0.1:9", timeout_seconds=0.5),
        max_bytes=1024,
    )
    with pytest.raises(PoisonRecordError, match="schema id 1; the schema registry is unreachable"):
        decoder(b64(b"\x00\x00\x00\x00\x01\x02"))


def test_a_schema_of_another_type_is_poison(registry):
    client = SchemaRegistryClient({"url": registry.url})
    payload = JSONSerializer(json.dumps(ORDER_JSON_SCHEMA), client)({"id": 1}, context("o"))
    decoder = RegistryDecoder(
        framing="confluent",
        encoding="avro",
        registry=ConfluentSchemaRegistry(registry.url),
        max_bytes=64,
    )
    with pytest.raises(PoisonRecordError, match="schema id 1, a JSON schema, not AVRO"):
        decoder(b64(payload))


def test_schemas_are_cached_across_invocations(registry, consumer):
    serialize = AvroSerializer(SchemaRegistryClient({"url": registry.url}), json.dumps(ORDER_AVRO))
    pipeline = consumer(VALUE_FORMAT="confluent-avro", SCHEMA_REGISTRY_URL=registry.url)
    batch = parse(event(record(1, serialize({"id": 1, "note": "a"}, context("orders")))))
    registry.requests.clear()

    pipeline.process(batch)
    assert registry.requests == ["/schemas/ids/1"]
    pipeline.process(batch)  # the next invocation of the same container
    assert registry.requests == ["/schemas/ids/1"]


def test_glue_failures_are_poison_with_one_call_per_version(clients, consumer, s3):
    failing = FaultyClients(clients, lambda service, operation, params: service == "glue")
    pipeline = consumer(failing, VALUE_FORMAT="glue-avro")
    unknown = uuid.uuid4()
    batch = event(
        *(record(offset, bytes([3, 0]) + unknown.bytes + b"\x02") for offset in range(50))
    )

    assert pipeline.process(parse(batch)).redeliver_from == {}
    assert [call for call in failing.calls if call[0] == "glue"] == [("glue", "get_schema_version")]
    assert {line["reason"] for line in lines(s3, FAILURES)} == {
        f"value refers to schema version {unknown}; glue:GetSchemaVersion failed: InternalError"
    }


def test_an_unknown_glue_version_is_poison(consumer, s3):
    unknown = uuid.uuid4()
    batch = event(record(1, bytes([3, 0]) + unknown.bytes + b"\x02"))
    assert consumer(VALUE_FORMAT="glue-json").process(parse(batch)).redeliver_from == {}
    (poison,) = lines(s3, FAILURES)
    assert poison["reason"] == f"value refers to schema version {unknown}, unknown to Glue"


def test_lambda_decoded_json_values_keep_working(consumer, s3):
    """Lambda's own registry integration delivers the value as plain JSON: VALUE_FORMAT=json."""
    batch = event(record(1, msgspec.json.encode({"id": 1, "note": "from Lambda"})))
    assert consumer(VALUE_FORMAT="json").process(parse(batch)).redeliver_from == {}
    assert [line["value"] for line in lines(s3, ARCHIVE)] == [{"id": 1, "note": "from Lambda"}]


def test_the_protobuf_runtime_is_imported_only_by_a_protobuf_schema():
    """A cold start of any other format does not pay for the protobuf import."""
    code = (
        "import sys\n"
        "from msk_autopilot.consume.framed import RegistryDecoder\n"
        "from msk_autopilot.consume.registry import ConfluentSchemaRegistry\n"
        "RegistryDecoder(framing='confluent', encoding='protobuf', max_bytes=9,\n"
        "                registry=ConfluentSchemaRegistry('http://127.0.0.1:9'))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('google', 'fastavro'))))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert shown.stdout == "[]\n"
