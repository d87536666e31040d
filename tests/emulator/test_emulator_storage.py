"""UpdateBrokerStorage and UpdateStorage: MSK's storage rules, operations and the cool-down."""

import pytest

from msk_autopilot_local.emulator import seed_fleet

STALE = "The version of the cluster isn\u2019t current. Check the current version and try again."
TOO_SMALL = "To update storage, you must increase it by at least 10 GiB."
NO_UPDATE = (
    "The request does not include any updates to the EBS volumes of the cluster. "
    "Verify the request, then try again."
)


def storage_request(kit, arn, **volume):
    return {
        "ClusterArn": arn,
        "CurrentVersion": kit.version(arn),
        "TargetBrokerEBSVolumeInfo": [{"KafkaBrokerNodeId": "ALL", **volume}],
    }


def test_storage_update_runs_as_an_operation_then_applies(kit, msk_emulator):
    arn = kit.create()
    version_before = kit.version(arn)
    operation_arn = kit.grow_storage(arn, 110)
    running = kit.info(arn)
    assert running["State"] == "UPDATING"
    assert running["ActiveOperationArn"] == operation_arn
    assert running["CurrentVersion"] != version_before
    assert kit.volume(arn) == 100
    assert kit.operation(operation_arn)["OperationState"] == "UPDATE_IN_PROGRESS"
    msk_emulator.clock.advance(299)
    assert kit.info(arn)["State"] == "UPDATING"
    msk_emulator.clock.advance(1)
    done = kit.info(arn)
    assert done["State"] == "ACTIVE"
    assert "ActiveOperationArn" not in done
    assert done["CurrentVersion"] != running["CurrentVersion"]
    assert kit.volume(arn) == 110
    operation = kit.operation(operation_arn)
    assert operation["OperationState"] == "UPDATE_COMPLETE"
    assert operation["OperationType"] == "UPDATE_BROKER_STORAGE"
    assert (operation["EndTime"] - operation["StartTime"]).total_seconds() == 300
    assert (
        operation["Provisioned"]["SourceClusterInfo"]["BrokerEBSVolumeInfo"][0]["VolumeSizeGB"]
        == 100
    )
    assert (
        operation["Provisioned"]["TargetClusterInfo"]["BrokerEBSVolumeInfo"][0]["VolumeSizeGB"]
        == 110
    )


def test_operation_duration_is_configurable(kit, msk_emulator):
    msk_emulator.configure(operation_seconds=0)
    arn = kit.create()
    kit.grow_storage(arn, 200)
    assert kit.info(arn)["State"] == "ACTIVE"
    assert kit.volume(arn) == 200


@pytest.mark.parametrize(
    ("volume", "message", "parameter"),
    [
        ({"VolumeSizeGB": 109}, TOO_SMALL, "volumeSizeGB"),
        ({"VolumeSizeGB": 50}, TOO_SMALL, "volumeSizeGB"),
        ({"VolumeSizeGB": 100}, NO_UPDATE, "targetBrokerEBSVolumeInfo"),
        ({}, NO_UPDATE, "targetBrokerEBSVolumeInfo"),
        ({"VolumeSizeGB": 16385}, "at most 16384 GiB", "volumeSizeGB"),
    ],
)
def test_storage_size_rules(kit, expect_error, volume, message, parameter):
    arn = kit.create()
    error = expect_error(kit.kafka.update_broker_storage, **storage_request(kit, arn, **volume))
    assert (error["code"], error["status"], error["parameter"]) == (
        "BadRequestException",
        400,
        parameter,
    )
    assert message in error["message"]
    assert kit.info(arn)["State"] == "ACTIVE"
    assert kit.kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"] == []


def test_storage_can_reach_the_maximum(kit, msk_emulator):
    arn = kit.create()
    kit.grow_storage(arn, 16384)
    msk_emulator.complete_operations()
    assert kit.volume(arn) == 16384


@pytest.mark.parametrize(
    "volumes",
    [
        [{"KafkaBrokerNodeId": "1", "VolumeSizeGB": 200}],
        [
            {"KafkaBrokerNodeId": "ALL", "VolumeSizeGB": 200},
            {"KafkaBrokerNodeId": "ALL", "VolumeSizeGB": 300},
        ],
    ],
)
def test_only_one_all_entry_is_accepted(kit, expect_error, volumes):
    arn = kit.create()
    error = expect_error(
        kit.kafka.update_broker_storage,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        TargetBrokerEBSVolumeInfo=volumes,
    )
    assert error["parameter"] == "targetBrokerEBSVolumeInfo"


