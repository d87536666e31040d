"""Security, monitoring, connectivity, broker count/type, Kafka version, reboot, operations."""

import pytest

SCRAM_IAM = {"Sasl": {"Scram": {"Enabled": True}, "Iam": {"Enabled": True}}}


def run(kit, msk_emulator, arn, method, **arguments):
    """Start an update, check the old settings still show while it runs, finish it."""
    before = kit.info(arn)
    operation_arn = getattr(kit.kafka, method)(
        ClusterArn=arn, CurrentVersion=before["CurrentVersion"], **arguments
    )["ClusterOperationArn"]
    during = kit.info(arn)
    assert during["State"] == "UPDATING"
    assert during["Provisioned"] == before["Provisioned"]
    msk_emulator.complete_operations()
    after = kit.info(arn)
    assert after["State"] == "ACTIVE"
    return operation_arn, after["Provisioned"]


def test_update_monitoring(kit, msk_emulator):
    arn = kit.create()
    operation_arn, provisioned = run(
        kit,
        msk_emulator,
        arn,
        "update_monitoring",
        EnhancedMonitoring="PER_TOPIC_PER_PARTITION",
        OpenMonitoring={"Prometheus": {"JmxExporter": {"EnabledInBroker": True}}},
        LoggingInfo={"BrokerLogs": {"S3": {"Enabled": True, "Bucket": "logs", "Prefix": "msk/"}}},
    )
    assert provisioned["EnhancedMonitoring"] == "PER_TOPIC_PER_PARTITION"
    assert provisioned["OpenMonitoring"]["Prometheus"]["JmxExporter"] == {"EnabledInBroker": True}
    assert provisioned["OpenMonitoring"]["Prometheus"]["NodeExporter"] == {"EnabledInBroker": False}
    assert provisioned["LoggingInfo"]["BrokerLogs"]["S3"]["Bucket"] == "logs"
    operation = kit.operation(operation_arn)
    assert operation["OperationType"] == "UPDATE_MONITORING"
    assert operation["Provisioned"]["SourceClusterInfo"]["EnhancedMonitoring"] == "DEFAULT"


def test_monitoring_rules(kit, expect_error):
    arn = kit.create()
    error = expect_error(
        kit.kafka.update_monitoring,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        EnhancedMonitoring="DEFAULT",
    )
    assert "does not include any updates" in error["message"]
    error = expect_error(
        kit.kafka.update_monitoring,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        LoggingInfo={"BrokerLogs": {"CloudWatchLogs": {"Enabled": True}}},
    )
    assert error["parameter"] == "loggingInfo.brokerLogs"


def test_update_security(kit, msk_emulator):
    arn = kit.create(EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS_PLAINTEXT"}})
    operation_arn, provisioned = run(
        kit,
        msk_emulator,
        arn,
        "update_security",
        ClientAuthentication={**SCRAM_IAM, "Unauthenticated": {"Enabled": False}},
        EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS"}},
    )
    auth = provisioned["ClientAuthentication"]
    assert auth["Sasl"] == {"Scram": {"Enabled": True}, "Iam": {"Enabled": True}}
    assert auth["Unauthenticated"] == {"Enabled": False}
    assert provisioned["EncryptionInfo"]["EncryptionInTransit"] == {
        "ClientBroker": "TLS",
        "InCluster": True,
    }
    assert kit.operation(operation_arn)["OperationType"] == "UPDATE_SECURITY"


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        (
            {"EncryptionInfo": {"EncryptionAtRest": {"DataVolumeKMSKeyId": "other"}}},
            "encryptionInfo.encryptionAtRest",
        ),
        (
            {"EncryptionInfo": {"EncryptionInTransit": {"InCluster": False}}},
            "encryptionInfo.encryptionInTransit.inCluster",
        ),
        ({"ClientAuthentication": {"Unauthenticated": {"Enabled": False}}}, "clientAuthentication"),
        (
            {"ClientAuthentication": {"Tls": {"Enabled": True}}},
            "clientAuthentication.tls.certificateAuthorityArnList",
        ),
        ({"ClientAuthentication": {"Unauthenticated": {"Enabled": True}}}, "clientAuthentication"),
    ],
)
def test_security_rules(kit, expect_error, arguments, parameter):
    arn = kit.create()
    error = expect_error(
        kit.kafka.update_security, ClusterArn=arn, CurrentVersion=kit.version(arn), **arguments
    )
    assert (error["code"], error["parameter"]) == ("BadRequestException", parameter)


