"""Cluster health metrics as MSK publishes them, from a profile per cluster and broker; MSK's
own maintenance; ActiveOperationArn and CustomerActionStatus."""

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from msk_autopilot_local.emulator import control, seed_fleet

BROKER_METRICS = [
    "CpuUser",
    "CpuSystem",
    "UnderReplicatedPartitions",
    "UnderMinIsrPartitionCount",
    "PartitionCount",
    "HeapMemoryAfterGC",
    "BytesInPerSec",
    "BytesOutPerSec",
    "ConnectionCount",
    "ProduceThrottleTime",
    "FetchThrottleTime",
]


def series(cloudwatch, clock, name, metric, *, broker=None, stat="Maximum", minutes=15):
    """One value per minute of the last `minutes`, oldest first."""
    dimensions = [{"Name": "Cluster Name", "Value": name}]
    if broker is not None:
        dimensions.append({"Name": "Broker ID", "Value": str(broker)})
    now = clock.now()
    response = cloudwatch.get_metric_data(
        StartTime=now - timedelta(minutes=minutes),
        EndTime=now + timedelta(seconds=1),
        ScanBy="TimestampAscending",
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/Kafka", "MetricName": metric,
                               "Dimensions": dimensions},
                    "Period": 60,
                    "Stat": stat,
                },
            }
        ],
    )  # fmt: skip
    return response["MetricDataResults"][0]["Values"]


def ready(kit, msk_emulator, name="orders", **overrides):
    arn = kit.create(name, **overrides)
    msk_emulator.complete_operations()
    return arn


def test_a_profile_publishes_the_last_15_minutes_per_broker_with_msk_dimensions(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    cloudwatch = kit.client("cloudwatch")

    msk_emulator.set_cluster_health(arn)

    for broker in (1, 2, 3):
        assert (
            series(cloudwatch, msk_emulator.clock, "orders", "CpuUser", broker=broker)
            == [15.0] * 15
        )
        assert series(cloudwatch, msk_emulator.clock, "orders", "PartitionCount", broker=broker)
    assert set(series(cloudwatch, msk_emulator.clock, "orders", "OfflinePartitionsCount")) == {0}
    controllers = series(
        cloudwatch, msk_emulator.clock, "orders", "ActiveControllerCount", stat="Sum"
    )
    assert controllers == [1.0] * 15
    # A Standard cluster publishes no Express throttling; all broker metrics carry both names.
    published = cloudwatch.list_metrics(Namespace="AWS/Kafka")["Metrics"]
    names = {metric["MetricName"] for metric in published}
    assert names == set(BROKER_METRICS) - {"ProduceThrottleTime", "FetchThrottleTime"} | {
        "OfflinePartitionsCount",
        "ActiveControllerCount",
    }
    for metric in published:
        keys = [d["Name"] for d in metric["Dimensions"]]
        cluster_level = metric["MetricName"] in ("OfflinePartitionsCount", "ActiveControllerCount")
        assert keys == (["Cluster Name"] if cluster_level else ["Cluster Name", "Broker ID"])


def test_express_brokers_publish_throttling_and_not_what_express_lacks(kit, msk_emulator):
    arn = kit.kafka.create_cluster_v2(
        ClusterName="fast",
        Provisioned={
            "BrokerNodeGroupInfo": {
                "ClientSubnets": ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"],
                "InstanceType": "express.m7g.large",
            },
            "KafkaVersion": "3.8.x",
            "NumberOfBrokerNodes": 3,
        },
    )["ClusterArn"]
    msk_emulator.complete_operations()
    cloudwatch = kit.client("cloudwatch")

    msk_emulator.set_cluster_health(arn, produce_throttle_time=12)

    names = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="AWS/Kafka")["Metrics"]}
    assert {"ProduceThrottleTime", "FetchThrottleTime", "ActiveControllerCount"} <= names
    assert not names & {"UnderReplicatedPartitions", "OfflinePartitionsCount", "HeapMemoryAfterGC"}
    assert series(cloudwatch, msk_emulator.clock, "fast", "ProduceThrottleTime", broker=2)[-1] == 12


