"""A local account for the broker scaler: the MSK emulator, the app's resources, a fleet, and
hourly broker load written straight into the emulated CloudWatch."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from msk_autopilot_local.emulator import seed_fleet
from msk_autopilot_local.local_lambda import invoke_function

TAG = "msk-autopilot:managed"
SCALE_OUT_TAG = "msk-autopilot:broker-scale-out"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]
CAPACITY_CALLS = {"UPDATE_BROKER_TYPE", "UPDATE_BROKER_COUNT", "DECREASE_BROKER_COUNT"}


def spec(
    name: str,
    *,
    instance_type: str = "kafka.m7g.xlarge",
    brokers: int = 3,
    opted_in: bool = True,
    scale_out: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A fleet-file cluster: three zones, opted in unless told otherwise."""
    tags = {TAG: "true"} if opted_in else {}
    if scale_out:
        tags[SCALE_OUT_TAG] = "true"
    cluster: dict[str, Any] = {
        "name": name,
        "brokers": brokers,
        "instanceType": instance_type,
        "subnets": SUBNETS,
        "tags": tags,
        **extra,
    }
    if not instance_type.startswith("express."):
        cluster.setdefault("volumeSizeGiB", 1000)
    return cluster


@pytest.fixture
def fleet(aws) -> Callable[..., dict[str, str]]:
    def create(*clusters: dict[str, Any]) -> dict[str, str]:
        return seed_fleet(aws, {"clusters": list(clusters)}).clusters

    return create


@pytest.fixture
def hot(msk_emulator) -> Callable[..., None]:
    """Six busy hours: the policy's 2-of-3-hours rule holds."""

    def write(cluster_arn: str, **values: float) -> None:
        msk_emulator.set_broker_load(cluster_arn, since=timedelta(hours=6), **values)

    return write


@pytest.fixture
def quiet(msk_emulator) -> Callable[..., None]:
    """Fourteen days of low load: the default quiet period, every hour of it."""

    def write(cluster_arn: str, **values: float) -> None:
        load = {"cpu_user": 8.0, "cpu_system": 4.0, "bytes_in": 100_000.0, "bytes_out": 200_000.0}
        msk_emulator.set_broker_load(cluster_arn, since=timedelta(days=14), **{**load, **values})

    return write


@pytest.fixture
def invoke(aws) -> Callable[..., dict[str, Any]]:
    def run(event: dict[str, Any], **env: str) -> dict[str, Any]:
        result: dict[str, Any] = invoke_function("broker_scaler", event, env_overrides=env)
        return result

    return run


def scale_request(cluster_arn: str) -> dict[str, Any]:
    return {"action": "scale", "clusterArn": cluster_arn}


def capacity_operations(aws, cluster_arn: str) -> list[dict[str, Any]]:
    kafka = aws.client("kafka")
    operations = kafka.list_cluster_operations_v2(ClusterArn=cluster_arn)[
        "ClusterOperationInfoList"
    ]
    return [op for op in operations if op["OperationType"] in CAPACITY_CALLS]


def described(aws, cluster_arn: str) -> dict[str, Any]:
    info: dict[str, Any] = aws.client("kafka").describe_cluster_v2(ClusterArn=cluster_arn)[
        "ClusterInfo"
    ]
    return info


def load_alarm(cluster_arn: str, cluster_name: str, now, *, unit: str = "cpu") -> dict[str, Any]:
    """The state change to ALARM of the health monitor's `unit` alarm of broker 1, as the
    monitor names and describes it (msk_autopilot.health.alarms)."""
    from msk_autopilot.health.alarms import ALARMS, HEALTH_ALARM_MARKER  # noqa: PLC0415
    from msk_autopilot_local.emulator.events import (  # noqa: PLC0415
        alarm_state_change,
        metric_stat_entry,
    )

    (alarm,) = [candidate for candidate in ALARMS if candidate.id == unit]
    region, account = cluster_arn.split(":")[3:5]
    dimensions = {"Cluster Name": cluster_name, "Broker ID": "1"}
    return alarm_state_change(
        alarm_arn=f"arn:aws:cloudwatch:{region}:{account}:alarm:"
        f"msk-autopilot-health-{cluster_name}-broker-1-{unit}",
        state="ALARM",
        time=now,
        metrics=[
            metric_stat_entry(
                namespace="AWS/Kafka",
                metric_name=metric,
                dimensions=dimensions,
                period=alarm.period_seconds,
                statistic=alarm.statistic,
                query_id=f"m{index}",
            )
            for index, metric in enumerate(alarm.metrics, start=1)
        ],
        description=f"{HEALTH_ALARM_MARKER}: {unit} of broker 1 of {cluster_name} ({cluster_arn})",
    )