def secure_cluster(kit, **overrides):
    return kit.create(
        ClientAuthentication={**SCRAM_IAM, "Unauthenticated": {"Enabled": False}}, **overrides
    )


def test_public_access_on_and_off(kit, msk_emulator):
    arn = secure_cluster(kit)
    public = {"PublicAccess": {"Type": "SERVICE_PROVIDED_EIPS"}}
    operation_arn, provisioned = run(
        kit, msk_emulator, arn, "update_connectivity", ConnectivityInfo=public
    )
    assert provisioned["BrokerNodeGroupInfo"]["ConnectivityInfo"]["PublicAccess"] == {
        "Type": "SERVICE_PROVIDED_EIPS"
    }
    operation = kit.operation(operation_arn)
    assert operation["OperationType"] == "UPDATE_CONNECTIVITY"
    source = operation["Provisioned"]["SourceClusterInfo"]["ConnectivityInfo"]
    assert source["PublicAccess"]["Type"] == "DISABLED"
    _, provisioned = run(
        kit,
        msk_emulator,
        arn,
        "update_connectivity",
        ConnectivityInfo={"PublicAccess": {"Type": "DISABLED"}},
    )
    assert (
        provisioned["BrokerNodeGroupInfo"]["ConnectivityInfo"]["PublicAccess"]["Type"] == "DISABLED"
    )


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({}, "unauthenticated access turned off"),
        (
            {"EncryptionInfo": {"EncryptionInTransit": {"ClientBroker": "TLS_PLAINTEXT"}}},
            "TLS-only",
        ),
        ({"EncryptionInfo": {"EncryptionInTransit": {"InCluster": False}}}, "within the cluster"),
    ],
)
def test_public_access_prerequisites(kit, expect_error, overrides, fragment):
    arn = kit.create(**overrides)
    error = expect_error(
        kit.kafka.update_connectivity,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ConnectivityInfo={"PublicAccess": {"Type": "SERVICE_PROVIDED_EIPS"}},
    )
    assert error["parameter"] == "connectivityInfo.publicAccess"
    assert fragment in error["message"]


def test_public_access_type_and_no_op(kit, expect_error):
    arn = secure_cluster(kit)
    error = expect_error(
        kit.kafka.update_connectivity,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ConnectivityInfo={"PublicAccess": {"Type": "OPEN_TO_ALL"}},
    )
    assert error["parameter"] == "connectivityInfo.publicAccess.type"
    error = expect_error(
        kit.kafka.update_connectivity,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ConnectivityInfo={"PublicAccess": {"Type": "DISABLED"}},
    )
    assert "does not include any updates" in error["message"]


def test_public_cluster_cannot_reenable_unauthenticated_access(kit, msk_emulator, expect_error):
    arn = secure_cluster(kit)
    run(
        kit,
        msk_emulator,
        arn,
        "update_connectivity",
        ConnectivityInfo={"PublicAccess": {"Type": "SERVICE_PROVIDED_EIPS"}},
    )
    error = expect_error(
        kit.kafka.update_security,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ClientAuthentication={"Unauthenticated": {"Enabled": True}},
    )
    assert error["parameter"] == "connectivityInfo.publicAccess"


def test_broker_count_grows_nodes_and_reports_created_ids(kit, msk_emulator):
    arn = kit.create()
    operation_arn, provisioned = run(
        kit, msk_emulator, arn, "update_broker_count", TargetNumberOfBrokerNodes=6
    )
    assert provisioned["NumberOfBrokerNodes"] == 6
    nodes = kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert [n["BrokerNodeInfo"]["BrokerId"] for n in nodes] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    target = kit.kafka.describe_cluster_operation(ClusterOperationArn=operation_arn)[
        "ClusterOperationInfo"
    ]["TargetClusterInfo"]
    assert target["NumberOfBrokerNodes"] == 6
    assert target["BrokerCountUpdateInfo"]["CreatedBrokerIds"] == [4.0, 5.0, 6.0]


