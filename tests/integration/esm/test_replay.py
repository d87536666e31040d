"""`msk-autopilot replay` on the real local broker: records produced, consumed by the record
consumer through the local event source, archived to (moto) S3, replayed into a new topic and
read back byte for byte; resume after an interruption, dry runs, and each error."""

import gzip
import io
import json
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from esm_kit import QUIET, Sent, create_topic, produce

from msk_autopilot_local.cli import main
from msk_autopilot_local.esm import PollerConfig, run_poller

ROOT = Path(__file__).resolve().parents[3]
# Explicit record timestamps a minute apart, from two hours ago (older ones the broker's
# retention would delete), on a whole hour.
BASE_MS = (int(time.time()) // 3600 - 2) * 3_600_000


def iso(epoch_ms: int, suffix: str = "") -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S") + suffix


def originals(topic: str) -> list[Sent]:
    """Keys (every 7th null), one or two binary headers, explicit timestamps, two partitions."""
    return [
        Sent(
            topic,
            i % 2,
            None if i % 7 == 0 else f"order-{i}".encode(),
            json.dumps({"orderId": i, "note": "ü" * (i % 3)}).encode(),
            [("traceparent", b"00-%032x-01" % i)]
            + ([("bin", bytes([0, 255, i]))] if i % 2 else []),
            timestamp=BASE_MS + i * 60_000,
        )
        for i in range(40)
    ]


def consume_into_archive(bootstrap: str, topic: str, value_format: str) -> None:
    config = PollerConfig(
        bootstrap_servers=bootstrap,
        topics=(topic,),
        function="record_consumer",
        template=ROOT / "template.yaml",
        env_vars={
            "ARCHIVE_BUCKET": "archive",
            "FAILURE_BUCKET": "failures",
            "VALUE_FORMAT": value_format,
        },
        group_id=f"archiver-{topic}",
        batch_size=15,  # several objects per partition
        batching_window=0.2,
        until_idle=1.5,
        kafka_config={"session.timeout.ms": 6000},
    )
    summary = run_poller(config, status_stream=io.StringIO())
    assert summary.exit_code == 0, summary.error


def read_all(bootstrap: str, topic: str) -> list[tuple]:
    """(partition, key, value, headers, timestamp) of every record of `topic`."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"read-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
            **QUIET,
        }
    )
    consumer.subscribe([topic])
    got = []
    try:
        idle = 0
        while idle < 6:
            batch = [m for m in consumer.consume(100, timeout=0.5) if m.error() is None]
            idle = 0 if batch else idle + 1
            got += [
                (m.partition(), m.key(), m.value(), m.headers() or [], m.timestamp()[1])
                for m in batch
            ]
    finally:
        consumer.close()
    return got


def as_read(sent: list[Sent]) -> list[tuple]:
    return [(s.partition, s.key, s.value, s.headers, s.timestamp) for s in sent]


@pytest.fixture
def archived(kafka, aws, monkeypatch, tmp_path):
    """40 records consumed through the event source into the archive bucket (raw values)."""
    monkeypatch.chdir(ROOT)
    for bucket in ("archive", "failures"):
        aws["s3"].create_bucket(Bucket=bucket)
    source = create_topic(kafka.bootstrap_servers, partitions=2)
    sent = produce(kafka.bootstrap_servers, originals(source))
    consume_into_archive(kafka.bootstrap_servers, source, "raw")
    return source, sent


def replay(kafka, tmp_path, *options: str) -> int:
    return main(
        [
            "replay",
            "--bucket",
            "archive",
            "-b",
            kafka.bootstrap_servers,
            "--checkpoint",
            str(tmp_path / "checkpoint.json"),
            *options,
        ]
    )


def test_replayed_records_equal_the_originals_byte_for_byte(kafka, archived, tmp_path, capsys):
    _, sent = archived
    target = create_topic(kafka.bootstrap_servers, partitions=2)

    assert replay(kafka, tmp_path, "--topic", target) == 0

    out = capsys.readouterr().out
    assert f"sent 40 records to {target}" in out
    replayed = read_all(kafka.bootstrap_servers, target)
    assert sorted(replayed, key=repr) == sorted(as_read(sent), key=repr)
    # each target partition holds its source partition's records in their order
    for partition in (0, 1):
        in_order = [record[2] for record in replayed if record[0] == partition]
        assert in_order == [s.value for s in sent if s.partition == partition]


def test_a_second_run_sends_nothing_and_an_interrupted_one_resumes(
    kafka, archived, tmp_path, capsys
):
    source, sent = archived
    target = create_topic(kafka.bootstrap_servers, partitions=2)

    assert replay(kafka, tmp_path, "--topic", target, "--max-records", "13") == 0
    assert "stopped at --max-records 13" in capsys.readouterr().out
    assert len(read_all(kafka.bootstrap_servers, target)) == 13
    assert replay(kafka, tmp_path, "--topic", target) == 0
    assert "sent 27 records" in capsys.readouterr().out
    assert replay(kafka, tmp_path, "--topic", target) == 0
    assert f"sent 0 records to {target}, 40 sent before (checkpoint)" in capsys.readouterr().out

    replayed = read_all(kafka.bootstrap_servers, target)
    assert sorted(replayed, key=repr) == sorted(
        as_read(sent), key=repr
    )  # no duplicate, none missing
    checkpoint = json.loads((tmp_path / "checkpoint.json").read_text())
    assert checkpoint["sent"] == {f"{source}-0": [[0, 19]], f"{source}-1": [[0, 19]]}


def test_filters_select_by_partition_offsets_and_time(kafka, archived, tmp_path, capsys):
    source, sent = archived
    target = create_topic(kafka.bootstrap_servers, partitions=2)
    since = iso(BASE_MS + 10 * 60_000)  # record 10 on (no offset: UTC)
    until = iso(BASE_MS + 30 * 60_000, "+00:00")  # before record 30

    code = replay(
        kafka,
        tmp_path,
        "--topic",
        target,
        "--source-topic",
        source,
        "--partition",
        "1",
        "--from-offset",
        "3",
        "--to-offset",
        "12",
        "--since",
        since,
        "--until",
        until,
    )

    assert code == 0
    # partition 1 holds the odd records: offset n is record 2n+1; offsets 5-12 are records 11-25,
    # within the time range
    wanted = [
        s
        for s in sent
        if s.partition == 1
        and 3 <= s.offset <= 12
        and 10 <= int(json.loads(s.value)["orderId"]) < 30
    ]
    assert [s.offset for s in wanted] == list(range(5, 13))
    assert sorted(read_all(kafka.bootstrap_servers, target), key=repr) == sorted(
        as_read(wanted), key=repr
    )


def test_a_dry_run_counts_per_source_partition_and_sends_nothing(kafka, archived, tmp_path, capsys):
    source, _ = archived

    code = replay(
        kafka, tmp_path, "--topic", "no-such-topic-yet", "--dry-run", "--from-offset", "15"
    )

    assert code == 0
    out = capsys.readouterr().out
    assert re.search(rf"^{source}-0 +5$", out, re.M)  # offsets 15-19 of each partition
    assert re.search(rf"^{source}-1 +5$", out, re.M)
    assert "would send 10 records to no-such-topic-yet" in out
    assert not (tmp_path / "checkpoint.json").exists()


def test_create_topic_makes_the_missing_target_with_the_source_partitions(
    kafka, archived, tmp_path
):
    _, sent = archived
    target = f"replayed-{id(sent)}"

    assert replay(kafka, tmp_path, "--topic", target, "--create-topic") == 0
    assert sorted(read_all(kafka.bootstrap_servers, target), key=repr) == sorted(
        as_read(sent), key=repr
    )


def test_quarantined_records_are_replayed_as_delivered(kafka, aws, monkeypatch, tmp_path, capsys):
    """JSON values: the poison goes to quarantine; archive (--value-format json) and quarantine
    replayed together give back every original."""
    monkeypatch.chdir(ROOT)
    for bucket in ("archive", "failures"):
        aws["s3"].create_bucket(Bucket=bucket)
    source = create_topic(kafka.bootstrap_servers, partitions=2)
    records = originals(source)
    records[9] = Sent(source, 1, b"bad", b"{oops", [("h", b"\x00\x01")], timestamp=BASE_MS)
    sent = produce(kafka.bootstrap_servers, records)
    consume_into_archive(kafka.bootstrap_servers, source, "json")
    target = create_topic(kafka.bootstrap_servers, partitions=2)

    assert replay(kafka, tmp_path, "--topic", target, "--value-format", "json") == 0
    assert (
        main(
            [
                "replay",
                "--bucket",
                "failures",
                "--prefix",
                "quarantine/",
                "--topic",
                target,
                "-b",
                kafka.bootstrap_servers,
                "--checkpoint",
                str(tmp_path / "quarantine.json"),
            ]
        )
        == 0
    )

    assert "sent 1 records" in capsys.readouterr().out
    assert sorted(read_all(kafka.bootstrap_servers, target), key=repr) == sorted(
        as_read(sent), key=repr
    )


def test_errors_are_one_line_and_exit_2(kafka, aws, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    aws["s3"].create_bucket(Bucket="archive")

    assert main(["replay", "--bucket", "no-such-bucket", "--topic", "t"]) == 2
    assert (
        capsys.readouterr().err == "error: bucket 'no-such-bucket' does not exist: check --bucket\n"
    )

    assert main(["replay", "--bucket", "archive", "--prefix", "quarantine/", "--topic", "t"]) == 2
    assert (
        "error: no archived or quarantined records under s3://archive/quarantine/"
        in capsys.readouterr().err
    )

    aws["s3"].put_object(
        Bucket="archive",
        Key=f"topic=orders/partition=0/date=2025-11-24/hour=16/{0:020d}-{0:020d}.jsonl.gz",
        Body=gzip.compress(
            b'{"topic":"orders","partition":0,"offset":0,"timestamp":1,"timestampType":"CREATE_TIME","key":null,"value":"AA==","headers":[]}\n'
        ),
    )
    assert (
        main(["replay", "--bucket", "archive", "--topic", "missing", "-b", kafka.bootstrap_servers])
        == 2
    )
    err = capsys.readouterr().err
    assert err == (
        f"error: topic 'missing' does not exist on {kafka.bootstrap_servers}: create it, or pass "
        "--create-topic\n"
    )

    closed = "127.0.0.1:1"
    assert (
        main(
            ["replay", "--bucket", "archive", "--topic", "t", "-b", closed, "--broker-timeout", "1"]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot reach Kafka at {closed} within 1 s: ")
    assert err.count("\n") == 1


def test_unreadable_lines_are_named_and_the_rest_still_counted(aws, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    aws["s3"].create_bucket(Bucket="archive")
    good = (
        b'{"topic":"orders","partition":0,"offset":%d,"timestamp":1,"timestampType":"CREATE_TIME",'
        b'"key":null,"value":"AA==","headers":[]}'
    )
    aws["s3"].put_object(
        Bucket="archive",
        Key=f"topic=orders/partition=0/date=unknown/hour=unknown/{0:020d}-{2:020d}.jsonl.gz",
        Body=gzip.compress(b"\n".join([good % 0, b"{not json", good % 2])),
    )

    assert main(["replay", "--bucket", "archive", "--topic", "t", "--dry-run"]) == 1

    captured = capsys.readouterr()
    assert "would send 2 records to t" in captured.out
    assert (
        f"unreadable: topic=orders/partition=0/date=unknown/hour=unknown/{0:020d}-" in captured.err
    )
    assert ": line 2: " in captured.err
