"""The pipeline end to end on moto: archive, quarantine, partial batch responses, replays."""

import io
import json
import random
import struct
from decimal import Decimal

import fastavro
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from consume_support import (
    ARCHIVE,
    FAILURES,
    T0,
    FaultyClients,
    b64,
    event,
    failures,
    objects,
    read_lines,
    record,
)

from msk_autopilot.consume import QuarantineError, parse_kafka_event
from msk_autopilot.observability import metrics
from msk_autopilot_local.schema_registry import LocalSchemaRegistry

ORDER_SCHEMA = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "integer", "minimum": 1}, "note": {"type": "string"}},
}


@pytest.fixture
def order_schema(tmp_path):
    path = tmp_path / "order.schema.json"
    path.write_text(json.dumps(ORDER_SCHEMA))
    return str(path)


def consume(pipeline, raw_event):
    return pipeline.process(parse_kafka_event(raw_event))


def test_each_partition_becomes_one_gzip_json_lines_object_with_full_metadata(consumer, s3):
    pipeline = consumer(VALUE_FORMAT="json")
    traceparent = list(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    raw = event(
        record(15, b'{"id": 1}', headers=[("traceparent", traceparent)]),
        record(16, b'{"id": 2}', key=None),
        record(3, b'{"id": 3}', partition=2),
    )
    result = consume(pipeline, raw)

    assert result.to_dict() == {"batchItemFailures": []}
    assert objects(s3, ARCHIVE) == [
        "topic=orders/partition=0/date=2026-11-29/hour=10/"
        "00000000000000000015-00000000000000000016.jsonl.gz",
        "topic=orders/partition=2/date=2026-11-29/hour=10/"
        "00000000000000000003-00000000000000000003.jsonl.gz",
    ]
    first, second = read_lines(s3, ARCHIVE, objects(s3, ARCHIVE)[0])
    assert first == {
        "topic": "orders",
        "partition": 0,
        "offset": 15,
        "timestamp": T0 + 15,
        "timestampType": "CREATE_TIME",
        "key": "aw==",  # raw bytes b"k", base64 in JSON
        "value": {"id": 1},
        "headers": [
            {
                "key": "traceparent",
                "value": b64(bytes(traceparent)),
            }
        ],
    }
    assert second["key"] is None  # null keys are legal
    assert second["value"] == {"id": 2}
    assert objects(s3, FAILURES) == []


def test_signed_header_bytes_and_tombstones_are_kept(consumer, s3):
    pipeline = consumer()  # raw values
    raw = event(record(1, b"\x00\xff", headers=[("bin", [-1, 0, 127, -128])]), record(2, None))
    assert failures(consume(pipeline, raw)) == {}
    lines = read_lines(s3, ARCHIVE, objects(s3, ARCHIVE)[0])
    assert lines[0]["headers"] == [{"key": "bin", "value": "/wB/gA=="}]  # ff 00 7f 80
    assert lines[0]["value"] == "AP8="
    assert lines[1]["value"] is None


def test_a_replay_of_the_same_batch_overwrites_the_same_objects(consumer, s3):
    pipeline = consumer(VALUE_FORMAT="json")
    raw = event(record(10), record(11, b"not json"), record(12), record(4, partition=1))
    consume(pipeline, raw)
    first_archive = {
        key: s3.head_object(Bucket=ARCHIVE, Key=key)["ETag"] for key in objects(s3, ARCHIVE)
    }
    first_quarantine = objects(s3, FAILURES)
    consume(consumer(VALUE_FORMAT="json"), raw)  # a fresh container, as after a retry

    assert {
        key: s3.head_object(Bucket=ARCHIVE, Key=key)["ETag"] for key in objects(s3, ARCHIVE)
    } == (first_archive)
    assert objects(s3, FAILURES) == first_quarantine
    assert len(first_archive) == 2


@pytest.mark.parametrize("hook", [None, "pass_through"])
def test_a_record_naming_another_partition_is_poison_not_an_overwrite(
    consumer, s3, emitted, tmp_path, monkeypatch, hook
):
    """Two records claim orders-0 offset 7, delivered under orders-0 and orders-1: archive
    objects are named from the records' fields, so the second used to overwrite the first."""
    settings = {"VALUE_FORMAT": "json"}
    if hook:  # the hook's path decodes record by record
        (tmp_path / "hooks.py").write_text("def pass_through(record):\n    return record\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        settings["RECORD_HOOK"] = f"hooks:{hook}"
    claimed = record(7, b'{"id": 1}')
    stray = record(7, b'{"id": 2}')
    raw = event(claimed)
    raw["records"]["orders-1"] = [stray, record(8, partition=1)]
    metrics.clear_metrics()
    result = consume(consumer(**settings), raw)
    metrics.flush_metrics()

    assert failures(result) == {}
    assert objects(s3, ARCHIVE) == [
        "topic=orders/partition=0/date=2026-11-29/hour=10/"
        "00000000000000000007-00000000000000000007.jsonl.gz",
        "topic=orders/partition=1/date=2026-11-29/hour=10/"
        "00000000000000000008-00000000000000000008.jsonl.gz",
    ]
    (archived,) = read_lines(s3, ARCHIVE, objects(s3, ARCHIVE)[0])
    assert archived["value"] == {"id": 1}
    (quarantined,) = objects(s3, FAILURES)
    assert quarantined.startswith("quarantine/topic=orders/partition=1/")
    (line,) = read_lines(s3, FAILURES, quarantined)
    assert line["record"] == stray
    assert line["reason"] == "record of orders-0 under orders-1"
    (emf,) = [line for line in emitted() if "_aws" in line]
    assert (emf["Records"], emf["PoisonRecords"]) == ([3.0], [1.0])


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"topic": "orders", "partition": 0, "timestamp": T0, "value": "e30="}, "offset"),
        ({**record(11), "offset": "11"}, "Expected `int`, got `str` - at `$.offset`"),
        ({**record(11), "value": "%%%not-base64"}, "value is not valid base64"),
        ({**record(11), "key": "a"}, "key is not valid base64"),
        ({**record(11), "value": 42}, "Expected `str | null`, got `int`"),
        (
            {**record(11), "headers": [{"h": [1, 999]}]},
            "header 'h' holds values that are not bytes",
        ),
        ({**record(11), "headers": "nope"}, "Expected `array`"),
        (record(11, b'{"id": 0}'), "fails its JSON Schema"),
        (record(11, b'{"id": 1'), "value is not JSON"),
        (record(11, b'{"note": "no id"}'), "fails its JSON Schema"),
        (record(11, b"x" * 3000), "value is larger than MAX_VALUE_BYTES=2048"),
        ({**record(11), "timestamp": 2**63 - 1}, "$.timestamp"),  # beyond year 9999
    ],
)
def test_poison_records_are_quarantined_raw_and_never_block_the_partition(
    consumer, s3, order_schema, bad, reason
):
    pipeline = consumer(VALUE_FORMAT="json", VALUE_SCHEMA=order_schema, MAX_VALUE_BYTES="2048")
    raw = event(record(10), bad, record(12))
    result = consume(pipeline, raw)

    assert failures(result) == {}  # counted as processed
    archived = read_lines(s3, ARCHIVE, objects(s3, ARCHIVE)[0])
    assert [line["offset"] for line in archived] == [10, 12]
    (quarantined,) = objects(s3, FAILURES, "quarantine/")
    assert quarantined.startswith("quarantine/topic=orders/partition=0/")
    (line,) = read_lines(s3, FAILURES, quarantined)
    assert reason in line["reason"]
    assert line["record"] == bad  # exactly as delivered: raw bytes and every field
    assert line["topicPartition"] == "orders-0"


