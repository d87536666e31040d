"""Per-broker CPU and throughput over days (set_broker_load, hourly history across clock jumps)
and the metrics Express clusters publish."""

from datetime import timedelta

import pytest

HOURS_14_DAYS = 14 * 24


def ready(kit, msk_emulator, name="orders", **overrides):
    arn = kit.create(name, **overrides)
    msk_emulator.complete_operations()
    # Reads ask for the same window the writes filled, however long the machine takes between.
    msk_emulator.clock.freeze()
    return arn


def hourly(cloudwatch, clock, metric, *, broker, days=14, cluster="orders", stat="Average"):
    """GetMetricData with Period 3600 over the last `days`: the broker policy's reading."""
    now = clock.now()
    response = cloudwatch.get_metric_data(
        StartTime=now - timedelta(days=days),
        EndTime=now,
        ScanBy="TimestampAscending",
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Kafka",
                        "MetricName": metric,
                        "Dimensions": [
                            {"Name": "Cluster Name", "Value": cluster},
                            {"Name": "Broker ID", "Value": str(broker)},
                        ],
                    },
                    "Period": 3600,
                    "Stat": stat,
                },
            }
        ],
    )
    return response["MetricDataResults"][0]["Values"]


def test_fourteen_days_of_hourly_load_per_broker(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    cloudwatch = kit.client("cloudwatch")
    ramp = [float(hour % 100) for hour in range(HOURS_14_DAYS)]

    written = msk_emulator.set_broker_load(
        arn, cpu_user=ramp, cpu_system=5, bytes_in=2_000_000, bytes_out=4_000_000
    )
    msk_emulator.set_broker_load(arn, broker=2, cpu_user=80)

    assert written == 3 * 4 * HOURS_14_DAYS
    user = hourly(cloudwatch, msk_emulator.clock, "CpuUser", broker=1)
    assert len(user) == HOURS_14_DAYS
    assert user == ramp
    assert hourly(cloudwatch, msk_emulator.clock, "CpuUser", broker=2) == [80.0] * HOURS_14_DAYS
    assert set(hourly(cloudwatch, msk_emulator.clock, "BytesInPerSec", broker=3)) == {2e6}
    health = msk_emulator.set_cluster_health(arn)
    assert (health.cpu_user, health.brokers[2]["cpuUser"]) == (ramp[-1], 80)


def test_the_clock_jumping_days_leaves_hourly_points_behind(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    cloudwatch = kit.client("cloudwatch")
    msk_emulator.set_cluster_health(arn, cpu_user=75)

    msk_emulator.clock.advance(3 * 24 * 3600)
    msk_emulator.tick()

    values = hourly(cloudwatch, msk_emulator.clock, "CpuUser", broker=1, days=3)
    assert len(values) == 3 * 24
    assert set(values) == {75.0}


def test_load_refusals(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    with pytest.raises(ValueError, match="Express"):
        msk_emulator.set_broker_load(arn, produce_throttle_ms=5)
    with pytest.raises(ValueError, match="one per step"):
        msk_emulator.set_broker_load(arn, since=timedelta(hours=3), cpu_user=[1, 2])
    with pytest.raises(ValueError, match="no broker 7"):
        msk_emulator.set_broker_load(arn, broker=7, cpu_user=1)
    with pytest.raises(ValueError, match="Load values"):
        msk_emulator.set_broker_load(arn, cpu=1)


def test_express_publishes_throttling_and_storage_used_not_disk_metrics(kit, msk_emulator):
    request = kit.provisioned(InstanceType="express.m7g.large")
    del request["BrokerNodeGroupInfo"]["StorageInfo"]
    arn = kit.kafka.create_cluster_v2(ClusterName="fast", Provisioned=request)["ClusterArn"]
    msk_emulator.complete_operations()
    kit.kafka.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=4, ReplicationFactor=3)
    msk_emulator.set_partition_bytes(arn, "t", 1_000_000)
    cloudwatch = kit.client("cloudwatch")

    msk_emulator.set_broker_load(arn, since=timedelta(days=2), produce_throttle_ms=3, bytes_in=9)

    names = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="AWS/Kafka")["Metrics"]}
    assert {"ProduceThrottleTime", "FetchThrottleTime", "StorageUsed"} <= names
    assert not names & {
        "UnderReplicatedPartitions",
        "OfflinePartitionsCount",
        "HeapMemoryAfterGC",
        "KafkaDataLogsDiskUsed",
    }
    throttle = hourly(
        cloudwatch, msk_emulator.clock, "ProduceThrottleTime", broker=1, days=2, cluster="fast"
    )
    assert set(throttle) == {3.0}
    assert len(throttle) == 48
    now = msk_emulator.clock.now()
    stored = cloudwatch.get_metric_statistics(
        Namespace="AWS/Kafka",
        MetricName="StorageUsed",
        Dimensions=[{"Name": "Cluster Name", "Value": "fast"}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(seconds=1),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert {point["Maximum"] for point in stored} == {4_000_000.0}


def test_load_and_partition_bytes_over_http(http_kit):
    arn = http_kit.create()
    assert http_kit.control("POST", "/operations/complete").status_code == 200
    http_kit.kafka.create_topic(
        ClusterArn=arn, TopicName="t", PartitionCount=3, ReplicationFactor=3
    )

    loaded = http_kit.control(
        "POST", "/clusters/load", {"clusterArn": arn, "sinceHours": 24, "cpuUser": 65, "broker": 1}
    )
    sized = http_kit.control(
        "POST", "/topics/bytes", {"clusterArn": arn, "topic": "t", "bytesPerPartition": 10}
    )
    bad = http_kit.control("POST", "/clusters/load", {"clusterArn": arn, "cpu": 1})

    assert loaded.status_code == 200
    assert loaded.json() == {"points": 24}
    assert sized.status_code == 200
    assert bad.status_code == 400
    assert "cpu" in bad.json()["message"]


def test_replication_bytes_in_is_published_only_from_per_broker_monitoring(kit, msk_emulator):
    detailed = ready(kit, msk_emulator, "detailed", EnhancedMonitoring="PER_BROKER")
    plain = ready(kit, msk_emulator, "plain")
    cloudwatch = kit.client("cloudwatch")

    msk_emulator.set_broker_load(
        detailed, since=timedelta(days=1), bytes_in=1_000_000, replication_bytes_in=2_500_000
    )
    msk_emulator.set_cluster_health(plain)
    with pytest.raises(ValueError, match="PER_BROKER"):
        msk_emulator.set_broker_load(plain, replication_bytes_in=1)

    follower = hourly(
        cloudwatch,
        msk_emulator.clock,
        "ReplicationBytesInPerSec",
        broker=2,
        days=1,
        cluster="detailed",
    )
    assert follower == [2.5e6] * 24

    def published(cluster: str) -> set[str]:
        pages = cloudwatch.get_paginator("list_metrics").paginate(
            Namespace="AWS/Kafka", Dimensions=[{"Name": "Cluster Name", "Value": cluster}]
        )
        return {metric["MetricName"] for page in pages for metric in page["Metrics"]}

    assert "ReplicationBytesInPerSec" in published("detailed")
    assert "BytesInPerSec" in published("plain")
    assert "ReplicationBytesInPerSec" not in published("plain")
