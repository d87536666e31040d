"""The wire-format parsers: Confluent's prefix and Protobuf message indexes, Glue's header."""

import contextlib
import uuid
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msk_autopilot.consume import PoisonRecordError
from msk_autopilot.consume.wire import confluent_frame, glue_frame, message_indexes

VERSION = uuid.UUID("b7b4a7f0-8d9c-4a3e-9f1e-0a1b2c3d4e5f")


@given(st.binary(max_size=64))
def test_the_parsers_raise_nothing_but_poison_whatever_the_bytes(data):
    for parse in (confluent_frame, lambda data: glue_frame(data, 64), message_indexes):
        with contextlib.suppress(PoisonRecordError):
            parse(data)


@given(st.binary(max_size=40))
def test_any_bytes_behind_a_valid_prefix_raise_nothing_but_poison(tail):
    for data in (b"\x00\x00\x00\x00\x01" + tail, bytes([3, 5]) + VERSION.bytes + tail):
        try:
            _, body = confluent_frame(data) if data[0] == 0 else glue_frame(data, 64)
            message_indexes(body)
        except PoisonRecordError:
            pass


def test_confluent_prefix_gives_the_schema_id_and_the_body():
    assert confluent_frame(b"\x00\x00\x01\x00\x02body") == ("65538", b"body")
    for wrong in (b"\x01\x00\x00\x00\x01", b"\x00\x00"):
        with pytest.raises(PoisonRecordError, match="no Confluent wire-format prefix"):
            confluent_frame(wrong)


def test_protobuf_message_indexes_are_zigzag_varints():
    assert message_indexes(b"\x00rest") == ((0,), b"rest")  # the first message: one 0 byte
    assert message_indexes(b"\x04\x02\x04rest") == ((1, 2), b"rest")  # count 2, then 1 and 2
    assert message_indexes(b"\x02\xac\x02") == ((150,), b"")  # 300 zig-zagged, two bytes
    with pytest.raises(PoisonRecordError, match="negative Protobuf message index"):
        message_indexes(b"\x02\x01")
    with pytest.raises(PoisonRecordError, match="message-index count of -1"):
        message_indexes(b"\x01")
    with pytest.raises(PoisonRecordError, match="truncated or overlong"):
        message_indexes(b"\x04\x02")
    with pytest.raises(PoisonRecordError, match="truncated or overlong"):
        message_indexes(b"\xff" * 11)


def test_glue_header_gives_the_version_and_the_inflated_body():
    assert glue_frame(bytes([3, 0]) + VERSION.bytes + b"abc", 64) == (str(VERSION), b"abc")
    compressed = bytes([3, 5]) + VERSION.bytes + zlib.compress(b"abc")
    assert glue_frame(compressed, 64) == (str(VERSION), b"abc")


def test_glue_header_errors_are_poison():
    with pytest.raises(PoisonRecordError, match="no Glue wire-format prefix"):
        glue_frame(bytes([3, 1]) + VERSION.bytes + b"\x02", 64)  # compression 1 is not Glue's
    with pytest.raises(PoisonRecordError, match="no Glue wire-format prefix"):
        glue_frame(b"\x00\x00\x00\x00\x01\x02\x00", 64)
    with pytest.raises(PoisonRecordError, match="corrupt Glue zlib payload"):
        glue_frame(bytes([3, 5]) + VERSION.bytes + b"not zlib", 64)
    bomb = bytes([3, 5]) + VERSION.bytes + zlib.compress(b"\x00" * 10_000)
    with pytest.raises(PoisonRecordError, match="inflates to more than MAX_VALUE_BYTES=64"):
        glue_frame(bomb, 64)
    with pytest.raises(PoisonRecordError, match="truncated Glue zlib payload"):
        glue_frame(bytes([3, 5]) + VERSION.bytes + zlib.compress(b"abc" * 9)[:6], 64)
