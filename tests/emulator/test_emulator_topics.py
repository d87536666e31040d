"""The topic APIs: replicas placed on brokers rack-aware (zone = rack), leaders spread,
retention from the cluster's configuration, MSK's refusals, and PartitionCount agreeing with
the placed replicas."""

import base64
import json
from collections import Counter
from datetime import timedelta

import pytest

from msk_autopilot_local.emulator import seed_fleet

SUBNETS = ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]


def ready(kit, msk_emulator, name="orders", **overrides):
    arn = kit.create(name, **overrides)
    msk_emulator.complete_operations()
    return arn


def configs(values):
    return base64.b64encode(json.dumps(values).encode()).decode()


def partitions(kit, arn, topic, page=100):
    paginator = kit.kafka.get_paginator("describe_topic_partitions")
    pages = paginator.paginate(ClusterArn=arn, TopicName=topic, PaginationConfig={"PageSize": page})
    return [partition for response in pages for partition in response["Partitions"]]


def zones(kit, arn):
    nodes = kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    return {
        int(node["BrokerNodeInfo"]["BrokerId"]): node["BrokerNodeInfo"]["ClientSubnet"]
        for node in nodes
    }


def test_replicas_are_placed_one_per_zone_with_replicas_and_leaders_even(kit, msk_emulator):
    arn = ready(kit, msk_emulator, NumberOfBrokerNodes=6)
    created = kit.kafka.create_topic(
        ClusterArn=arn, TopicName="payments", PartitionCount=12, ReplicationFactor=3
    )
    assert created["TopicName"] == "payments"
    assert created["TopicArn"].startswith(arn.replace(":cluster/", ":topic/"))

    placed = partitions(kit, arn, "payments", page=5)  # three pages

    rack = zones(kit, arn)
    assert [p["Partition"] for p in placed] == list(range(12))
    for partition in placed:
        assert len({rack[broker] for broker in partition["Replicas"]}) == 3
        assert partition["Leader"] == partition["Replicas"][0]
        assert partition["Isr"] == partition["Replicas"]
    replicas = Counter(broker for p in placed for broker in p["Replicas"])
    assert replicas == dict.fromkeys(range(1, 7), 6)
    assert Counter(p["Leader"] for p in placed) == dict.fromkeys(range(1, 7), 2)


def test_list_and_describe_topics(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    kit.kafka.create_topic(
        ClusterArn=arn, TopicName="orders", PartitionCount=3, ReplicationFactor=3
    )
    kit.kafka.create_topic(
        ClusterArn=arn,
        TopicName="audit",
        PartitionCount=1,
        ReplicationFactor=2,
        Configs=configs({"retention.ms": "3600000", "cleanup.policy": "compact"}),
    )

    listed = kit.kafka.list_topics(ClusterArn=arn)["Topics"]
    assert [(t["TopicName"], t["PartitionCount"], t["ReplicationFactor"]) for t in listed] == [
        ("audit", 1, 2),
        ("orders", 3, 3),
    ]
    assert listed[1]["ReplicaIds"] == [1, 2, 3]
    assert listed[1]["OutOfSyncReplicaCount"] == 0
    assert [
        t["TopicName"]
        for t in kit.kafka.list_topics(ClusterArn=arn, TopicNameFilter="or")["Topics"]
    ] == ["orders"]
    orders = kit.kafka.describe_topic(ClusterArn=arn, TopicName="orders")
    assert orders["Status"] == "ACTIVE"
    assert json.loads(base64.b64decode(orders["Configs"])) == {"retention.ms": str(168 * 3600000)}
    audit = kit.kafka.describe_topic(ClusterArn=arn, TopicName="audit")
    assert json.loads(base64.b64decode(audit["Configs"])) == {
        "retention.ms": "3600000",
        "cleanup.policy": "compact",
    }


@pytest.mark.parametrize(
    ("properties", "retention_ms"),
    [("log.retention.hours=24\n", 24 * 3600000), ("log.retention.ms=5000\n", 5000)],
)
def test_default_retention_follows_the_cluster_configuration(
    kit, msk_emulator, properties, retention_ms
):
    configuration = kit.kafka.create_configuration(
        Name="short", ServerProperties=properties.encode(), KafkaVersions=["3.8.x"]
    )
    arn = ready(
        kit,
        msk_emulator,
        ConfigurationInfo={"Arn": configuration["Arn"], "Revision": 1},
    )
    kit.kafka.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=1, ReplicationFactor=1)
    described = kit.kafka.describe_topic(ClusterArn=arn, TopicName="t")
    assert json.loads(base64.b64decode(described["Configs"]))["retention.ms"] == str(retention_ms)


def test_update_topic_adds_partitions_and_replaces_configs(kit, msk_emulator, expect_error):
    arn = ready(kit, msk_emulator)
    kit.kafka.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=2, ReplicationFactor=2)
    kit.kafka.update_topic(
        ClusterArn=arn, TopicName="t", PartitionCount=6, Configs=configs({"retention.ms": "1"})
    )
    placed = partitions(kit, arn, "t")
    assert len(placed) == 6
    assert Counter(b for p in placed for b in p["Replicas"]) == {1: 4, 2: 4, 3: 4}
    described = kit.kafka.describe_topic(ClusterArn=arn, TopicName="t")
    assert json.loads(base64.b64decode(described["Configs"]))["retention.ms"] == "1"
    error = expect_error(kit.kafka.update_topic, ClusterArn=arn, TopicName="t", PartitionCount=6)
    assert (error["code"], error["parameter"]) == ("BadRequestException", "partitionCount")


