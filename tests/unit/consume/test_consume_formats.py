"""Decoders of each format and wire format, and JSON Schema's fast path against the exact one."""

import io
import json
import struct
import uuid
import zlib

import fastavro
import msgspec
import pytest
from consume_support import b64
from hypothesis import given, settings
from hypothesis import strategies as st

from msk_autopilot.consume import PoisonRecordError, TransientDecodeError
from msk_autopilot.consume.formats import AvroDecoder, JsonDecoder, RawDecoder
from msk_autopilot.consume.json_schema import compile_exact, translate

AVRO_SCHEMA = {
    "type": "record",
    "name": "Order",
    "fields": [{"name": "id", "type": "long"}, {"name": "note", "type": "string"}],
}
MiB = 1024 * 1024


def avro(datum, schema=AVRO_SCHEMA) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), datum)
    return buffer.getvalue()


def confluent(schema_id: int, body: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", schema_id) + body


def glue(version: uuid.UUID, body: bytes, *, compressed: bool = False) -> bytes:
    return (
        bytes([3, 5 if compressed else 0])
        + version.bytes
        + (zlib.compress(body) if compressed else body)
    )


class Registry:
    """An in-memory SchemaSource: ids it knows, and whether it is reachable."""

    def __init__(self, schemas: dict[str, dict], *, reachable: bool = True) -> None:
        self.schemas, self.reachable, self.lookups = schemas, reachable, []

    def avro_schema(self, schema_id: str) -> str:
        self.lookups.append(schema_id)
        if not self.reachable:
            raise TransientDecodeError("registry down")
        if schema_id not in self.schemas:
            raise PoisonRecordError(f"refers to schema id {schema_id}, unknown to the registry")
        return json.dumps(self.schemas[schema_id])


def test_raw_keeps_the_bytes_and_refuses_bad_base64_and_oversize():
    raw = RawDecoder(max_bytes=4)
    assert raw(b64(b"\x00\xff")) == b"\x00\xff"
    assert raw.decode_all([b64(b"ab"), None]) == [b"ab", None]
    with pytest.raises(PoisonRecordError, match="not valid base64"):
        raw("YQ")  # unpadded
    with pytest.raises(PoisonRecordError, match="larger than MAX_VALUE_BYTES=4"):
        raw(b64(b"12345678"))
    long = b64(b"x" * 300)  # decoded by pybase64 (long) rather than binascii (short)
    assert RawDecoder(MiB)(long) == b"x" * 300
    with pytest.raises(PoisonRecordError, match="not valid base64"):
        RawDecoder(MiB)(long[:-2] + "!!")


def test_json_without_schema_keeps_the_text_verbatim():
    decoder = JsonDecoder(MiB)
    value = decoder(b64(b'{"a": [1, 2]}'))
    assert isinstance(value, msgspec.Raw)
    assert msgspec.json.encode(value) == b'{"a": [1, 2]}'
    with pytest.raises(PoisonRecordError, match="is not JSON"):
        decoder(b64(b'{"a": "\xff"}'))  # not UTF-8


def test_a_schema_outside_the_fast_subset_uses_the_exact_validator():
    schema = {
        "type": "object",
        "properties": {"n": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
    }
    assert translate(schema) is None
    decoder = JsonDecoder(MiB, schema)
    assert decoder(b64(b'{"n": 1}')) == {"n": 1}
    with pytest.raises(PoisonRecordError, match="fails its JSON Schema"):
        decoder(b64(b'{"n": 1.5}'))


def test_an_invalid_schema_file_fails_at_load(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"type": "object", "properties": {"a": {"type": "nonsense"}}}')
    with pytest.raises(ValueError, match="Unknown type"):
        JsonDecoder.from_file(MiB, path)


def test_an_invalid_pattern_fails_at_load_as_a_value_error():
    with pytest.raises(ValueError, match="pattern"):
        JsonDecoder(MiB, {"type": "string", "pattern": "("})


def test_format_is_an_annotation_as_in_json_schema_2020_12():
    decoder = JsonDecoder(MiB, {"type": "string", "format": "date-time"})
    assert msgspec.json.encode(decoder(b64(b'"not a date"'))) == b'"not a date"'


FAST_SUBSET_SCHEMAS = [
    {
        "type": "object",
        "required": ["id", "tags"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1, "maximum": 100, "multipleOf": 2},
            "name": {"type": ["string", "null"], "minLength": 1, "maxLength": 3, "pattern": "a"},
            "tags": {"type": "array", "items": {"enum": ["x", "y", 1]}, "maxItems": 2},
            "price": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
            "meta": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "class": {"const": "k"},
            "any": {},
        },
    },
    {
        "type": "array",
        "items": {"$ref": "#/$defs/point"},
        "$defs": {
            "point": {"type": "object", "required": ["x"], "properties": {"x": {"type": "number"}}}
        },
    },
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 120)
    | st.floats(-1, 12, allow_nan=False)
    | st.sampled_from(["x", "y", "k", "a", "ba", "abcd", ""]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["id", "name", "tags", "price", "meta", "class", "any", "x", "other"]),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("schema", FAST_SUBSET_SCHEMAS)
@settings(max_examples=400, deadline=None)
@given(value=json_values)
def test_the_fast_types_never_accept_what_the_schema_refuses(schema, value):
    fast = msgspec.json.Decoder(translate(schema))
    exact = compile_exact(schema)
    text = msgspec.json.encode(value)
    try:
        fast.decode(text)
    except msgspec.ValidationError:
        return  # stricter is allowed: the exact validator has the last word
    exact(value)  # raises if the fast types were more lenient than the schema


def test_fast_types_translate_the_common_subset():
    assert translate(FAST_SUBSET_SCHEMAS[0]) is not None
    assert translate(FAST_SUBSET_SCHEMAS[1]) is not None
    for outside in (
        {"type": "object", "minProperties": 1},
        {"type": "string", "format": "email", "contentEncoding": "base64"},
        {"$ref": "http://example.com/schema.json"},
        {"type": ["string", "integer"]},
        {"enum": [1.5]},
        {"type": "number", "multipleOf": 0.1},
        {"type": "integer", "exclusiveMinimum": True},
        {"minimum": 0},
        False,
    ):
        assert translate(outside) is None, outside


def test_recursive_refs_fall_back_to_the_exact_validator():
    schema = {
        "$ref": "#/definitions/node",
        "definitions": {
            "node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/node"}}}
        },
    }
    assert translate(schema) is None
    assert JsonDecoder(MiB, schema)(b64(b'{"next": {"next": {}}}')) == {"next": {"next": {}}}