def test_discarding_validates_payloads_as_archiving_does_but_never_reads_headers(consumer, s3):
    raw = event(
        record(1),
        record(2, headers=[("h", [1, 999])]),
        record(3, b"\x00", key=None),
        {**record(4), "value": "%%%not-base64"},
    )
    assert failures(consume(consumer(SINK="discard"), raw)) == {}
    assert objects(s3, ARCHIVE) == []
    (discarded,) = objects(s3, FAILURES)
    # The header of 2 is never read: a discarded record needs none.
    assert [line["offset"] for line in read_lines(s3, FAILURES, discarded)] == [4]

    assert failures(consume(consumer(), raw)) == {}
    (archived,) = objects(s3, ARCHIVE)
    assert [line["offset"] for line in read_lines(s3, ARCHIVE, archived)] == [1, 3]
    (quarantined,) = set(objects(s3, FAILURES)) - {discarded}
    lines = read_lines(s3, FAILURES, quarantined)
    assert sorted((line["offset"], line["reason"]) for line in lines) == [
        (2, "header 'h' holds values that are not bytes"),  # refused by the archive
        (4, "value is not valid base64"),
    ]


def test_integers_the_fast_types_refuse_are_asked_of_the_exact_validator(
    consumer, s3, order_schema
):
    pipeline = consumer(VALUE_FORMAT="json", VALUE_SCHEMA=order_schema)
    # JSON Schema (draft-06+) counts 2.0 as an integer; msgspec's int does not.
    result = consume(pipeline, event(record(1, b'{"id": 2.0}'), record(2, b'{"id": 2.5}')))
    assert failures(result) == {}
    assert [line["value"] for line in read_lines(s3, ARCHIVE, objects(s3, ARCHIVE)[0])] == [
        {"id": 2.0}
    ]
    (line,) = read_lines(s3, FAILURES, objects(s3, FAILURES)[0])
    assert line["offset"] == 2


