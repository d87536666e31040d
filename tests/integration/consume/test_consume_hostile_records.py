"""Hostile records through the real record consumer: each one is quarantined, never the batch.

Every value (and key) format the consumer supports gets values built to break its decoder:
deep nesting, invalid UTF-8, NaN and Infinity, numbers no type holds, truncated or padded Avro,
broken wire-format prefixes. The batch around the hostile record must be archived as usual.
"""

import base64
import gzip
import io
import json
import uuid
import zlib

import boto3
import fastavro
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from msk_autopilot_local.local_lambda import invoke_function
from msk_autopilot_local.schema_registry import LocalSchemaRegistry

REGION = "us-east-1"
ORDER = {
    "type": "record",
    "name": "Order",
    "fields": [{"name": "id", "type": "long"}, {"name": "note", "type": "string"}],
}
# A schema that refers to itself: a linked list of nodes, as deep as a record makes it.
NODE = {
    "type": "record",
    "name": "Node",
    "namespace": "example",
    "fields": [{"name": "id", "type": "long"}, {"name": "next", "type": ["null", "Node"]}],
}
FAST_JSON_SCHEMA = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "integer"}, "tags": {"type": "array"}},
}
# A recursive $ref is outside the fast subset: values go to the exact validator.
EXACT_JSON_SCHEMA = {
    "$ref": "#/definitions/tree",
    "definitions": {
        "tree": {
            "anyOf": [
                {"type": "integer"},
                {"type": "object"},
                {"type": "array", "items": {"$ref": "#/definitions/tree"}},
            ]
        }
    },
}
GOOD_JSON = b'{"id": 1}'


def avro(schema, datum) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), datum)
    return out.getvalue()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def linked_nodes(depth: int) -> bytes:
    """Avro of a Node list `depth` long: each level is a long and a union branch, 2 bytes."""
    return b"\x02\x02" * depth + b"\x02\x00"


GOOD_ORDER = avro(ORDER, {"id": 1, "note": "ok"})
GOOD_NODES = avro(NODE, {"id": 1, "next": {"id": 2, "next": None}})

# (settings, schema written to VALUE_SCHEMA or None, a good value, a hostile value, the reason)
CASES = {
    "json: deep arrays": ({}, None, GOOD_JSON, nested(10_000), "nests too deeply"),
    "json: deep objects": (
        {},
        None,
        GOOD_JSON,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        "nests too deeply",
    ),
    "json: invalid UTF-8 in a string": ({}, None, GOOD_JSON, b'{"id": "\xff"}', "is not JSON"),
    "json: a lone surrogate": ({}, None, GOOD_JSON, b'{"id": "\xed\xa0\x80"}', "is not JSON"),
    "json: NaN": ({}, None, GOOD_JSON, b'{"id": NaN}', "is not JSON"),
    "json: Infinity": ({}, None, GOOD_JSON, b"[Infinity, -Infinity]", "is not JSON"),
    "json: a float no double holds": ({}, None, GOOD_JSON, b'{"id": 1e999}', "is not JSON"),
    "json: an integer of 5000 digits": ({}, None, GOOD_JSON, b"1" + b"0" * 5000, "is not JSON"),
    "json-schema (fast): deep arrays": (
        {},
        FAST_JSON_SCHEMA,
        GOOD_JSON,
        nested(10_000),
        "nests too deeply",
    ),
    "json-schema (fast): deep arrays in a field": (
        {},
        FAST_JSON_SCHEMA,
        GOOD_JSON,
        b'{"id": 1, "tags": ' + nested(10_000) + b"}",
        "nests too deeply",
    ),
    "json-schema (fast): NaN": ({}, FAST_JSON_SCHEMA, GOOD_JSON, b'{"id": NaN}', "is not JSON"),
    "json-schema (fast): huge integer": (
        {},
        FAST_JSON_SCHEMA,
        GOOD_JSON,
        b'{"id": 1' + b"0" * 5000 + b"}",
        "is not JSON",
    ),
    "json-schema (exact): deep arrays": (
        {},
        EXACT_JSON_SCHEMA,
        GOOD_JSON,
        nested(10_000),
        "nests too deeply",
    ),
    "json-schema (exact): deeper than the validator recurses": (
        {},
        EXACT_JSON_SCHEMA,
        GOOD_JSON,
        nested(3_000),
        "nests too deeply to decode for its JSON Schema",
    ),
    "json-schema (exact): invalid UTF-8": (
        {},
        EXACT_JSON_SCHEMA,
        GOOD_JSON,
        b'["\xc3\x28"]',
        "is not JSON",
    ),
    "avro: truncated": ({"VALUE_FORMAT": "avro"}, ORDER, GOOD_ORDER, GOOD_ORDER[:-1], "not Avro"),
    "avro: a string longer than the record": (
        {"VALUE_FORMAT": "avro"},
        ORDER,
        GOOD_ORDER,
        b"\x02\xfe\xff\xff\xff\x0f",
        "not Avro",
    ),
    "avro: trailing bytes": (
        {"VALUE_FORMAT": "avro"},
        ORDER,
        GOOD_ORDER,
        GOOD_ORDER + b"\x00",
        "bytes after the Avro datum",
    ),
    "avro: invalid UTF-8 in a string": (
        {"VALUE_FORMAT": "avro"},
        ORDER,
        GOOD_ORDER,
        b"\x02\x02\xff",
        "not Avro",
    ),
    "avro: a recursive schema nested 20000 deep": (
        {"VALUE_FORMAT": "avro"},
        NODE,
        GOOD_NODES,
        linked_nodes(20_000),
        "RecursionError",
    ),
    "avro: an empty value": ({"VALUE_FORMAT": "avro"}, ORDER, GOOD_ORDER, b"", "not Avro"),
    "raw: larger than MAX_VALUE_BYTES": (
        {"VALUE_FORMAT": "raw", "MAX_VALUE_BYTES": "64"},
        None,
        b"\xff\xfe",
        b"x" * 100,
        "larger than MAX_VALUE_BYTES",
    ),
}