def test_topic_refusals(kit, msk_emulator, expect_error):
    arn = ready(kit, msk_emulator)
    kit.kafka.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=1, ReplicationFactor=3)
    error = expect_error(
        kit.kafka.create_topic, ClusterArn=arn, TopicName="t", PartitionCount=1, ReplicationFactor=3
    )
    assert (error["code"], error["status"]) == ("TopicExistsException", 409)
    error = expect_error(
        kit.kafka.create_topic, ClusterArn=arn, TopicName="u", PartitionCount=1, ReplicationFactor=4
    )
    assert (error["code"], error["parameter"]) == ("BadRequestException", "replicationFactor")
    error = expect_error(
        kit.kafka.create_topic,
        ClusterArn=arn,
        TopicName="u",
        PartitionCount=1,
        ReplicationFactor=1,
        Configs="not base64 json",
    )
    assert error["parameter"] == "configs"
    error = expect_error(kit.kafka.describe_topic, ClusterArn=arn, TopicName="missing")
    assert (error["code"], error["status"]) == ("NotFoundException", 404)

    kit.kafka.delete_topic(ClusterArn=arn, TopicName="t")
    assert expect_error(kit.kafka.describe_topic, ClusterArn=arn, TopicName="t")["status"] == 404

    kit.kafka.update_broker_count(
        ClusterArn=arn, CurrentVersion=kit.version(arn), TargetNumberOfBrokerNodes=6
    )
    error = expect_error(kit.kafka.list_topics, ClusterArn=arn)
    assert "ACTIVE" in error["message"]


def test_no_topic_apis_before_kafka_3_6_or_on_serverless(kit, msk_emulator, expect_error):
    fleet = seed_fleet(
        {"kafka": kit.kafka},
        {
            "clusters": [
                {"name": "old", "kafkaVersion": "3.5.1"},
                {"name": "events", "serverless": True},
            ]
        },
    )
    error = expect_error(kit.kafka.list_topics, ClusterArn=fleet.clusters["old"])
    assert "3.6.0" in error["message"]
    error = expect_error(kit.kafka.list_topics, ClusterArn=fleet.clusters["events"])
    assert "serverless" in error["message"]


def test_express_topics_take_replication_factor_3(kit, msk_emulator, expect_error):
    request = kit.provisioned(InstanceType="express.m7g.large")
    del request["BrokerNodeGroupInfo"]["StorageInfo"]
    arn = kit.kafka.create_cluster_v2(ClusterName="fast", Provisioned=request)["ClusterArn"]
    msk_emulator.complete_operations()
    error = expect_error(
        kit.kafka.create_topic, ClusterArn=arn, TopicName="t", PartitionCount=1, ReplicationFactor=2
    )
    assert error["parameter"] == "replicationFactor"


def test_partition_count_metric_is_the_placed_replicas(kit, msk_emulator):
    arn = ready(kit, msk_emulator, NumberOfBrokerNodes=6)
    kit.kafka.create_topic(ClusterArn=arn, TopicName="a", PartitionCount=5, ReplicationFactor=3)
    kit.kafka.create_topic(ClusterArn=arn, TopicName="b", PartitionCount=1, ReplicationFactor=2)
    msk_emulator.set_cluster_health(arn)
    placed = Counter(
        broker
        for topic in ("a", "b")
        for partition in partitions(kit, arn, topic)
        for broker in partition["Replicas"]
    )

    cloudwatch = kit.client("cloudwatch")
    now = msk_emulator.clock.now()
    for broker in range(1, 7):
        values = cloudwatch.get_metric_statistics(
            Namespace="AWS/Kafka",
            MetricName="PartitionCount",
            Dimensions=[
                {"Name": "Cluster Name", "Value": "orders"},
                {"Name": "Broker ID", "Value": str(broker)},
            ],
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(seconds=1),
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
        assert {point["Maximum"] for point in values} == {float(placed[broker])}
    with pytest.raises(ValueError, match="has topics"):
        msk_emulator.set_cluster_health(arn, partition_count=10)


def test_fleet_topics(kit, msk_emulator):
    spec = {
        "clusters": [
            {
                "name": "orders",
                "topics": [
                    {
                        "name": "payments",
                        "partitions": 6,
                        "replicationFactor": 3,
                        "retentionHours": 72,
                        "bytesPerPartition": 5_000_000,
                    },
                    {"name": "audit"},
                ],
                "health": {},
            }
        ]
    }
    arn = seed_fleet({"kafka": kit.kafka}, spec).clusters["orders"]

    listed = kit.kafka.list_topics(ClusterArn=arn)["Topics"]
    assert [(t["TopicName"], t["PartitionCount"], t["ReplicationFactor"]) for t in listed] == [
        ("audit", 1, 3),
        ("payments", 6, 3),
    ]
    described = kit.kafka.describe_topic(ClusterArn=arn, TopicName="payments")
    assert json.loads(base64.b64decode(described["Configs"]))["retention.ms"] == str(72 * 3600000)
    assert msk_emulator.partition_bytes(arn) == {"payments": 5_000_000, "audit": 0}


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        ({"kafkaVersion": "3.5.1", "topics": [{"name": "t"}]}, "3.6.0"),
        ({"topics": [{"name": "t", "partitions": 0}]}, "partitions"),
        ({"topics": [{"name": "t", "colour": "red"}]}, "Unknown keys"),
        ({"topics": [{"name": "t"}], "health": {"partitionCount": 5}}, "partitionCount"),
        (
            {"instanceType": "express.m7g.large", "diskUsage": {"from": 1, "to": 2, "hours": 1}},
            "Express",
        ),
    ],
)
def test_fleet_topic_mistakes(kit, msk_emulator, cluster, message):
    with pytest.raises(ValueError, match=message):
        seed_fleet({"kafka": kit.kafka}, {"clusters": [{"name": "orders", **cluster}]})