def test_pretty_printed_json_stays_on_one_archive_line(consumer, s3):
    pipeline = consumer(VALUE_FORMAT="json")
    consume(pipeline, event(record(1, b'{\n  "id": 1\n}\n'), record(2, b"[1,\n2]")))
    assert [line["value"] for line in read_lines(s3, ARCHIVE, objects(s3, ARCHIVE)[0])] == [
        {"id": 1},
        [1, 2],
    ]


def test_a_sink_failing_for_one_partition_redelivers_exactly_that_partition(consumer, clients, s3):
    faulty = FaultyClients(
        clients,
        lambda service, operation, params: (
            params.get("Bucket") == ARCHIVE and "partition=1/" in params["Key"]
        ),
    )
    pipeline = consumer(clients_override=faulty, VALUE_FORMAT="json")
    raw = event(
        record(20, partition=0),
        record(21, partition=0),
        record(30, b"not json", partition=1),  # poison before the failure: quarantined
        record(31, partition=1),
        record(32, b"not json", partition=1),  # poison after it: quarantined, seen again later
        record(33, partition=1),
        record(7, partition=2),
    )
    result = consume(pipeline, raw)

    assert result.to_dict() == {
        "batchItemFailures": [{"itemIdentifier": {"partition": "orders-1", "offset": 31}}]
    }
    archived = [key.split("/")[1] for key in objects(s3, ARCHIVE)]
    assert archived == ["partition=0", "partition=2"]
    (quarantined,) = objects(s3, FAILURES)
    assert [line["offset"] for line in read_lines(s3, FAILURES, quarantined)] == [30, 32]


def test_every_record_is_stored_quarantined_or_redelivered(consumer, clients, s3):
    """Offset by offset: nothing is lost, whatever fails."""
    faulty = FaultyClients(
        clients,
        lambda service, operation, params: (
            params.get("Bucket") == ARCHIVE and "partition=0/" in params["Key"]
        ),
    )
    pipeline = consumer(clients_override=faulty, VALUE_FORMAT="json")
    delivered = [
        record(offset, b"{}" if offset % 3 else b"bad", partition=offset % 2)
        for offset in range(12)
    ]
    result = consume(pipeline, event(*delivered))

    redeliver = failures(result)
    stored = {
        (line["partition"], line["offset"])
        for key in objects(s3, ARCHIVE)
        for line in read_lines(s3, ARCHIVE, key)
    }
    quarantined = {
        (line["record"]["partition"], line["offset"])
        for key in objects(s3, FAILURES)
        for line in read_lines(s3, FAILURES, key)
    }
    for item in delivered:
        where = (item["partition"], item["offset"])
        redelivered = item["offset"] >= redeliver.get(f"orders-{item['partition']}", 1 << 62)
        assert where in stored or where in quarantined or redelivered, where
    assert redeliver == {"orders-0": 2}  # partition 0's first non-poison record


