"""AWS/Kafka broker metrics written into moto's CloudWatch and read back with GetMetricData."""

from datetime import UTC, datetime, timedelta

import pytest

from msk_autopilot_local.emulator import broker_dimensions, put_broker_metrics, put_linear_series

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def query(metric_id, cluster, broker, metric="KafkaDataLogsDiskUsed", period=60):
    return {
        "Id": metric_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Kafka",
                "MetricName": metric,
                "Dimensions": broker_dimensions(cluster, broker),
            },
            "Period": period,
            "Stat": "Maximum",
        },
    }


def test_put_broker_metrics_is_read_back_per_broker(kit):
    cloudwatch = kit.client("cloudwatch")
    put_broker_metrics(
        cloudwatch, "orders", 1, {"KafkaDataLogsDiskUsed": 71.5, "CpuUser": 12}, START
    )
    put_broker_metrics(cloudwatch, "orders", 2, {"KafkaDataLogsDiskUsed": 33.0}, START)
    put_broker_metrics(cloudwatch, "payments", 1, {"KafkaDataLogsDiskUsed": 99.0}, START)
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[
            query("b1", "orders", 1),
            query("b2", "orders", 2),
            query("cpu", "orders", 1, metric="CpuUser"),
        ],
        StartTime=START - timedelta(minutes=5),
        EndTime=START + timedelta(minutes=5),
    )["MetricDataResults"]
    values = {series["Id"]: series["Values"] for series in result}
    assert values == {"b1": [71.5], "b2": [33.0], "cpu": [12.0]}
    listed = cloudwatch.list_metrics(Namespace="AWS/Kafka", MetricName="KafkaDataLogsDiskUsed")
    dimensions = {
        tuple((d["Name"], d["Value"]) for d in metric["Dimensions"]) for metric in listed["Metrics"]
    }
    assert (("Cluster Name", "orders"), ("Broker ID", "2")) in dimensions


def test_disk_usage_series_rises_for_every_broker(kit):
    cloudwatch = kit.client("cloudwatch")
    written = put_linear_series(
        cloudwatch,
        "orders",
        broker_ids=[1, 2, 3],
        start=START,
        end=START + timedelta(hours=1),
        start_value=40.0,
        end_value=85.0,
        period_seconds=300,
    )
    assert written == 3 * 13
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[query(f"b{n}", "orders", n, period=300) for n in (1, 2, 3)],
        StartTime=START,
        EndTime=START + timedelta(hours=1, minutes=1),
        ScanBy="TimestampAscending",
    )["MetricDataResults"]
    for series in result:
        assert series["Values"][0] == pytest.approx(40.0)
        assert series["Values"][-1] == pytest.approx(85.0)
        assert series["Values"] == sorted(series["Values"])
        assert len(series["Values"]) == 13


def test_series_needs_a_positive_period(kit):
    with pytest.raises(ValueError, match="period_seconds"):
        put_linear_series(
            kit.client("cloudwatch"),
            "orders",
            broker_ids=[1],
            start=START,
            end=START,
            start_value=1,
            end_value=2,
            period_seconds=0,
        )
