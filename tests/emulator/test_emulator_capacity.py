"""UpdateBrokerType, UpdateBrokerCount and UpdateRebalancing with MSK's rules: the type changes
MSK allows, partition maximums, zone multiples, removal of one empty broker per zone, and
intelligent rebalancing on Express only."""

from collections import Counter

import pytest


def ready(kit, msk_emulator, name="orders", **overrides):
    arn = kit.create(name, **overrides)
    msk_emulator.complete_operations()
    return arn


def express(kit, msk_emulator, brokers=3, rebalancing=None):
    request = kit.provisioned(InstanceType="express.m7g.large", NumberOfBrokerNodes=brokers)
    del request["BrokerNodeGroupInfo"]["StorageInfo"]
    if rebalancing is not None:
        request["Rebalancing"] = {"Status": rebalancing}
    arn = kit.kafka.create_cluster_v2(ClusterName="fast", Provisioned=request)["ClusterArn"]
    msk_emulator.complete_operations()
    return arn


def change(kit, arn, method, **arguments):
    response = getattr(kit.kafka, method)(
        ClusterArn=arn, CurrentVersion=kit.version(arn), **arguments
    )
    return response["ClusterOperationArn"]


def placed(kit, arn):
    """Every partition of every topic: (topic, leader, replicas)."""
    return [
        (topic["TopicName"], partition["Leader"], partition["Replicas"])
        for topic in kit.kafka.list_topics(ClusterArn=arn)["Topics"]
        for partition in kit.kafka.describe_topic_partitions(
            ClusterArn=arn, TopicName=topic["TopicName"]
        )["Partitions"]
    ]


def racks(kit, arn):
    return {
        int(node["BrokerNodeInfo"]["BrokerId"]): node["BrokerNodeInfo"]["ClientSubnet"]
        for node in kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    }


# ------------------------------------------------------------------ broker type
@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("kafka.m5.large", "kafka.m7g.large"),
        ("kafka.m7g.xlarge", "kafka.m5.large"),
        ("kafka.t3.small", "kafka.m5.large"),
        ("kafka.m5.2xlarge", "kafka.m5.xlarge"),
    ],
)
def test_allowed_type_changes_roll_and_show_when_complete(kit, msk_emulator, source, target):
    arn = ready(kit, msk_emulator, InstanceType=source)
    operation_arn = change(kit, arn, "update_broker_type", TargetInstanceType=target)
    group = kit.info(arn)["Provisioned"]["BrokerNodeGroupInfo"]
    assert group["InstanceType"] == source
    msk_emulator.complete_operations()
    assert kit.info(arn)["Provisioned"]["BrokerNodeGroupInfo"]["InstanceType"] == target
    assert kit.operation(operation_arn)["OperationType"] == "UPDATE_BROKER_TYPE"


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("kafka.m5.large", "kafka.t3.small", "You can't update the broker size"),
        ("kafka.m7g.large", "kafka.t3.small", "You can't update the broker size"),
        ("kafka.m5.large", "express.m7g.large", "Standard and Express"),
        ("kafka.m5.large", "kafka.m5.large", "does not include any updates"),
        ("kafka.m5.large", "kafka.m6.large", "Unsupported instance type"),
    ],
)
def test_refused_type_changes(kit, msk_emulator, expect_error, source, target, message):
    arn = ready(kit, msk_emulator, InstanceType=source)
    error = expect_error(
        kit.kafka.update_broker_type,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        TargetInstanceType=target,
    )
    assert (error["code"], error["parameter"]) == ("BadRequestException", "targetInstanceType")
    assert message in error["message"]


