"""Cluster lifecycle, describe/list shapes, versions, errors, tags, policies, accounts, Regions."""

import json
import re

import pytest
from moto import mock_aws
from moto.kafka.models import KafkaBackend, kafka_backends

from msk_autopilot_local.emulator import install
from msk_autopilot_local.emulator.models import MskBackend

ARN = re.compile(r"^arn:aws:kafka:eu-west-1:123456789012:cluster/orders/[0-9a-f-]{36}-\d+$")


def test_created_cluster_is_creating_then_active_with_real_arn(kit):
    response = kit.kafka.create_cluster_v2(ClusterName="orders", Provisioned=kit.provisioned())
    assert response["State"] == "CREATING"
    assert response["ClusterType"] == "PROVISIONED"
    assert ARN.match(response["ClusterArn"])
    assert kit.info(response["ClusterArn"])["State"] == "ACTIVE"


def test_creation_delay_follows_the_emulated_clock(kit, msk_emulator):
    msk_emulator.configure(cluster_create_seconds=600)
    arn = kit.create()
    assert kit.info(arn)["State"] == "CREATING"
    msk_emulator.clock.advance(599)
    assert kit.info(arn)["State"] == "CREATING"
    msk_emulator.clock.advance(2)
    assert kit.info(arn)["State"] == "ACTIVE"


def test_describe_v2_returns_the_full_provisioned_shape(kit):
    arn = kit.create(
        EnhancedMonitoring="PER_TOPIC_PER_BROKER",
        ClientAuthentication={"Sasl": {"Iam": {"Enabled": True}}},
        EncryptionInfo={
            "EncryptionAtRest": {"DataVolumeKMSKeyId": "arn:aws:kms:eu-west-1:123456789012:key/k1"},
            "EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True},
        },
        LoggingInfo={"BrokerLogs": {"CloudWatchLogs": {"Enabled": True, "LogGroup": "msk-orders"}}},
    )
    info = kit.info(arn)
    assert info["ClusterType"] == "PROVISIONED"
    assert re.fullmatch(r"K[A-Z0-9]{13}", info["CurrentVersion"])
    provisioned = info["Provisioned"]
    group = provisioned["BrokerNodeGroupInfo"]
    assert group["InstanceType"] == "kafka.m5.large"
    assert group["ClientSubnets"] == ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]
    assert group["StorageInfo"]["EbsStorageInfo"]["VolumeSize"] == 100
    assert group["ConnectivityInfo"]["PublicAccess"]["Type"] == "DISABLED"
    assert provisioned["NumberOfBrokerNodes"] == 3
    assert provisioned["CurrentBrokerSoftwareInfo"] == {"KafkaVersion": "3.8.x"}
    assert provisioned["EnhancedMonitoring"] == "PER_TOPIC_PER_BROKER"
    assert provisioned["ClientAuthentication"]["Sasl"]["Iam"]["Enabled"] is True
    assert provisioned["ClientAuthentication"]["Unauthenticated"]["Enabled"] is False
    assert provisioned["EncryptionInfo"]["EncryptionAtRest"]["DataVolumeKMSKeyId"].endswith("/k1")
    logs = provisioned["LoggingInfo"]["BrokerLogs"]
    assert logs["CloudWatchLogs"] == {"Enabled": True, "LogGroup": "msk-orders"}
    assert logs["S3"] == {"Enabled": False}
    assert provisioned["StorageMode"] == "LOCAL"
    assert provisioned["ZookeeperConnectString"].count(":2181") == 3
    assert "ActiveOperationArn" not in info


def test_defaults_use_the_aws_managed_kafka_key_and_unauthenticated_tls(kit):
    info = kit.info(kit.create())["Provisioned"]
    key_arn = info["EncryptionInfo"]["EncryptionAtRest"]["DataVolumeKMSKeyId"]
    key = kit.client("kms").describe_key(KeyId=key_arn)["KeyMetadata"]
    assert key["KeyManager"] == "AWS"
    aliases = kit.client("kms").list_aliases(KeyId=key["KeyId"])
    assert [alias["AliasName"] for alias in aliases["Aliases"]] == ["alias/aws/kafka"]
    assert info["EncryptionInfo"]["EncryptionInTransit"] == {
        "ClientBroker": "TLS",
        "InCluster": True,
    }
    assert info["ClientAuthentication"]["Unauthenticated"] == {"Enabled": True}