def test_plain_avro_decodes_with_the_schema_file_and_refuses_trailing_bytes():
    decoder = AvroDecoder(
        wire_format="plain", schema_text=json.dumps(AVRO_SCHEMA), registry=None, max_bytes=MiB
    )
    assert decoder(b64(avro({"id": 7, "note": "hi"}))) == {"id": 7, "note": "hi"}
    with pytest.raises(PoisonRecordError, match="bytes after the Avro datum"):
        decoder(b64(avro({"id": 7, "note": "hi"}) + b"\x00"))
    with pytest.raises(PoisonRecordError, match="is not Avro of its schema"):
        decoder(b64(b"\x02"))  # a long, then no string


def test_confluent_prefix_with_an_offline_schema():
    decoder = AvroDecoder(
        wire_format="confluent", schema_text=json.dumps(AVRO_SCHEMA), registry=None, max_bytes=MiB
    )
    assert decoder(b64(confluent(99, avro({"id": 1, "note": ""})))) == {"id": 1, "note": ""}
    for wrong in (b"\x01" + b"\x00" * 6, b"\x00\x00"):
        with pytest.raises(PoisonRecordError, match="no Confluent wire-format prefix"):
            decoder(b64(wrong))


def test_confluent_ids_are_looked_up_once_and_unknown_ids_are_poison():
    registry = Registry({"42": AVRO_SCHEMA})
    decoder = AvroDecoder(
        wire_format="confluent", schema_text=None, registry=registry, max_bytes=MiB
    )
    for _ in range(3):
        assert decoder(b64(confluent(42, avro({"id": 1, "note": "a"}))))["id"] == 1
    for _ in range(2):
        with pytest.raises(PoisonRecordError, match="schema id 43, unknown to the registry"):
            decoder(b64(confluent(43, b"")))
    assert registry.lookups == ["42", "43"]  # cached per container, unknown ids too


def test_a_registry_that_is_down_is_transient_and_asked_again():
    registry = Registry({"42": AVRO_SCHEMA}, reachable=False)
    decoder = AvroDecoder(
        wire_format="confluent", schema_text=None, registry=registry, max_bytes=MiB
    )
    payload = b64(confluent(42, avro({"id": 1, "note": "a"})))
    with pytest.raises(TransientDecodeError):
        decoder(payload)
    registry.reachable = True
    assert decoder(payload)["note"] == "a"


def test_writer_schema_from_the_registry_resolves_into_the_reader_schema():
    writer = {**AVRO_SCHEMA, "fields": [*AVRO_SCHEMA["fields"], {"name": "extra", "type": "int"}]}
    version = uuid.uuid4()
    decoder = AvroDecoder(
        wire_format="glue",
        schema_text=json.dumps(AVRO_SCHEMA),
        registry=Registry({str(version): writer}),
        max_bytes=MiB,
    )
    datum = avro({"id": 3, "note": "n", "extra": 9}, writer)
    assert decoder(b64(glue(version, datum))) == {"id": 3, "note": "n"}
    assert decoder(b64(glue(version, datum, compressed=True))) == {"id": 3, "note": "n"}


def test_glue_prefix_errors_are_poison():
    decoder = AvroDecoder(
        wire_format="glue", schema_text=json.dumps(AVRO_SCHEMA), registry=None, max_bytes=64
    )
    version = uuid.uuid4()
    with pytest.raises(PoisonRecordError, match="no Glue wire-format prefix"):
        decoder(b64(bytes([3, 1]) + version.bytes + b"\x02"))  # compression 1 is not Glue's
    with pytest.raises(PoisonRecordError, match="no Glue wire-format prefix"):
        decoder(b64(confluent(1, b"\x02\x00")))
    with pytest.raises(PoisonRecordError, match="corrupt Glue zlib payload"):
        decoder(b64(bytes([3, 5]) + version.bytes + b"not zlib"))
    bomb = bytes([3, 5]) + version.bytes + zlib.compress(b"\x00" * 10_000)
    with pytest.raises(PoisonRecordError, match="inflates to more than MAX_VALUE_BYTES=64"):
        decoder(b64(bomb))