def test_a_failed_quarantine_write_makes_its_records_batch_item_failures(consumer, clients, s3):
    faulty = FaultyClients(
        clients, lambda service, operation, params: params.get("Bucket") == FAILURES
    )
    pipeline = consumer(clients_override=faulty, VALUE_FORMAT="json")
    result = consume(pipeline, event(record(5), record(6, b"bad"), record(7), record(8, b"bad")))

    assert failures(result) == {"orders-0": 6}
    assert [line["offset"] for line in read_lines(s3, ARCHIVE, objects(s3, ARCHIVE)[0])] == [5, 7]


def test_an_unsaved_poison_record_without_an_offset_fails_the_whole_batch(consumer, clients):
    faulty = FaultyClients(
        clients, lambda service, operation, params: params.get("Bucket") == FAILURES
    )
    pipeline = consumer(clients_override=faulty)
    raw = event(record(5))
    raw["records"]["orders-0"].append({"topic": "orders", "partition": 0})
    with pytest.raises(QuarantineError):
        consume(pipeline, raw)


def test_poison_without_offsets_is_named_by_its_content(consumer, s3):
    raw = event(record(5))
    raw["records"]["orders-0"] = ["not an object"]
    consume(consumer(), raw)
    (key,) = objects(s3, FAILURES)
    assert key.startswith("quarantine/topic=orders/partition=0/unknown-offsets-")
    (line,) = read_lines(s3, FAILURES, key)
    assert line["record"] == "not an object"
    assert line["offset"] is None


def hook_module(tmp_path, monkeypatch, source):
    (tmp_path / "consumer_hooks.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "consumer_hooks", raising=False)
    return "consumer_hooks:hook"


def test_the_hook_may_transform_or_drop_records(consumer, s3, tmp_path, monkeypatch):
    spec = hook_module(
        tmp_path,
        monkeypatch,
        "import msgspec\n"
        "def hook(record):\n"
        "    if record.value['id'] == 2:\n"
        "        return None\n"
        "    if record.value['id'] == 3:\n"
        "        raise RuntimeError('no threes')\n"
        "    value = {**record.value, 'trace': record.header('t').decode()}\n"
        "    return msgspec.structs.replace(record, value=value)\n",
    )
    pipeline = consumer(VALUE_FORMAT="json", RECORD_HOOK=spec)
    raw = event(
        record(1, b'{"id": 1}', headers=[("t", list(b"abc"))]),
        record(2, b'{"id": 2}'),
        record(3, b'{"id": 3}'),
    )
    assert failures(consume(pipeline, raw)) == {}
    assert [line["value"] for line in read_lines(s3, ARCHIVE, objects(s3, ARCHIVE)[0])] == [
        {"id": 1, "trace": "abc"}
    ]
    (line,) = read_lines(s3, FAILURES, objects(s3, FAILURES)[0])
    assert line["offset"] == 3
    assert line["reason"] == "RECORD_HOOK failed: RuntimeError: no threes"


def test_a_malformed_header_the_hook_reads_makes_its_record_poison(
    consumer, s3, tmp_path, monkeypatch
):
    spec = hook_module(
        tmp_path,
        monkeypatch,
        "import msgspec\n"
        "def hook(record):\n"
        "    return msgspec.structs.replace(record, value={'t': record.header('t').decode()})\n",
    )
    pipeline = consumer(VALUE_FORMAT="json", RECORD_HOOK=spec)
    raw = event(
        record(1, headers=[("t", list(b"abc"))]),
        record(2, headers=[("t", [97, 256])]),
    )
    assert failures(consume(pipeline, raw)) == {}
    assert [line["value"] for line in read_lines(s3, ARCHIVE, objects(s3, ARCHIVE)[0])] == [
        {"t": "abc"}
    ]
    (line,) = read_lines(s3, FAILURES, objects(s3, FAILURES)[0])
    assert (line["offset"], line["reason"]) == (2, "header 't' holds values that are not bytes")


def test_a_hook_may_not_move_a_record(consumer, s3, tmp_path, monkeypatch):
    spec = hook_module(
        tmp_path,
        monkeypatch,
        "import msgspec\ndef hook(record):\n    return msgspec.structs.replace(record, offset=0)\n",
    )
    consume(consumer(RECORD_HOOK=spec), event(record(1)))
    (line,) = read_lines(s3, FAILURES, objects(s3, FAILURES)[0])
    assert "unchanged" in line["reason"]


def test_metrics_describe_each_batch(consumer, s3, emitted):
    metrics.clear_metrics()
    consume(consumer(VALUE_FORMAT="json"), event(record(1, timestamp=1000), record(2, b"bad")))
    metrics.flush_metrics()
    (emf,) = [line for line in emitted() if "_aws" in line]
    assert emf["Records"] == [2.0]
    assert emf["PoisonRecords"] == [1.0]
    assert emf["SinkFailures"] == [0.0]
    exact = len(b"k" * 2 + b'{"id": 1}bad')  # counted from base64 length: padding adds <= 2
    assert exact <= emf["RecordBytes"][0] <= exact + 2 * 4
    assert emf["MaxRecordAge"][0] > 1_700_000_000_000  # now minus a 1970 timestamp
    assert "DecodeTime" in emf
    units = {m["Name"]: m["Unit"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units["DecodeTime"] == "Milliseconds"


def test_avro_values_and_json_keys_are_archived_decoded(consumer, s3, tmp_path):
    schema = {
        "type": "record",
        "name": "Payment",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "raw", "type": "bytes"},
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2},
            },
        ],
    }
    path = tmp_path / "payment.avsc"
    path.write_text(json.dumps(schema))
    buffer = io.BytesIO()
    fastavro.schemaless_writer(
        buffer, fastavro.parse_schema(schema), {"id": 9, "raw": b"\x01", "amount": Decimal("12.50")}
    )
    with LocalSchemaRegistry() as registry:
        schema_id = SchemaRegistryClient({"url": registry.url}).register_schema(
            "payments-value", Schema(json.dumps(schema), "AVRO")
        )
        framed = b"\x00" + struct.pack(">I", schema_id) + buffer.getvalue()
        pipeline = consumer(
            VALUE_FORMAT="confluent-avro",
            VALUE_SCHEMA=str(path),
            SCHEMA_REGISTRY_URL=registry.url,
            KEY_FORMAT="json",
        )
        raw = event(
            record(1, framed, key=b'{"customer": 4}'), record(2, b"\x01" + framed[1:], key=b"1")
        )
        assert failures(consume(pipeline, raw)) == {}
        (line,) = read_lines(s3, ARCHIVE, objects(s3, ARCHIVE)[0])
        assert line["key"] == {"customer": 4}
        assert line["value"] == {"id": 9, "raw": "AQ==", "amount": "12.50"}
        (poison,) = read_lines(s3, FAILURES, objects(s3, FAILURES)[0])
        assert poison["reason"].startswith("value has no Confluent wire-format prefix")