def test_broker_count_can_shrink_by_whole_zones(kit, msk_emulator):
    arn = kit.create(NumberOfBrokerNodes=6)
    _, provisioned = run(kit, msk_emulator, arn, "update_broker_count", TargetNumberOfBrokerNodes=3)
    assert provisioned["NumberOfBrokerNodes"] == 3
    assert len(kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]) == 3


@pytest.mark.parametrize("target", [3, 4])
def test_broker_count_rules(kit, expect_error, target):
    arn = kit.create()
    error = expect_error(
        kit.kafka.update_broker_count,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        TargetNumberOfBrokerNodes=target,
    )
    assert error["parameter"] == "targetNumberOfBrokerNodes"


def test_broker_type(kit, msk_emulator, expect_error):
    arn = kit.create()
    operation_arn, provisioned = run(
        kit, msk_emulator, arn, "update_broker_type", TargetInstanceType="kafka.m7g.xlarge"
    )
    assert provisioned["BrokerNodeGroupInfo"]["InstanceType"] == "kafka.m7g.xlarge"
    nodes = kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert {node["InstanceType"] for node in nodes} == {"kafka.m7g.xlarge"}
    assert kit.operation(operation_arn)["OperationType"] == "UPDATE_BROKER_TYPE"
    for bad_type in ("kafka.m7g.xlarge", "express.m7g.large", "kafka.z9.tiny"):
        error = expect_error(
            kit.kafka.update_broker_type,
            ClusterArn=arn,
            CurrentVersion=kit.version(arn),
            TargetInstanceType=bad_type,
        )
        assert error["parameter"] == "targetInstanceType"


def test_broker_type_must_keep_provisioned_throughput_possible(kit, msk_emulator, expect_error):
    arn = kit.create(InstanceType="kafka.m5.8xlarge")
    kit.kafka.update_storage(
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ProvisionedThroughput={"Enabled": True, "VolumeThroughput": 800},
    )
    msk_emulator.complete_operations()
    error = expect_error(
        kit.kafka.update_broker_type,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        TargetInstanceType="kafka.m5.4xlarge",
    )
    assert "593" in error["message"]


def test_reboot_broker(kit, msk_emulator, expect_error):
    arn = kit.create()
    for broker_ids in (["1", "2"], ["9"]):
        error = expect_error(kit.kafka.reboot_broker, ClusterArn=arn, BrokerIds=broker_ids)
        assert error["parameter"] == "brokerIds"
    operation_arn = kit.kafka.reboot_broker(ClusterArn=arn, BrokerIds=["2"])["ClusterOperationArn"]
    assert kit.info(arn)["State"] == "REBOOTING_BROKER"
    error = expect_error(kit.kafka.reboot_broker, ClusterArn=arn, BrokerIds=["1"])
    assert "REBOOTING_BROKER" in error["message"]
    msk_emulator.complete_operations()
    assert kit.info(arn)["State"] == "ACTIVE"
    assert kit.operation(operation_arn)["OperationType"] == "REBOOT_NODE"


def test_operations_are_listed_newest_first_in_v1_and_v2(kit, msk_emulator):
    arn = kit.create()
    first = kit.grow_storage(arn, 200)
    msk_emulator.complete_operations()
    second = kit.kafka.update_monitoring(
        ClusterArn=arn, CurrentVersion=kit.version(arn), EnhancedMonitoring="PER_BROKER"
    )["ClusterOperationArn"]
    v2 = kit.kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
    assert [op["OperationArn"] for op in v2] == [second, first]
    assert [op["OperationState"] for op in v2] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    assert "EndTime" not in v2[0]
    assert v2[1]["ClusterType"] == "PROVISIONED"
    v1 = kit.kafka.list_cluster_operations(ClusterArn=arn)["ClusterOperationInfoList"]
    assert [op["OperationType"] for op in v1] == ["UPDATE_MONITORING", "UPDATE_BROKER_STORAGE"]
    assert v1[1]["TargetClusterInfo"]["BrokerEBSVolumeInfo"][0]["VolumeSizeGB"] == 200
    assert v1[1]["EndTime"] > v1[1]["CreationTime"]
    assert v1[0]["ClientRequestId"]
    paged = kit.kafka.list_cluster_operations_v2(ClusterArn=arn, MaxResults=1)
    assert [op["OperationArn"] for op in paged["ClusterOperationInfoList"]] == [second]
    assert "NextToken" in paged


