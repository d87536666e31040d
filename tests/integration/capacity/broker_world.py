"""The broker scaler's test world: fleet-file clusters, events, and what MSK was asked."""

from typing import Any

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