def test_the_fast_path_and_the_record_by_record_path_archive_the_same_lines(consumer, s3):
    """A clean partition is decoded in columns; one poison record sends it one by one."""
    rng = random.Random(3)
    texts = ["", "é", 'a"b', "\u2028", "🙂", "x" * 40]
    pipeline = consumer(VALUE_FORMAT="json")
    for _ in range(5):
        clean = [
            record(
                offset,
                json.dumps(
                    {rng.choice(texts): [rng.randint(-9, 9), rng.choice(texts), None]}
                ).encode(),
                partition=rng.randint(0, 3),
                key=None if rng.random() < 0.3 else rng.choice(texts).encode(),
                headers=[("h", [rng.randint(-128, 255)])] if rng.random() < 0.5 else [],
            )
            for offset in range(rng.randint(1, 30))
        ]
        consume(pipeline, event(*clean))
        fast = {key: read_lines(s3, ARCHIVE, key) for key in objects(s3, ARCHIVE)}
        for key in fast:
            s3.delete_object(Bucket=ARCHIVE, Key=key)
        poisoned = [*clean, *(record(10_000 + p, b"{bad", partition=p) for p in range(4))]
        consume(pipeline, event(*poisoned))
        one_by_one = {key: read_lines(s3, ARCHIVE, key) for key in objects(s3, ARCHIVE)}
        for key in one_by_one:
            s3.delete_object(Bucket=ARCHIVE, Key=key)
        assert one_by_one == fast
        assert sum(map(len, fast.values())) == len(clean)