def test_unknown_operation_is_not_found(kit, expect_error):
    arn = kit.create()
    unknown = (
        arn.replace(":cluster/", ":cluster-operation/") + "/00000000-0000-0000-0000-000000000000"
    )
    for method in ("describe_cluster_operation", "describe_cluster_operation_v2"):
        error = expect_error(getattr(kit.kafka, method), ClusterOperationArn=unknown)
        assert (error["code"], error["parameter"]) == ("NotFoundException", "clusterOperationArn")


def test_failed_operation_restores_settings_and_reports_error(kit, msk_emulator):
    arn = kit.create()
    msk_emulator.fail_next_operation(
        error_code="InternalFailure", error_string="broker 2 unhealthy"
    )
    failed_arn, provisioned = run(
        kit, msk_emulator, arn, "update_broker_type", TargetInstanceType="kafka.m5.xlarge"
    )
    assert provisioned["BrokerNodeGroupInfo"]["InstanceType"] == "kafka.m5.large"
    failed = kit.operation(failed_arn)
    assert failed["OperationState"] == "UPDATE_FAILED"
    assert failed["ErrorInfo"] == {
        "ErrorCode": "InternalFailure",
        "ErrorString": "broker 2 unhealthy",
    }
    assert "EndTime" in failed
    _, provisioned = run(
        kit, msk_emulator, arn, "update_broker_type", TargetInstanceType="kafka.m5.xlarge"
    )
    assert provisioned["BrokerNodeGroupInfo"]["InstanceType"] == "kafka.m5.xlarge"


def test_fault_injection_needs_code_and_text(msk_emulator):
    with pytest.raises(ValueError, match="non-empty"):
        msk_emulator.fail_next_operation(error_code="", error_string="x")


def test_settings_are_validated_all_or_nothing(msk_emulator):
    with pytest.raises(ValueError, match="non-negative"):
        msk_emulator.configure(operation_seconds=10, storage_cooldown_seconds=-1)
    with pytest.raises(ValueError, match="Unknown"):
        msk_emulator.configure(operation_minutes=1)
    with pytest.raises(TypeError, match="number"):
        msk_emulator.configure(operation_seconds="10")
    assert msk_emulator.settings.operation_seconds == 300
    with pytest.raises(ValueError, match="non-negative"):
        msk_emulator.clock.advance(-1)


def test_complete_operations_covers_every_region(kit, msk_emulator):
    here = kit.create()
    there_kafka = kit.session.client("kafka", region_name="us-west-2")
    there = there_kafka.create_cluster_v2(ClusterName="west", Provisioned=kit.provisioned())[
        "ClusterArn"
    ]
    kit.grow_storage(here, 200)
    version = there_kafka.describe_cluster_v2(ClusterArn=there)["ClusterInfo"]["CurrentVersion"]
    there_kafka.update_monitoring(
        ClusterArn=there, CurrentVersion=version, EnhancedMonitoring="PER_BROKER"
    )
    msk_emulator.complete_operations()
    assert kit.volume(here) == 200
    west = there_kafka.describe_cluster_v2(ClusterArn=there)["ClusterInfo"]
    assert (west["State"], west["Provisioned"]["EnhancedMonitoring"]) == ("ACTIVE", "PER_BROKER")


def test_reset_forgets_clusters_and_restores_defaults(kit, msk_emulator):
    kit.create()
    msk_emulator.configure(operation_seconds=5)
    msk_emulator.clock.advance(3600)
    msk_emulator.reset()
    assert kit.kafka.list_clusters_v2()["ClusterInfoList"] == []
    assert msk_emulator.settings.operation_seconds == 300
