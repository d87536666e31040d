"""The real record consumer behind the local event source mapping, against moto S3."""

import gzip
import io
import json
from pathlib import Path

from esm_kit import Sent, committed, create_topic, produce

from msk_autopilot_local.esm import PollerConfig, run_poller

ROOT = Path(__file__).resolve().parents[3]
CLUSTER_ARN = (
    "arn:aws:kafka:us-east-1:123456789012:cluster/orders/5c9a6e0a-1c2d-4f7e-9a31-2b8f0d4e6a11-2"
)


def archived_lines(s3, bucket: str) -> list[dict]:
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return [
        json.loads(line)
        for key in keys
        for line in gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        .decode()
        .splitlines()
    ]


def test_record_consumer_archives_every_record_and_quarantines_poison(kafka, aws, monkeypatch):
    monkeypatch.chdir(ROOT)
    s3 = aws["s3"]
    for bucket in ("archive", "failures"):
        s3.create_bucket(Bucket=bucket)
    topic = create_topic(kafka.bootstrap_servers, partitions=2)
    records = [
        Sent(
            topic,
            i % 2,
            None if i % 10 == 0 else f"order-{i}".encode(),
            b"{oops" if i == 77 else json.dumps({"orderId": str(i), "amount": i}).encode(),
            [("traceparent", b"00-%032x-%016x-01" % (i, i))],
        )
        for i in range(250)
    ]
    produce(kafka.bootstrap_servers, records)
    config = PollerConfig(
        bootstrap_servers=kafka.bootstrap_servers,
        topics=(topic,),
        function="record_consumer",
        template=ROOT / "template.yaml",
        env_vars={
            "ARCHIVE_BUCKET": "archive",
            "FAILURE_BUCKET": "failures",
            "VALUE_FORMAT": "json",
        },
        group_id="record-consumer",
        cluster_arn=CLUSTER_ARN,
        batch_size=100,
        batching_window=0.2,
        until_idle=1.5,
        on_failure="s3://esm-failures",
        kafka_config={"session.timeout.ms": 6000},
    )
    summary = run_poller(config, status_stream=io.StringIO())

    assert summary.exit_code == 0, summary.error
    assert summary.records_succeeded == 250
    assert summary.records_to_destination == 0
    assert committed(kafka.bootstrap_servers, "record-consumer", topic, 2) == {0: 125, 1: 125}
    archived = archived_lines(s3, "archive")
    assert sorted(line["value"]["orderId"] for line in archived) == sorted(
        str(i) for i in range(250) if i != 77
    )
    quarantined = archived_lines(s3, "failures")
    assert [line["offset"] for line in quarantined] == [38]  # record 77: partition 1, offset 38
