"""The emulator's indexed GetMetricData answers exactly as moto's scan does, only faster."""

import random
from datetime import UTC, datetime, timedelta

import boto3
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends

ACCOUNT, REGION = "123456789012", "us-east-1"
NAMES = ("CpuUser", "CpuSystem")


def moto_scan():
    """moto's own get_metric_data, which the emulator's keeps for everything it does not serve."""
    fast = CloudWatchBackend.get_metric_data
    assert getattr(fast, "_msk_emulator_indexed", False)
    return next(
        cell.cell_contents
        for cell in fast.__closure__ or ()
        if callable(cell.cell_contents) and cell.cell_contents is not fast
    )


def dimensions(broker: str) -> list[dict[str, str]]:
    return [{"Name": "Cluster Name", "Value": "orders"}, {"Name": "Broker ID", "Value": broker}]


def test_indexed_answers_equal_moto_scan_over_random_data_and_queries(msk_emulator, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    rng = random.Random(7)
    now = datetime.now(UTC).replace(microsecond=0)
    for _ in range(4):  # in several calls, out of time order, some without a timestamp
        data = []
        for _ in range(100):
            datum = {
                "MetricName": rng.choice(NAMES),
                "Dimensions": dimensions(str(rng.randint(1, 3))),
                "Value": float(rng.randint(0, 100)),
            }
            if rng.random() > 0.1:
                datum["Timestamp"] = now - timedelta(seconds=rng.randint(0, 3600))
            data.append(datum)
        cloudwatch.put_metric_data(Namespace="AWS/Kafka", MetricData=data)
    backend = cloudwatch_backends[ACCOUNT][REGION]
    scan = moto_scan()
    for _ in range(150):
        stat = rng.choice(["Maximum", "Minimum", "Average", "Sum", "SampleCount", "p90"])
        queries = [
            {
                "Id": "broker",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Kafka",
                        "MetricName": rng.choice(NAMES),
                        "Dimensions": dimensions(str(rng.randint(1, 4))),
                    },
                    "Period": rng.choice([60, 300]),
                    "Stat": stat,
                },
                "ReturnData": rng.random() < 0.9,
            },
            {  # no dimensions: moto reads every metric of the name
                "Id": "every",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/Kafka", "MetricName": "CpuUser"},
                    "Period": 60,
                    "Stat": "Maximum",
                },
            },
        ]
        start = (now - timedelta(seconds=rng.randint(60, 4000))).replace(tzinfo=None)
        end = start + timedelta(seconds=rng.randint(61, 4000))
        order = rng.choice(["TimestampAscending", "TimestampDescending"])
        assert backend.get_metric_data(queries, start, end, order) == scan(
            backend, queries, start, end, order
        )
