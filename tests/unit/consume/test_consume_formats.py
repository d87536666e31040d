"""Decoders of the plain formats, and JSON Schema's fast path against the exact one."""

import io
import json

import fastavro
import msgspec
import pytest
from consume_support import b64
from hypothesis import given, settings
from hypothesis import strategies as st

from msk_autopilot.consume import PoisonRecordError
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
    decoder = AvroDecoder(json.dumps(AVRO_SCHEMA), max_bytes=MiB)
    assert decoder(b64(avro({"id": 7, "note": "hi"}))) == {"id": 7, "note": "hi"}
    with pytest.raises(PoisonRecordError, match="bytes after the Avro datum"):
        decoder(b64(avro({"id": 7, "note": "hi"}) + b"\x00"))
    with pytest.raises(PoisonRecordError, match="is not Avro of its schema"):
        decoder(b64(b"\x02"))  # a long, then no string
