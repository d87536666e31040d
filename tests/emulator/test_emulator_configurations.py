"""Configurations, their revisions, and clusters using them."""

import re

import pytest

PROPERTIES = b"auto.create.topics.enable=false\nmin.insync.replicas=2\n"


@pytest.fixture
def configuration(kit):
    response = kit.kafka.create_configuration(
        Name="base", KafkaVersions=["3.8.x"], ServerProperties=PROPERTIES, Description="first"
    )
    return response["Arn"]


def test_create_configuration_returns_revision_one(kit):
    response = kit.kafka.create_configuration(
        Name="base", KafkaVersions=["3.8.x"], ServerProperties=PROPERTIES, Description="first"
    )
    assert re.match(
        r"^arn:aws:kafka:eu-west-1:123456789012:configuration/base/[0-9a-f-]{36}-\d+$",
        response["Arn"],
    )
    assert response["LatestRevision"]["Revision"] == 1
    assert response["LatestRevision"]["Description"] == "first"
    assert response["State"] == "ACTIVE"
    assert response["Name"] == "base"


def test_update_adds_revisions_and_each_keeps_its_properties(kit, configuration):
    second = b"auto.create.topics.enable=true\n"
    updated = kit.kafka.update_configuration(
        Arn=configuration, ServerProperties=second, Description="second"
    )
    assert updated["LatestRevision"]["Revision"] == 2
    described = kit.kafka.describe_configuration(Arn=configuration)
    assert described["LatestRevision"]["Revision"] == 2
    assert described["Description"] == "first"
    assert described["KafkaVersions"] == ["3.8.x"]
    first = kit.kafka.describe_configuration_revision(Arn=configuration, Revision=1)
    assert first["ServerProperties"] == PROPERTIES
    latest = kit.kafka.describe_configuration_revision(Arn=configuration, Revision=2)
    assert (latest["ServerProperties"], latest["Description"]) == (second, "second")
    revisions = kit.kafka.list_configuration_revisions(Arn=configuration)["Revisions"]
    assert [r["Revision"] for r in revisions] == [1, 2]


def test_list_configurations_paginates(kit):
    for name in ("a", "b", "c"):
        kit.kafka.create_configuration(Name=name, ServerProperties=PROPERTIES)
    first = kit.kafka.list_configurations(MaxResults=2)
    second = kit.kafka.list_configurations(MaxResults=2, NextToken=first["NextToken"])
    names = [c["Name"] for c in first["Configurations"] + second["Configurations"]]
    assert names == ["a", "b", "c"]


@pytest.mark.parametrize(
    "properties",
    [b"no-equals-sign\n", b"=value-without-key\n", b"good=1\n   =x\n", b"\xff\xfe=1"],
)
def test_invalid_server_properties_are_rejected(kit, expect_error, properties):
    error = expect_error(kit.kafka.create_configuration, Name="bad", ServerProperties=properties)
    assert (error["code"], error["parameter"]) == ("BadRequestException", "serverProperties")
    assert kit.kafka.list_configurations()["Configurations"] == []


def test_comments_and_blank_lines_are_fine(kit):
    kit.kafka.create_configuration(
        Name="commented", ServerProperties=b"# comment\n! also a comment\n\nkey=value\n"
    )


def test_update_with_invalid_properties_adds_no_revision(kit, configuration, expect_error):
    error = expect_error(kit.kafka.update_configuration, Arn=configuration, ServerProperties=b"x")
    assert error["parameter"] == "serverProperties"
    assert kit.kafka.describe_configuration(Arn=configuration)["LatestRevision"]["Revision"] == 1


def test_configuration_name_rules(kit, configuration, expect_error):
    error = expect_error(kit.kafka.create_configuration, Name="base", ServerProperties=PROPERTIES)
    assert (error["code"], error["status"]) == ("ConflictException", 409)
    error = expect_error(
        kit.kafka.create_configuration, Name="has space", ServerProperties=PROPERTIES
    )
    assert error["parameter"] == "name"
    error = expect_error(
        kit.kafka.create_configuration, Name="v", ServerProperties=PROPERTIES, KafkaVersions=["0.1"]
    )
    assert error["parameter"] == "kafkaVersions"


@pytest.mark.parametrize(
    ("operation", "arguments"),
    [
        ("describe_configuration", {}),
        ("list_configuration_revisions", {}),
        ("delete_configuration", {}),
        ("update_configuration", {"ServerProperties": PROPERTIES}),
        ("describe_configuration_revision", {"Revision": 1}),
    ],
)
def test_unknown_configuration_is_not_found(kit, expect_error, operation, arguments):
    unknown = (
        "arn:aws:kafka:eu-west-1:123456789012:configuration/ghost/"
        "00000000-0000-0000-0000-000000000000-1"
    )
    error = expect_error(getattr(kit.kafka, operation), Arn=unknown, **arguments)
    assert (error["code"], error["status"]) == ("NotFoundException", 404)


def test_unknown_revision_is_not_found(kit, configuration, expect_error):
    error = expect_error(kit.kafka.describe_configuration_revision, Arn=configuration, Revision=2)
    assert (error["code"], error["parameter"]) == ("NotFoundException", "revision")


