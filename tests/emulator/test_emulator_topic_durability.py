"""What the durability checks read through the topic APIs: each topic's replication factor and
configs (min.insync.replicas, unclean.leader.election.enable), each partition's ISR, replicas
taken out of sync by the control API, and MSK's page sizes."""

import base64
import json

import pytest

from msk_autopilot_local.emulator import seed_fleet


@pytest.fixture
def orders(kit, msk_emulator):
    spec = {
        "clusters": [
            {
                "name": "orders",
                "topics": [
                    {
                        "name": "payments",
                        "partitions": 3,
                        "replicationFactor": 3,
                        "configs": {
                            "min.insync.replicas": 2,
                            "unclean.leader.election.enable": "true",
                        },
                    },
                    {"name": "scratch", "replicationFactor": 1},
                ],
            }
        ]
    }
    return seed_fleet({"kafka": kit.kafka}, spec).clusters["orders"]


def test_fleet_topics_carry_replication_factor_and_configs(kit, orders):
    described = kit.kafka.describe_topic(ClusterArn=orders, TopicName="payments")
    configs = json.loads(base64.b64decode(described["Configs"]))
    assert configs["min.insync.replicas"] == "2"
    assert configs["unclean.leader.election.enable"] == "true"
    listed = {t["TopicName"]: t for t in kit.kafka.list_topics(ClusterArn=orders)["Topics"]}
    assert listed["payments"]["ReplicationFactor"] == 3
    assert listed["scratch"]["ReplicationFactor"] == 1


def test_replicas_out_of_sync(kit, msk_emulator, orders):
    partition = kit.kafka.describe_topic_partitions(ClusterArn=orders, TopicName="payments")[
        "Partitions"
    ][1]
    assert partition["Isr"] == partition["Replicas"]
    leader, follower = partition["Leader"], partition["Replicas"][-1]

    isr = msk_emulator.set_out_of_sync(orders, "payments", 1, [leader, follower])
    after = kit.kafka.describe_topic_partitions(ClusterArn=orders, TopicName="payments")[
        "Partitions"
    ][1]
    assert after["Isr"] == isr == [b for b in partition["Replicas"] if b not in (leader, follower)]
    assert after["Leader"] == isr[0]
    listed = {t["TopicName"]: t for t in kit.kafka.list_topics(ClusterArn=orders)["Topics"]}
    assert listed["payments"]["OutOfSyncReplicaCount"] == 2
    assert listed["scratch"]["OutOfSyncReplicaCount"] == 0

    msk_emulator.set_out_of_sync(orders, "payments", 1, [])
    listed = {t["TopicName"]: t for t in kit.kafka.list_topics(ClusterArn=orders)["Topics"]}
    assert listed["payments"]["OutOfSyncReplicaCount"] == 0
    with pytest.raises(ValueError, match="stays in sync"):
        msk_emulator.set_out_of_sync(orders, "payments", 1, partition["Replicas"])
    with pytest.raises(ValueError, match="partitions 0 to 2"):
        msk_emulator.set_out_of_sync(orders, "payments", 3, [])


def test_out_of_sync_over_http(http_kit):
    spec = {"clusters": [{"name": "orders", "topics": [{"name": "payments"}]}]}
    arn = seed_fleet({"kafka": http_kit.kafka}, spec).clusters["orders"]
    replicas = http_kit.kafka.describe_topic_partitions(ClusterArn=arn, TopicName="payments")[
        "Partitions"
    ][0]["Replicas"]
    body = {"clusterArn": arn, "topic": "payments", "partition": 0, "brokers": replicas[1:]}
    response = http_kit.control("POST", "/topics/out-of-sync", body)
    assert (response.status_code, response.json()) == (200, {"isr": replicas[:1]})
    bad = http_kit.control("POST", "/topics/out-of-sync", {**body, "brokers": "all"})
    assert bad.status_code == 400


def test_topic_apis_page_at_most_100(kit, msk_emulator, expect_error):
    arn = kit.create("orders")
    msk_emulator.complete_operations()
    for n in range(105):
        kit.kafka.create_topic(
            ClusterArn=arn, TopicName=f"t{n:03}", PartitionCount=1, ReplicationFactor=3
        )
    first = kit.kafka.list_topics(ClusterArn=arn)
    assert len(first["Topics"]) == 100
    rest = kit.kafka.list_topics(ClusterArn=arn, NextToken=first["NextToken"])
    assert len(rest["Topics"]) == 5
    assert "NextToken" not in rest
    error = expect_error(kit.kafka.list_topics, ClusterArn=arn, MaxResults=101)
    assert error["code"] == "BadRequestException"