def test_kraft_clusters_have_no_zookeeper(kit):
    provisioned = kit.info(kit.create(KafkaVersion="3.9.x.kraft"))["Provisioned"]
    assert "ZookeeperConnectString" not in provisioned


def test_v1_create_describe_and_list(kit):
    request = kit.provisioned()
    response = kit.kafka.create_cluster(ClusterName="legacy", Tags={"team": "core"}, **request)
    info = kit.kafka.describe_cluster(ClusterArn=response["ClusterArn"])["ClusterInfo"]
    assert info["ClusterName"] == "legacy"
    assert info["NumberOfBrokerNodes"] == 3
    assert info["BrokerNodeGroupInfo"]["InstanceType"] == "kafka.m5.large"
    assert info["CurrentBrokerSoftwareInfo"]["KafkaVersion"] == "3.8.x"
    assert info["Tags"] == {"team": "core"}
    names = [c["ClusterName"] for c in kit.kafka.list_clusters()["ClusterInfoList"]]
    assert names == ["legacy"]


def test_serverless_cluster_in_v2_and_absent_from_v1(kit, expect_error):
    response = kit.kafka.create_cluster_v2(
        ClusterName="events",
        Serverless={
            "VpcConfigs": [{"SubnetIds": ["subnet-1", "subnet-2"]}],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    )
    arn = response["ClusterArn"]
    assert response["ClusterType"] == "SERVERLESS"
    assert re.search(r"-s\d$", arn)
    kit.create("orders")
    info = kit.info(arn)
    assert info["Serverless"]["VpcConfigs"][0]["SubnetIds"] == ["subnet-1", "subnet-2"]
    assert "Provisioned" not in info
    every = kit.kafka.list_clusters_v2()["ClusterInfoList"]
    assert sorted(c["ClusterType"] for c in every) == ["PROVISIONED", "SERVERLESS"]
    serverless = kit.kafka.list_clusters_v2(ClusterTypeFilter="SERVERLESS")["ClusterInfoList"]
    assert [c["ClusterName"] for c in serverless] == ["events"]
    assert [c["ClusterName"] for c in kit.kafka.list_clusters()["ClusterInfoList"]] == ["orders"]
    error = expect_error(kit.kafka.describe_cluster, ClusterArn=arn)
    assert error["code"] == "BadRequestException"


def test_serverless_requires_iam(kit, expect_error):
    error = expect_error(
        kit.kafka.create_cluster_v2,
        ClusterName="events",
        Serverless={"VpcConfigs": [{"SubnetIds": ["subnet-1", "subnet-2"]}]},
    )
    assert error["code"] == "BadRequestException"
    assert error["parameter"] == "serverless.clientAuthentication"


def test_create_v2_needs_exactly_one_cluster_type(kit, expect_error):
    error = expect_error(kit.kafka.create_cluster_v2, ClusterName="nothing")
    assert error["code"] == "BadRequestException"


def test_list_filters_by_name_prefix_and_paginates(kit):
    for name in ("orders-a", "orders-b", "orders-c", "payments"):
        kit.create(name)
    first = kit.kafka.list_clusters_v2(ClusterNameFilter="orders", MaxResults=2)
    assert [c["ClusterName"] for c in first["ClusterInfoList"]] == ["orders-a", "orders-b"]
    second = kit.kafka.list_clusters_v2(
        ClusterNameFilter="orders", MaxResults=2, NextToken=first["NextToken"]
    )
    assert [c["ClusterName"] for c in second["ClusterInfoList"]] == ["orders-c"]
    assert "NextToken" not in second
    paginator = kit.kafka.get_paginator("list_clusters")
    names = [
        c["ClusterName"]
        for page in paginator.paginate(PaginationConfig={"PageSize": 1})
        for c in page["ClusterInfoList"]
    ]
    assert names == ["orders-a", "orders-b", "orders-c", "payments"]


def test_invalid_next_token_is_a_bad_request(kit, expect_error):
    error = expect_error(kit.kafka.list_clusters_v2, NextToken="garbage")
    assert (error["code"], error["parameter"]) == ("BadRequestException", "nextToken")


@pytest.mark.parametrize(
    ("overrides", "parameter", "fragment"),
    [
        (
            {"KafkaVersion": "2.1.0"},
            "kafkaVersion",
            "Unsupported KafkaVersion [2.1.0]. Valid values:",
        ),
        ({"KafkaVersion": "9.9.9"}, "kafkaVersion", "Unsupported KafkaVersion [9.9.9]"),
        ({"InstanceType": "kafka.x1.huge"}, "brokerNodeGroupInfo.instanceType", "kafka.x1.huge"),
        ({"NumberOfBrokerNodes": 4}, "numberOfBrokerNodes", "multiple"),
        (
            {"StorageMode": "TIERED", "InstanceType": "kafka.t3.small"},
            "storageMode",
            "Tiered storage",
        ),
    ],
)
def test_create_rejects_invalid_requests(kit, expect_error, overrides, parameter, fragment):
    error = expect_error(
        kit.kafka.create_cluster_v2, ClusterName="bad", Provisioned=kit.provisioned(**overrides)
    )
    assert (error["code"], error["status"], error["parameter"]) == (
        "BadRequestException",
        400,
        parameter,
    )
    assert fragment in error["message"]
    assert kit.kafka.list_clusters_v2()["ClusterInfoList"] == []


def test_create_rejects_public_access_and_bad_subnets(kit, expect_error):
    public = kit.provisioned()
    public["BrokerNodeGroupInfo"]["ConnectivityInfo"] = {
        "PublicAccess": {"Type": "SERVICE_PROVIDED_EIPS"}
    }
    error = expect_error(kit.kafka.create_cluster_v2, ClusterName="bad", Provisioned=public)
    assert error["parameter"] == "brokerNodeGroupInfo.connectivityInfo.publicAccess"
    one_subnet = kit.provisioned(NumberOfBrokerNodes=1)
    one_subnet["BrokerNodeGroupInfo"]["ClientSubnets"] = ["subnet-1"]
    error = expect_error(kit.kafka.create_cluster_v2, ClusterName="bad", Provisioned=one_subnet)
    assert error["parameter"] == "brokerNodeGroupInfo.clientSubnets"


def test_create_rejects_enum_and_range_violations_botocore_lets_through(kit, expect_error):
    error = expect_error(
        kit.kafka.create_cluster_v2,
        ClusterName="bad",
        Provisioned=kit.provisioned(EnhancedMonitoring="EVERYTHING"),
    )
    assert error["parameter"] == "provisioned.enhancedMonitoring"
    error = expect_error(
        kit.kafka.create_cluster_v2,
        ClusterName="bad",
        Provisioned=kit.provisioned(NumberOfBrokerNodes=30),
    )
    assert error["parameter"] == "provisioned.numberOfBrokerNodes"


def test_duplicate_cluster_name_is_a_conflict(kit, expect_error):
    kit.create("orders")
    error = expect_error(
        kit.kafka.create_cluster_v2, ClusterName="orders", Provisioned=kit.provisioned()
    )
    assert (error["code"], error["status"]) == ("ConflictException", 409)
    assert error["message"] == (
        "This cluster name already exists. Retry your request using another name."
    )


@pytest.mark.parametrize(
    ("operation", "arguments"),
    [
        ("describe_cluster", {}),
        ("describe_cluster_v2", {}),
        ("delete_cluster", {}),
        ("list_nodes", {}),
        ("get_bootstrap_brokers", {}),
        ("list_cluster_operations", {}),
        ("list_cluster_operations_v2", {}),
        ("list_scram_secrets", {}),
        ("get_cluster_policy", {}),
        ("update_monitoring", {"CurrentVersion": "K1", "EnhancedMonitoring": "PER_BROKER"}),
        ("reboot_broker", {"BrokerIds": ["1"]}),
    ],
)
def test_unknown_cluster_arn_is_not_found(kit, expect_error, operation, arguments):
    unknown = (
        "arn:aws:kafka:eu-west-1:123456789012:cluster/ghost/00000000-0000-0000-0000-000000000000-1"
    )
    error = expect_error(getattr(kit.kafka, operation), ClusterArn=unknown, **arguments)
    assert (error["code"], error["status"], error["parameter"]) == (
        "NotFoundException",
        404,
        "clusterArn",
    )


def test_delete_cluster_checks_version_then_cluster_disappears(kit, expect_error):
    arn = kit.create()
    error = expect_error(kit.kafka.delete_cluster, ClusterArn=arn, CurrentVersion="KSTALE")
    assert error["parameter"] == "currentVersion"
    response = kit.kafka.delete_cluster(ClusterArn=arn, CurrentVersion=kit.version(arn))
    assert response["State"] == "DELETING"
    assert (
        expect_error(kit.kafka.describe_cluster_v2, ClusterArn=arn)["code"] == "NotFoundException"
    )
    assert kit.kafka.list_clusters_v2()["ClusterInfoList"] == []


def test_tags_round_trip_and_unknown_resource_is_not_found(kit, expect_error):
    arn = kit.kafka.create_cluster_v2(
        ClusterName="orders", Provisioned=kit.provisioned(), Tags={"team": "payments"}
    )["ClusterArn"]
    kit.kafka.tag_resource(ResourceArn=arn, Tags={"env": "prod"})
    assert kit.kafka.list_tags_for_resource(ResourceArn=arn)["Tags"] == {
        "team": "payments",
        "env": "prod",
    }
    kit.kafka.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert kit.info(arn)["Tags"] == {"env": "prod"}
    tagging = kit.client("resourcegroupstaggingapi")
    mapping = tagging.get_resources(ResourceTypeFilters=["kafka:cluster"])["ResourceTagMappingList"]
    assert [item["ResourceARN"] for item in mapping] == [arn]
    error = expect_error(kit.kafka.list_tags_for_resource, ResourceArn=arn + "-nope")
    assert error["code"] == "NotFoundException"


def test_cluster_policy_put_get_delete(kit, expect_error):
    arn = kit.create()
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    version = kit.kafka.put_cluster_policy(ClusterArn=arn, Policy=policy)["CurrentVersion"]
    stored = kit.kafka.get_cluster_policy(ClusterArn=arn)
    assert (stored["Policy"], stored["CurrentVersion"]) == (policy, version)
    error = expect_error(
        kit.kafka.put_cluster_policy, ClusterArn=arn, Policy=policy, CurrentVersion="KSTALE"
    )
    assert error["parameter"] == "currentVersion"
    newer = kit.kafka.put_cluster_policy(ClusterArn=arn, Policy=policy, CurrentVersion=version)
    assert newer["CurrentVersion"] != version
    kit.kafka.delete_cluster_policy(ClusterArn=arn)
    assert expect_error(kit.kafka.get_cluster_policy, ClusterArn=arn)["code"] == "NotFoundException"


def test_regions_and_accounts_are_isolated(kit, monkeypatch):
    arn = kit.create()
    other_region = kit.session.client("kafka", region_name="us-east-1")
    assert other_region.list_clusters_v2()["ClusterInfoList"] == []
    other_region.create_cluster_v2(ClusterName="orders", Provisioned=kit.provisioned())
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "210987654321")
    other_account = kit.client("kafka")
    assert other_account.list_clusters_v2()["ClusterInfoList"] == []
    created = other_account.create_cluster_v2(ClusterName="orders", Provisioned=kit.provisioned())
    assert ":210987654321:cluster/orders/" in created["ClusterArn"]
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    assert [c["ClusterArn"] for c in kit.kafka.list_clusters_v2()["ClusterInfoList"]] == [arn]


def test_operations_the_emulator_lacks_answer_not_implemented(kit, expect_error):
    error = expect_error(kit.kafka.list_replicators)
    assert (error["code"], error["status"]) == ("NotImplementedException", 501)


def test_install_is_idempotent_and_replaces_empty_plain_backends():
    with mock_aws():
        kafka_backends.backend = KafkaBackend
        for account in kafka_backends.values():
            account.backend = KafkaBackend
        assert not isinstance(kafka_backends["123456789012"]["eu-west-1"], MskBackend)
        install()
        install()
        assert isinstance(kafka_backends["123456789012"]["eu-west-1"], MskBackend)


def test_install_refuses_to_drop_plain_moto_clusters():
    with mock_aws():
        kafka_backends.backend = KafkaBackend
        for account in kafka_backends.values():
            account.backend = KafkaBackend
        plain = kafka_backends["123456789012"]["eu-west-1"]
        plain.create_cluster_v2("old", None, None, {"vpcConfigs": []})
        with pytest.raises(RuntimeError, match="before creating"):
            install()
        del kafka_backends["123456789012"]["eu-west-1"]
        install()