def test_stale_version_is_rejected_with_the_service_message(kit, expect_error):
    arn = kit.create()
    request = storage_request(kit, arn, VolumeSizeGB=200)
    kit.kafka.update_monitoring(
        ClusterArn=arn, CurrentVersion=request["CurrentVersion"], EnhancedMonitoring="PER_BROKER"
    )
    error = expect_error(kit.kafka.update_broker_storage, **request)
    assert (error["message"], error["parameter"]) == (STALE, "currentVersion")


def test_no_update_while_another_operation_runs(kit, expect_error):
    arn = kit.create()
    kit.kafka.update_monitoring(
        ClusterArn=arn, CurrentVersion=kit.version(arn), EnhancedMonitoring="PER_BROKER"
    )
    error = expect_error(
        kit.kafka.update_broker_storage, **storage_request(kit, arn, VolumeSizeGB=200)
    )
    assert error["code"] == "BadRequestException"
    assert "UPDATING" in error["message"]


def test_no_update_while_creating(kit, msk_emulator, expect_error):
    msk_emulator.configure(cluster_create_seconds=60)
    arn = kit.create()
    error = expect_error(
        kit.kafka.update_broker_storage, **storage_request(kit, arn, VolumeSizeGB=200)
    )
    assert "CREATING" in error["message"]


def test_cooldown_after_a_storage_change(kit, msk_emulator, expect_error):
    arn = kit.create()
    kit.grow_storage(arn, 200)
    msk_emulator.complete_operations()
    error = expect_error(
        kit.kafka.update_broker_storage, **storage_request(kit, arn, VolumeSizeGB=300)
    )
    assert "cool-down" in error["message"]
    msk_emulator.clock.advance(6 * 3600 - 5)
    error = expect_error(
        kit.kafka.update_broker_storage, **storage_request(kit, arn, VolumeSizeGB=300)
    )
    assert "cool-down" in error["message"]
    msk_emulator.clock.advance(5)
    kit.grow_storage(arn, 300)
    msk_emulator.complete_operations()
    assert kit.volume(arn) == 300


def test_cooldown_is_configurable_and_covers_update_storage(kit, msk_emulator, expect_error):
    msk_emulator.configure(storage_cooldown_seconds=60)
    arn = kit.create()
    kit.grow_storage(arn, 200)
    msk_emulator.complete_operations()
    error = expect_error(
        kit.kafka.update_storage, ClusterArn=arn, CurrentVersion=kit.version(arn), VolumeSizeGB=300
    )
    assert "cool-down" in error["message"]
    msk_emulator.clock.advance(60)
    kit.kafka.update_storage(ClusterArn=arn, CurrentVersion=kit.version(arn), VolumeSizeGB=300)


def test_failed_storage_operation_keeps_size_and_starts_no_cooldown(kit, msk_emulator):
    arn = kit.create()
    msk_emulator.fail_next_operation(error_code="InternalFailure", error_string="EBS volume busy")
    failed = kit.grow_storage(arn, 200)
    msk_emulator.complete_operations()
    operation = kit.operation(failed)
    assert operation["OperationState"] == "UPDATE_FAILED"
    assert operation["ErrorInfo"] == {
        "ErrorCode": "InternalFailure",
        "ErrorString": "EBS volume busy",
    }
    assert kit.info(arn)["State"] == "ACTIVE"
    assert kit.volume(arn) == 100
    kit.grow_storage(arn, 200)
    msk_emulator.complete_operations()
    assert kit.volume(arn) == 200