def test_no_smaller_size_over_its_partition_maximum(kit, msk_emulator, expect_error):
    arn = ready(kit, msk_emulator, InstanceType="kafka.m5.4xlarge")
    # 1600 replicas per broker: over xlarge's 1500, within 2xlarge's 3000.
    kit.kafka.create_topic(
        ClusterArn=arn, TopicName="wide", PartitionCount=1600, ReplicationFactor=3
    )
    error = expect_error(
        kit.kafka.update_broker_type,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        TargetInstanceType="kafka.m5.xlarge",
    )
    assert "1600 partitions, more than the maximum of 1500" in error["message"]
    change(kit, arn, "update_broker_type", TargetInstanceType="kafka.m5.2xlarge")
    msk_emulator.complete_operations()
    assert kit.info(arn)["Provisioned"]["BrokerNodeGroupInfo"]["InstanceType"] == (
        "kafka.m5.2xlarge"
    )


# ------------------------------------------------------------------ broker count
def test_scale_out_adds_new_ids_round_robin_over_zones_and_they_stay_empty(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    kit.kafka.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=6, ReplicationFactor=3)
    before = placed(kit, arn)

    change(kit, arn, "update_broker_count", TargetNumberOfBrokerNodes=6)
    msk_emulator.complete_operations()

    rack = racks(kit, arn)
    assert sorted(rack) == [1, 2, 3, 4, 5, 6]
    assert [rack[b] for b in (4, 5, 6)] == [rack[b] for b in (1, 2, 3)]
    assert placed(kit, arn) == before  # Standard: new brokers hold nothing until moved


def test_scale_in_removes_one_empty_broker_per_zone(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    kit.kafka.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=6, ReplicationFactor=3)
    change(kit, arn, "update_broker_count", TargetNumberOfBrokerNodes=6)
    msk_emulator.complete_operations()

    operation_arn = change(kit, arn, "update_broker_count", TargetNumberOfBrokerNodes=3)
    operation = kit.operation(operation_arn)
    msk_emulator.complete_operations()

    assert operation["OperationType"] == "DECREASE_BROKER_COUNT"
    target = operation["Provisioned"]["TargetClusterInfo"]
    assert target["BrokerCountUpdateInfo"]["DeletedBrokerIds"] == [4.0, 5.0, 6.0]
    assert sorted(racks(kit, arn)) == [1, 2, 3]
    assert kit.info(arn)["Provisioned"]["NumberOfBrokerNodes"] == 3


def test_canary_topics_do_not_keep_a_broker(kit, msk_emulator):
    arn = ready(kit, msk_emulator)
    kit.kafka.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=3, ReplicationFactor=3)
    change(kit, arn, "update_broker_count", TargetNumberOfBrokerNodes=6)
    msk_emulator.complete_operations()
    kit.kafka.create_topic(
        ClusterArn=arn, TopicName="__amazon_msk_canary", PartitionCount=6, ReplicationFactor=3
    )
    assert {b for _, _, replicas in placed(kit, arn) for b in replicas} >= {4, 5, 6}

    operation_arn = change(kit, arn, "update_broker_count", TargetNumberOfBrokerNodes=3)
    target = kit.operation(operation_arn)["Provisioned"]["TargetClusterInfo"]
    assert target["BrokerCountUpdateInfo"]["DeletedBrokerIds"] == [4.0, 5.0, 6.0]


def test_scale_in_refusals(kit, msk_emulator, expect_error):
    arn = ready(kit, msk_emulator, NumberOfBrokerNodes=9)

    def refused(target):
        return expect_error(
            kit.kafka.update_broker_count,
            ClusterArn=arn,
            CurrentVersion=kit.version(arn),
            TargetNumberOfBrokerNodes=target,
        )

    error = refused(3)
    assert "at most one broker per Availability Zone" in error["message"]
    assert error["parameter"] == "targetNumberOfBrokerNodes"
    kit.kafka.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=9, ReplicationFactor=3)
    assert "free of partitions" in refused(6)["message"]


def test_no_broker_removal_from_t3_brokers(kit, msk_emulator, expect_error):
    arn = ready(kit, msk_emulator, InstanceType="kafka.t3.small", NumberOfBrokerNodes=6)
    error = expect_error(
        kit.kafka.update_broker_count,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        TargetNumberOfBrokerNodes=3,
    )
    assert "M5, M7g or Express" in error["message"]