def test_cluster_created_with_a_configuration_reports_it(kit, configuration):
    arn = kit.create(ConfigurationInfo={"Arn": configuration, "Revision": 1})
    software = kit.info(arn)["Provisioned"]["CurrentBrokerSoftwareInfo"]
    assert software == {
        "ConfigurationArn": configuration,
        "ConfigurationRevision": 1,
        "KafkaVersion": "3.8.x",
    }
    nodes = kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert (
        nodes[0]["BrokerNodeInfo"]["CurrentBrokerSoftwareInfo"]["ConfigurationArn"] == configuration
    )


def test_update_cluster_configuration_applies_when_the_operation_completes(
    kit, msk_emulator, configuration
):
    arn = kit.create(ConfigurationInfo={"Arn": configuration, "Revision": 1})
    kit.kafka.update_configuration(Arn=configuration, ServerProperties=b"log.retention.hours=48\n")
    operation_arn = kit.kafka.update_cluster_configuration(
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ConfigurationInfo={"Arn": configuration, "Revision": 2},
    )["ClusterOperationArn"]
    software = kit.info(arn)["Provisioned"]["CurrentBrokerSoftwareInfo"]
    assert (kit.info(arn)["State"], software["ConfigurationRevision"]) == ("UPDATING", 1)
    msk_emulator.complete_operations()
    software = kit.info(arn)["Provisioned"]["CurrentBrokerSoftwareInfo"]
    assert (kit.info(arn)["State"], software["ConfigurationRevision"]) == ("ACTIVE", 2)
    operation = kit.operation(operation_arn)
    assert operation["OperationType"] == "UPDATE_CLUSTER_CONFIGURATION"
    assert operation["Provisioned"]["SourceClusterInfo"]["ConfigurationInfo"]["Revision"] == 1
    assert operation["Provisioned"]["TargetClusterInfo"]["ConfigurationInfo"]["Revision"] == 2


@pytest.mark.parametrize(
    ("configuration_info", "parameter"),
    [
        ({"Revision": 5}, "configurationInfo.revision"),
        (
            {
                "Arn": "arn:aws:kafka:eu-west-1:123456789012:configuration/ghost/0000-1",
                "Revision": 1,
            },
            "configurationInfo.arn",
        ),
        ({"Arn": "not-an-arn", "Revision": 1}, "configurationInfo.arn"),
    ],
)
def test_update_cluster_configuration_checks_the_configuration(
    kit, configuration, expect_error, configuration_info, parameter
):
    arn = kit.create()
    error = expect_error(
        kit.kafka.update_cluster_configuration,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ConfigurationInfo={"Arn": configuration, **configuration_info},
    )
    assert (error["code"], error["parameter"]) == ("BadRequestException", parameter)
    assert kit.info(arn)["State"] == "ACTIVE"


def test_configuration_for_another_kafka_version_is_refused(kit, configuration, expect_error):
    arn = kit.create(KafkaVersion="3.9.x")
    error = expect_error(
        kit.kafka.update_cluster_configuration,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ConfigurationInfo={"Arn": configuration, "Revision": 1},
    )
    assert "3.9.x" in error["message"]


def test_same_configuration_revision_is_no_update(kit, configuration, expect_error):
    arn = kit.create(ConfigurationInfo={"Arn": configuration, "Revision": 1})
    error = expect_error(
        kit.kafka.update_cluster_configuration,
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ConfigurationInfo={"Arn": configuration, "Revision": 1},
    )
    assert error["code"] == "BadRequestException"


def test_create_with_unknown_configuration_creates_nothing(kit, expect_error):
    error = expect_error(
        kit.kafka.create_cluster_v2,
        ClusterName="orders",
        Provisioned=kit.provisioned(
            ConfigurationInfo={
                "Arn": "arn:aws:kafka:eu-west-1:123456789012:configuration/ghost/0-1",
                "Revision": 1,
            }
        ),
    )
    assert error["parameter"] == "configurationInfo.arn"
    assert kit.kafka.list_clusters_v2()["ClusterInfoList"] == []


def test_delete_configuration_refused_while_in_use(kit, msk_emulator, configuration, expect_error):
    arn = kit.create(ConfigurationInfo={"Arn": configuration, "Revision": 1})
    error = expect_error(kit.kafka.delete_configuration, Arn=configuration)
    assert "orders" in error["message"]
    kit.kafka.delete_cluster(ClusterArn=arn)
    deleted = kit.kafka.delete_configuration(Arn=configuration)
    assert deleted["State"] == "DELETING"
    assert kit.kafka.list_configurations()["Configurations"] == []


def test_delete_configuration_refused_while_a_cluster_moves_to_it(kit, configuration, expect_error):
    arn = kit.create()
    kit.kafka.update_cluster_configuration(
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ConfigurationInfo={"Arn": configuration, "Revision": 1},
    )
    error = expect_error(kit.kafka.delete_configuration, Arn=configuration)
    assert error["code"] == "BadRequestException"
