"""Records as the consumer hands them on: headers stay as Lambda delivered them until read."""

import pytest

from msk_autopilot.consume import ConsumerRecord, Header, PoisonRecordError
from msk_autopilot.consume.records import WireHeaders


def consumer_record(headers):
    return ConsumerRecord(
        topic="orders",
        partition=0,
        offset=7,
        timestamp=1,
        timestamp_type="CREATE_TIME",
        key=None,
        value=b"v",
        headers=headers,
    )


def test_headers_convert_on_first_read_signed_bytes_unsigned_and_the_last_repeat_wins():
    wire = [{"trace": list(b"abc")}, {"bin": [-1, 0, 127, -128]}, {"trace": list(b"xyz")}]
    record = consumer_record(WireHeaders(wire))

    assert record.header("trace") == b"xyz"
    assert record.header("bin") == b"\xff\x00\x7f\x80"
    assert record.header("missing") is None
    assert list(record.headers) == [
        Header("trace", b"abc"),
        Header("bin", b"\xff\x00\x7f\x80"),
        Header("trace", b"xyz"),
    ]
    assert record.headers[1:] == (Header("bin", b"\xff\x00\x7f\x80"), Header("trace", b"xyz"))
    # Delivered headers equal the same headers made by a hook, so records compare alike.
    assert record == consumer_record(tuple(record.headers))


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        ([{"h": [1, 999]}], "header 'h' holds values that are not bytes"),
        ([{"h": [-129]}], "header 'h' holds values that are not bytes"),
        ([{"h": [True]}], "malformed headers: Expected `int`, got `bool`"),
        ("nope", "malformed headers: Expected `array`, got `str`"),
        ([{"h": 5}], "malformed headers: Expected `array`, got `int`"),
        (None, "malformed headers: Expected `array`, got `null`"),
    ],
)
def test_malformed_headers_are_found_when_read_never_before(wire, reason):
    record = consumer_record(WireHeaders(wire))  # made without a look at them
    with pytest.raises(PoisonRecordError, match=rf"^{reason}"):
        record.header("h")
    with pytest.raises(PoisonRecordError, match=rf"^{reason}"):
        list(record.headers)


def test_a_record_without_headers_has_an_empty_tuple():
    assert consumer_record(()).header("h") is None