@pytest.mark.parametrize(
    ("instance_type", "throughput"),
    [
        ("kafka.m5.4xlarge", 593),
        ("kafka.m5.8xlarge", 850),
        ("kafka.m5.24xlarge", 1000),
        ("kafka.m7g.2xlarge", 312),
        ("kafka.m7g.4xlarge", 625),
        ("kafka.m7g.16xlarge", 1000),
    ],
)
def test_provisioned_throughput_up_to_the_type_maximum(
    kit, msk_emulator, expect_error, instance_type, throughput
):
    arn = kit.create(InstanceType=instance_type)
    too_much = {"Enabled": True, "VolumeThroughput": throughput + 1}
    error = expect_error(
        kit.kafka.update_broker_storage, **storage_request(kit, arn, ProvisionedThroughput=too_much)
    )
    assert error["parameter"] == "provisionedThroughput.volumeThroughput"
    enough = {"Enabled": True, "VolumeThroughput": throughput}
    kit.kafka.update_broker_storage(**storage_request(kit, arn, ProvisionedThroughput=enough))
    msk_emulator.complete_operations()
    ebs = kit.info(arn)["Provisioned"]["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]
    assert ebs["ProvisionedThroughput"] == enough


@pytest.mark.parametrize(
    "instance_type", ["kafka.m5.2xlarge", "kafka.m7g.xlarge", "kafka.t3.small"]
)
def test_provisioned_throughput_needs_a_large_broker(kit, expect_error, instance_type):
    arn = kit.create(InstanceType=instance_type)
    error = expect_error(
        kit.kafka.update_storage,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ProvisionedThroughput={"Enabled": True, "VolumeThroughput": 250},
    )
    assert error["parameter"] == "provisionedThroughput"
    assert instance_type in error["message"]


def test_provisioned_throughput_minimum(kit, expect_error):
    arn = kit.create(InstanceType="kafka.m5.4xlarge")
    error = expect_error(
        kit.kafka.update_storage,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ProvisionedThroughput={"Enabled": True, "VolumeThroughput": 249},
    )
    assert "between 250 and 593" in error["message"]


def test_update_storage_changes_size_throughput_and_mode(kit, msk_emulator):
    arn = kit.create(InstanceType="kafka.m5.4xlarge")
    operation_arn = kit.kafka.update_storage(
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        VolumeSizeGB=500,
        ProvisionedThroughput={"Enabled": True, "VolumeThroughput": 400},
        StorageMode="TIERED",
    )["ClusterOperationArn"]
    assert kit.operation(operation_arn)["OperationType"] == "UPDATE_STORAGE"
    msk_emulator.complete_operations()
    provisioned = kit.info(arn)["Provisioned"]
    assert provisioned["StorageMode"] == "TIERED"
    ebs = provisioned["BrokerNodeGroupInfo"]["StorageInfo"]["EbsStorageInfo"]
    assert ebs == {
        "VolumeSize": 500,
        "ProvisionedThroughput": {"Enabled": True, "VolumeThroughput": 400},
    }


def test_storage_mode_change_alone_has_no_cooldown(kit, msk_emulator):
    arn = kit.create()
    kit.grow_storage(arn, 200)
    msk_emulator.complete_operations()
    kit.kafka.update_storage(ClusterArn=arn, CurrentVersion=kit.version(arn), StorageMode="TIERED")
    msk_emulator.complete_operations()
    assert kit.info(arn)["Provisioned"]["StorageMode"] == "TIERED"


@pytest.mark.parametrize("cluster", [{"kafkaVersion": "3.5.1"}, {"instanceType": "kafka.t3.small"}])
def test_tiered_storage_prerequisites(kit, expect_error, cluster):
    # 3.5.1 is past end of support: only the fleet seed still places a cluster on it.
    fleet = seed_fleet({"kafka": kit.kafka}, {"clusters": [{"name": "orders", **cluster}]})
    arn = fleet.clusters["orders"]
    error = expect_error(
        kit.kafka.update_storage,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        StorageMode="TIERED",
    )
    assert "Tiered storage" in error["message"]


def test_update_storage_without_changes_is_rejected(kit, expect_error):
    arn = kit.create()
    error = expect_error(
        kit.kafka.update_storage,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        StorageMode="LOCAL",
    )
    assert error["message"] == NO_UPDATE


def test_express_brokers_have_no_ebs_storage(kit, expect_error):
    request = kit.provisioned(InstanceType="express.m7g.large")
    del request["BrokerNodeGroupInfo"]["StorageInfo"]
    arn = kit.kafka.create_cluster_v2(ClusterName="express", Provisioned=request)["ClusterArn"]
    assert "StorageInfo" not in kit.info(arn)["Provisioned"]["BrokerNodeGroupInfo"]
    error = expect_error(
        kit.kafka.update_broker_storage, **storage_request(kit, arn, VolumeSizeGB=200)
    )
    assert "Express" in error["message"]
    with_storage = kit.provisioned(InstanceType="express.m7g.large")
    error = expect_error(
        kit.kafka.create_cluster_v2, ClusterName="express2", Provisioned=with_storage
    )
    assert error["parameter"] == "brokerNodeGroupInfo.storageInfo"


def test_serverless_cluster_has_no_storage_updates(kit, expect_error):
    arn = kit.kafka.create_cluster_v2(
        ClusterName="events",
        Serverless={
            "VpcConfigs": [{"SubnetIds": ["subnet-1", "subnet-2"]}],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    )["ClusterArn"]
    error = expect_error(
        kit.kafka.update_broker_storage,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "ALL", "VolumeSizeGB": 200}],
    )
    assert "serverless" in error["message"]