def test_a_change_for_one_broker_replaces_the_window_of_that_broker_only(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    cloudwatch = kit.client("cloudwatch")
    msk_emulator.set_cluster_health(arn)

    health = msk_emulator.set_cluster_health(arn, broker=2, under_replicated_partitions=4)
    msk_emulator.set_cluster_health(arn, active_controllers=0)

    assert health.brokers == {2: {"underReplicatedPartitions": 4.0}}
    urp = "UnderReplicatedPartitions"
    assert series(cloudwatch, msk_emulator.clock, "orders", urp, broker=2) == [4.0] * 15
    assert series(cloudwatch, msk_emulator.clock, "orders", urp, broker=1) == [0.0] * 15
    controllers = series(
        cloudwatch, msk_emulator.clock, "orders", "ActiveControllerCount", stat="Sum"
    )
    assert controllers == [0.0] * 15  # replaced, not added to


def test_clock_advances_publish_the_last_hour_by_minute_and_before_it_by_hour(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    cloudwatch = kit.client("cloudwatch")
    msk_emulator.set_cluster_health(arn, cpu_user=42)

    msk_emulator.clock.advance(10 * 60)
    recent = series(cloudwatch, msk_emulator.clock, "orders", "CpuUser", broker=1, minutes=25)
    msk_emulator.clock.advance(3 * 3600)
    later = series(cloudwatch, msk_emulator.clock, "orders", "CpuUser", broker=1, minutes=180)

    assert recent == [42.0] * 25
    assert later == [42.0] * (2 + 60)  # two hourly points, then the last hour's minutes


def test_no_profile_no_metrics_and_a_deleted_cluster_stops_publishing(kit, msk_emulator):
    quiet = ready(kit, msk_emulator, "quiet")
    loud = ready(kit, msk_emulator, "loud")
    cloudwatch = kit.client("cloudwatch")
    msk_emulator.set_cluster_health(loud)

    kit.kafka.delete_cluster(ClusterArn=loud)
    msk_emulator.clock.advance(600)

    assert series(cloudwatch, msk_emulator.clock, "quiet", "CpuUser", broker=1) == []
    assert len(series(cloudwatch, msk_emulator.clock, "loud", "CpuUser", broker=1)) == 5
    assert kit.kafka.describe_cluster_v2(ClusterArn=quiet)["ClusterInfo"]["State"] == "ACTIVE"


def test_bad_profiles_are_refused_with_what_is_wrong(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    serverless = kit.kafka.create_cluster_v2(
        ClusterName="events",
        Serverless={
            "VpcConfigs": [{"SubnetIds": ["subnet-0aaa", "subnet-0bbb"]}],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    )["ClusterArn"]

    with pytest.raises(ValueError, match="Unknown health values: cpu"):
        msk_emulator.set_cluster_health(arn, cpu=3)
    with pytest.raises(ValueError, match="no broker 7"):
        msk_emulator.set_cluster_health(arn, broker=7, cpu_user=3)
    with pytest.raises(ValueError, match="offlinePartitions"):
        msk_emulator.set_cluster_health(arn, broker=1, offline_partitions=3)
    with pytest.raises(ValueError, match=">= 0"):
        msk_emulator.set_cluster_health(arn, cpu_user=-1)
    with pytest.raises(ValueError, match="Serverless"):
        msk_emulator.set_cluster_health(serverless)


def test_a_fleet_file_makes_a_cluster_unhealthy_and_checks_its_health_key(kit, msk_emulator):
    spec = {
        "clusters": [
            {"name": "hot", "health": {"cpuUser": 75, "brokers": {"3": {"partitionCount": 1490}}}}
        ]
    }
    seed_fleet({"kafka": kit.kafka}, spec)
    cloudwatch = kit.client("cloudwatch")

    assert series(cloudwatch, msk_emulator.clock, "hot", "CpuUser", broker=1)[-1] == 75
    assert series(cloudwatch, msk_emulator.clock, "hot", "PartitionCount", broker=3)[-1] == 1490
    assert series(cloudwatch, msk_emulator.clock, "hot", "PartitionCount", broker=2)[-1] == 100
    for health, message in [
        ({"cpu": 1}, "unknown field `cpu`"),
        ({"brokers": {"9": {"cpuUser": 1}}}, "no broker 9"),
        ({"heapMemoryAfterGc": "high"}, "Expected `float`"),
    ]:
        bad = {"clusters": [{"name": "bad", "health": health}]}
        with pytest.raises(ValueError, match=message):
            seed_fleet({"kafka": kit.kafka}, bad)


@pytest.mark.parametrize(
    ("instance_type", "state", "operation_type"),
    [
        ("kafka.m5.large", "MAINTENANCE", "SECURITY_PATCHING"),
        ("express.m7g.large", "ACTIVE", "BROKER_UPDATE"),
    ],
)
def test_msk_maintenance_runs_on_the_clock_and_ends(
    kit, msk_emulator, instance_type, state, operation_type
):
    group = {"ClientSubnets": ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]}
    group["InstanceType"] = instance_type
    if instance_type.startswith("kafka."):
        group["StorageInfo"] = {"EbsStorageInfo": {"VolumeSize": 100}}
    arn = kit.kafka.create_cluster_v2(
        ClusterName="patched",
        Provisioned={"BrokerNodeGroupInfo": group, "KafkaVersion": "3.8.x",
                     "NumberOfBrokerNodes": 3},
    )["ClusterArn"]  # fmt: skip
    msk_emulator.complete_operations()

    operation_arn = msk_emulator.start_maintenance(arn, seconds=1800)

    info = kit.info(arn)
    assert (info["State"], info["ActiveOperationArn"]) == (state, operation_arn)
    listed = kit.kafka.list_clusters_v2()["ClusterInfoList"][0]
    assert listed["ActiveOperationArn"] == operation_arn
    operation = kit.operation(operation_arn)
    assert (operation["OperationType"], operation["OperationState"]) == (
        operation_type,
        "UPDATE_IN_PROGRESS",
    )
    msk_emulator.clock.advance(1799)
    assert kit.info(arn)["State"] == state
    msk_emulator.clock.advance(1)
    info = kit.info(arn)
    assert info["State"] == "ACTIVE"
    assert "ActiveOperationArn" not in info
    assert kit.operation(operation_arn)["OperationState"] == "UPDATE_COMPLETE"


def test_updates_during_standard_maintenance_are_refused(kit, msk_emulator, expect_error):
    arn = ready(kit, msk_emulator)
    msk_emulator.start_maintenance(arn)

    error = expect_error(
        kit.kafka.update_broker_storage,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "ALL", "VolumeSizeGB": 200}],
    )

    assert error["code"] == "BadRequestException"
    assert "MAINTENANCE" in error["message"]
    with pytest.raises(ValueError, match="not ACTIVE"):
        msk_emulator.start_maintenance(arn)


def test_customer_action_status_is_none_until_set(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    assert kit.info(arn)["Provisioned"]["CustomerActionStatus"] == "NONE"

    msk_emulator.set_customer_action_status(arn, "CRITICAL_ACTION_REQUIRED")

    assert kit.info(arn)["Provisioned"]["CustomerActionStatus"] == "CRITICAL_ACTION_REQUIRED"
    listed = kit.kafka.list_clusters_v2()["ClusterInfoList"][0]
    assert listed["Provisioned"]["CustomerActionStatus"] == "CRITICAL_ACTION_REQUIRED"
    with pytest.raises(ValueError, match="one of NONE"):
        msk_emulator.set_customer_action_status(arn, "PANIC")


def test_the_control_endpoints_set_health_start_maintenance_and_customer_action(http_kit):
    arn = http_kit.create("orders")
    http_kit.control("POST", "/operations/complete")
    cloudwatch = http_kit.client("cloudwatch")
    health = http_kit.control(
        "POST", "/clusters/health", {"clusterArn": arn, "broker": 1, "cpuUser": 88}
    )
    maintenance = http_kit.control("POST", "/clusters/maintenance", {"clusterArn": arn})
    status = http_kit.control(
        "POST",
        "/clusters/customer-action-status",
        {"clusterArn": arn, "status": "ACTION_RECOMMENDED"},
    )
    bad = http_kit.control("POST", "/clusters/health", {"clusterArn": arn, "cpuUsr": 1})

    assert health.status_code == 200
    assert health.json()["health"]["brokers"] == {"1": {"cpuUser": 88.0}}
    assert series(cloudwatch, control.clock, "orders", "CpuUser", broker=1)[-1] == 88
    info = http_kit.info(arn)
    assert info["ActiveOperationArn"] == maintenance.json()["clusterOperationArn"]
    assert info["State"] == "MAINTENANCE"
    assert status.status_code == 200
    assert info["Provisioned"]["CustomerActionStatus"] == "ACTION_RECOMMENDED"
    assert bad.status_code == 400
    assert "cpuUsr" in bad.json()["message"]
    with pytest.raises(ClientError):
        http_kit.grow_storage(arn, 200)