# ---------------------------------------------------------- intelligent rebalancing
def test_express_rebalancing_is_active_by_default(kit, msk_emulator):
    arn = express(kit, msk_emulator)
    assert kit.info(arn)["Provisioned"]["Rebalancing"] == {"Status": "ACTIVE"}


def test_express_scale_out_spreads_partitions_onto_new_brokers(kit, msk_emulator):
    arn = express(kit, msk_emulator)
    kit.kafka.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=12, ReplicationFactor=3)

    change(kit, arn, "update_broker_count", TargetNumberOfBrokerNodes=6)
    msk_emulator.complete_operations()

    after = placed(kit, arn)
    rack = racks(kit, arn)
    assert Counter(b for _, _, r in after for b in r) == dict.fromkeys(range(1, 7), 6)
    assert Counter(leader for _, leader, _ in after) == dict.fromkeys(range(1, 7), 2)
    assert all(len({rack[b] for b in replicas}) == 3 for _, _, replicas in after)


def test_express_scale_in_drains_the_removed_brokers(kit, msk_emulator):
    arn = express(kit, msk_emulator, brokers=6)
    kit.kafka.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=12, ReplicationFactor=3)

    operation_arn = change(kit, arn, "update_broker_count", TargetNumberOfBrokerNodes=3)
    msk_emulator.complete_operations()

    after = placed(kit, arn)
    rack = racks(kit, arn)
    deleted = kit.operation(operation_arn)["Provisioned"]["TargetClusterInfo"][
        "BrokerCountUpdateInfo"
    ]["DeletedBrokerIds"]
    assert deleted == [4.0, 5.0, 6.0]
    assert Counter(b for _, _, r in after for b in r) == {1: 12, 2: 12, 3: 12}
    assert all(len({rack[b] for b in replicas}) == 3 for _, _, replicas in after)
    assert {leader for _, leader, _ in after} <= {1, 2, 3}


def test_paused_rebalancing_leaves_partitions_where_they_are(kit, msk_emulator, expect_error):
    arn = express(kit, msk_emulator, brokers=6, rebalancing="PAUSED")
    kit.kafka.create_topic(ClusterArn=arn, TopicName="t", PartitionCount=6, ReplicationFactor=3)
    error = expect_error(
        kit.kafka.update_broker_count,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        TargetNumberOfBrokerNodes=3,
    )
    assert "free of partitions" in error["message"]

    operation_arn = change(kit, arn, "update_rebalancing", Rebalancing={"Status": "ACTIVE"})
    msk_emulator.complete_operations()
    assert kit.operation(operation_arn)["OperationType"] == "UPDATE_REBALANCING"
    assert kit.info(arn)["Provisioned"]["Rebalancing"] == {"Status": "ACTIVE"}
    change(kit, arn, "update_broker_count", TargetNumberOfBrokerNodes=3)


def test_rebalancing_is_express_only(kit, msk_emulator, expect_error):
    arn = ready(kit, msk_emulator)
    error = expect_error(
        kit.kafka.update_rebalancing,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        Rebalancing={"Status": "ACTIVE"},
    )
    assert (error["code"], error["parameter"]) == ("BadRequestException", "rebalancing")
    assert "Express" in error["message"]
    assert "Rebalancing" not in kit.info(arn)["Provisioned"]
    error = expect_error(
        kit.kafka.create_cluster_v2,
        ClusterName="standard",
        Provisioned=kit.provisioned(Rebalancing={"Status": "ACTIVE"}),
    )
    assert error["parameter"] == "rebalancing"
    fast = express(kit, msk_emulator)
    error = expect_error(
        kit.kafka.update_rebalancing,
        ClusterArn=fast,
        CurrentVersion=kit.version(fast),
        Rebalancing={"Status": "ACTIVE"},
    )
    assert "already ACTIVE" in error["message"]
