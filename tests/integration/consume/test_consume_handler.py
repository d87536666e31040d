"""functions/record_consumer/app.py as Lambda runs it: template environment, moto for AWS."""

import base64
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from msk_autopilot_local.local_lambda import InvokeError, invoke_function

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
SAMPLE = json.loads((ROOT / "events" / "msk_records.json").read_text())


ENV = {"ARCHIVE_BUCKET": "archive", "FAILURE_BUCKET": "failures", "VALUE_FORMAT": "json"}


def lines(s3, bucket):
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return keys, [
        json.loads(line)
        for key in keys
        for line in gzip.decompress(
            s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        ).splitlines()
    ]


def test_the_sample_event_is_archived_and_answered_with_a_partial_batch_response(aws):
    result = invoke_function("record_consumer", SAMPLE, env_overrides=ENV)
    assert result == {"batchItemFailures": []}
    keys, archived = lines(aws, "archive")
    assert keys == [
        "topic=orders/partition=0/date=2026-11-29/hour=10/"
        "00000000000000000015-00000000000000000017.jsonl.gz"
    ]
    assert [line["value"]["orderId"] for line in archived] == ["1001", "1002", "1003"]
    assert archived[1]["key"] is None
    assert archived[0]["headers"][0]["key"] == "traceparent"


def test_a_poison_record_is_quarantined_and_a_failing_archive_is_redelivered(aws):
    poisoned = json.loads(json.dumps(SAMPLE))
    poisoned["records"]["orders-0"][1]["value"] = base64.b64encode(b"{oops").decode()
    result = invoke_function("record_consumer", poisoned, env_overrides=ENV)
    assert result == {"batchItemFailures": []}
    _, quarantined = lines(aws, "failures")
    assert [(line["offset"], line["reason"][:16]) for line in quarantined] == [
        (16, "value is not JSO")
    ]

    missing_bucket = {**ENV, "ARCHIVE_BUCKET": "no-such-bucket"}
    result = invoke_function("record_consumer", SAMPLE, env_overrides=missing_bucket)
    assert result == {
        "batchItemFailures": [{"itemIdentifier": {"partition": "orders-0", "offset": 15}}]
    }


def test_non_kafka_events_are_rejected_not_raised(aws):
    result = invoke_function(
        "record_consumer", {"detail-type": "Scheduled Event"}, env_overrides=ENV
    )
    assert result["status"] == "rejected"


def test_settings_that_cannot_work_fail_the_cold_start(aws):
    with pytest.raises(InvokeError, match="EVENT_BUS_NAME is required when SINK=eventbridge"):
        invoke_function("record_consumer", SAMPLE, env_overrides={**ENV, "SINK": "eventbridge"})


def test_the_benchmark_script_runs(tmp_path):
    """A smoke run with a few records: the table is printed; the real run is `make bench`."""
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "consumer_bench.py"),
            "--records",
            "40",
            "--repetitions",
            "2",
            "--memory-records",
            "40",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "| ours: json + JSON Schema, SINK=discard |" in done.stdout
    assert "Peak RSS" in done.stdout