def kafka_event(records: list[dict]) -> dict:
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": f"arn:aws:kafka:{REGION}:123456789012:cluster/orders/abc",
        "records": {"orders-0": records},
    }


def kafka_record(offset: int, value: bytes, key: bytes = b"k") -> dict:
    return {
        "topic": "orders",
        "partition": 0,
        "offset": offset,
        "timestamp": 1_795_947_300_000,
        "timestampType": "CREATE_TIME",
        "key": base64.b64encode(key).decode(),
        "value": base64.b64encode(value).decode(),
        "headers": [],
    }


def stored(s3, bucket: str) -> list[dict]:
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return [
        json.loads(line)
        for key in keys
        for line in gzip.decompress(
            s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        ).splitlines()
    ]


def consume(env: dict[str, str], records: list[dict]) -> dict:
    settings = {"ARCHIVE_BUCKET": "archive", "FAILURE_BUCKET": "failures", "VALUE_FORMAT": "json"}
    return invoke_function(
        "record_consumer", kafka_event(records), env_overrides={**settings, **env}
    )


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_value_is_quarantined_and_the_rest_of_the_batch_archived(aws, tmp_path, case):
    env, schema, good, hostile, reason = CASES[case]
    if schema is not None:
        path = tmp_path / "value.schema.json"
        path.write_text(json.dumps(schema))
        env = {**env, "VALUE_SCHEMA": str(path)}
    records = [kafka_record(1, good), kafka_record(2, hostile), kafka_record(3, good)]

    assert consume(env, records) == {"batchItemFailures": []}
    assert [line["offset"] for line in stored(aws, "archive")] == [1, 3]
    (quarantined,) = stored(aws, "failures")
    assert quarantined["offset"] == 2
    assert quarantined["reason"].startswith("value ")
    assert reason in quarantined["reason"]
    assert quarantined["record"] == records[1]  # as delivered, to be replayed


def test_a_recursive_avro_schema_still_decodes_its_records(aws, tmp_path):
    path = tmp_path / "node.avsc"
    path.write_text(json.dumps(NODE))
    env = {"VALUE_FORMAT": "avro", "VALUE_SCHEMA": str(path)}
    value = avro(NODE, {"id": 1, "next": {"id": 2, "next": {"id": 3, "next": None}}})

    assert consume(env, [kafka_record(5, value)]) == {"batchItemFailures": []}
    (archived,) = stored(aws, "archive")
    assert archived["value"] == {
        "id": 1,
        "next": {"id": 2, "next": {"id": 3, "next": None}},
    }


@pytest.mark.parametrize(
    "key", [nested(10_000), b'{"k": "\xff"}', b"NaN"], ids=["deep", "utf-8", "nan"]
)
def test_a_hostile_json_key_is_quarantined_too(aws, key):
    records = [kafka_record(1, GOOD_JSON, key=b'"k"'), kafka_record(2, GOOD_JSON, key=key)]

    assert consume({"KEY_FORMAT": "json"}, records) == {"batchItemFailures": []}
    assert [line["offset"] for line in stored(aws, "archive")] == [1]
    (quarantined,) = stored(aws, "failures")
    assert (quarantined["offset"], quarantined["reason"][:4]) == (2, "key ")


def test_hostile_wire_format_values_are_quarantined_and_the_rest_archived(aws):
    """The good records' schemas come from the registries; the hostile ones break the framing."""
    glue = boto3.client("glue", region_name=REGION)
    glue.create_registry(RegistryName="orders")
    version = glue.create_schema(
        RegistryId={"RegistryName": "orders"},
        SchemaName="order",
        DataFormat="AVRO",
        Compatibility="NONE",
        SchemaDefinition=json.dumps(ORDER),
    )["SchemaVersionId"]
    with LocalSchemaRegistry() as registry:
        AvroSerializer(SchemaRegistryClient({"url": registry.url}), json.dumps(ORDER))(
            {"id": 1, "note": "ok"}, SerializationContext("orders", MessageField.VALUE)
        )
        cases = [
            (
                {"VALUE_FORMAT": "confluent-avro", "SCHEMA_REGISTRY_URL": registry.url},
                b"\x00\x00\x00\x00\x01" + GOOD_ORDER,
                b"\x01\x00",
                "no Confluent wire-format prefix",
            ),
            (
                {"VALUE_FORMAT": "glue-avro"},
                bytes([3, 0]) + uuid.UUID(version).bytes + GOOD_ORDER,
                bytes([3, 5]) + bytes(16) + zlib.compress(b"\x00" * 100_000)[:50],
                "truncated Glue zlib payload",
            ),
        ]
        for env, good, hostile, reason in cases:
            for bucket in ("archive", "failures"):
                for item in aws.list_objects_v2(Bucket=bucket).get("Contents", []):
                    aws.delete_object(Bucket=bucket, Key=item["Key"])
            records = [kafka_record(1, good), kafka_record(2, hostile), kafka_record(3, good)]

            assert consume(env, records) == {"batchItemFailures": []}
            assert [line["value"] for line in stored(aws, "archive")] == [
                {"id": 1, "note": "ok"}
            ] * 2
            (quarantined,) = stored(aws, "failures")
            assert quarantined["offset"] == 2
            assert reason in quarantined["reason"]
