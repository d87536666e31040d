"""Kafka versions: the catalogue MSK lists, creation on supported versions only (the seed aside),
GetCompatibleKafkaVersions and UpdateClusterKafkaVersion with MSK's rules.

The emulator's day is 2026-12-05 or later here: 3.7.x (end of support 2026-09-01) and every
older version are past support.
"""

from datetime import date

import pytest

from msk_autopilot.versions.catalogue import BUILT_IN, is_kraft, version_key
from msk_autopilot.versions.paths import upgrade_path
from msk_autopilot_local.emulator import catalog, seed_fleet

OFFERED = ["3.8.x", "3.8.x.kraft", "3.9.x", "3.9.x.kraft", "4.0.x.kraft", "4.1.x.kraft"]
PROPERTIES = b"auto.create.topics.enable=false\n"


def seed(kit, **clusters):
    """Clusters by name, each from its fleet-file keys; the seed may use versions past support."""
    spec = {"clusters": [{"name": name, **keys} for name, keys in clusters.items()]}
    return seed_fleet({"kafka": kit.kafka}, spec).clusters


def configuration(kit, name, versions):
    return kit.kafka.create_configuration(
        Name=name, KafkaVersions=versions, ServerProperties=PROPERTIES
    )["Arn"]


def upgrade(kit, arn, target, **arguments):
    return kit.kafka.update_cluster_kafka_version(
        ClusterArn=arn, CurrentVersion=kit.version(arn), TargetKafkaVersion=target, **arguments
    )["ClusterOperationArn"]


def refusal(kit, expect_error, arn, target, **arguments):
    error = expect_error(
        kit.kafka.update_cluster_kafka_version,
        ClusterArn=arn,
        CurrentVersion=arguments.pop("CurrentVersion", None) or kit.version(arn),
        TargetKafkaVersion=target,
        **arguments,
    )
    assert error["code"] == "BadRequestException"
    return error


def kafka_version(kit, arn):
    return kit.info(arn)["Provisioned"]["CurrentBrokerSoftwareInfo"]["KafkaVersion"]


# ----------------------------------------------------------------------- catalogue
def test_list_kafka_versions_is_the_core_catalogue_with_past_support_deprecated(kit):
    listed = kit.kafka.list_kafka_versions()["KafkaVersions"]
    assert [v["Version"] for v in listed] == list(BUILT_IN)
    status = {v["Version"]: v["Status"] for v in listed}
    for past in ("2.8.2.tiered", "3.4.0", "3.5.1", "3.6.0", "3.7.x", "3.7.x.kraft", "1.1.1"):
        assert status[past] == "DEPRECATED", past
    assert [version for version, state in status.items() if state == "ACTIVE"] == OFFERED
    page = kit.kafka.list_kafka_versions(MaxResults=5)
    assert len(page["KafkaVersions"]) == 5
    assert "NextToken" in page


def test_a_version_is_deprecated_from_its_end_of_support_date_on():
    before = dict(catalog.kafka_versions(date(2026, 8, 31)))
    on_the_day = dict(catalog.kafka_versions(date(2026, 9, 1)))
    assert before["3.7.x"] == before["3.7.x.kraft"] == "ACTIVE"
    assert before["3.6.0"] == "DEPRECATED"
    assert on_the_day["3.7.x"] == on_the_day["3.7.x.kraft"] == "DEPRECATED"
    assert on_the_day["3.8.x"] == "ACTIVE"


# ------------------------------------------------------------- creation vs seed
@pytest.mark.parametrize("version", ["3.6.0", "3.7.x", "2.8.2.tiered", "9.9.9"])
def test_clusters_are_created_on_offered_versions_only(kit, expect_error, version):
    error = expect_error(
        kit.kafka.create_cluster_v2,
        ClusterName="orders",
        Provisioned=kit.provisioned(KafkaVersion=version),
    )
    assert error["parameter"] == "kafkaVersion"
    assert error["message"] == (
        f"Unsupported KafkaVersion [{version}]. Valid values: [{', '.join(OFFERED)}]"
    )
    v1_request = kit.provisioned(KafkaVersion=version)
    v1 = expect_error(kit.kafka.create_cluster, ClusterName="orders", **v1_request)
    assert v1["parameter"] == "kafkaVersion"
    listing = expect_error(
        kit.kafka.create_configuration,
        Name="base",
        KafkaVersions=["3.8.x", version],
        ServerProperties=PROPERTIES,
    )
    assert (listing["parameter"], version in listing["message"]) == ("kafkaVersions", True)
    assert kit.kafka.list_clusters_v2()["ClusterInfoList"] == []
    assert kit.kafka.list_configurations()["Configurations"] == []


def test_the_seed_places_clusters_and_configurations_on_versions_past_support(kit):
    fleet = seed_fleet(
        {"kafka": kit.kafka},
        {
            "configurations": [
                {"name": "old", "kafkaVersions": ["3.6.0"], "serverProperties": "a=b\n"}
            ],
            "clusters": [
                {"name": "legacy", "kafkaVersion": "3.6.0", "configuration": "old"},
                {"name": "tiered", "kafkaVersion": "2.8.2.tiered"},
            ],
        },
    )
    assert kafka_version(kit, fleet.clusters["legacy"]) == "3.6.0"
    assert kafka_version(kit, fleet.clusters["tiered"]) == "2.8.2.tiered"
    assert kit.kafka.describe_configuration(Arn=fleet.configurations["old"])["KafkaVersions"] == [
        "3.6.0"
    ]
    # The permission was the seed's requests' only: the same client creates as MSK does again.
    with pytest.raises(kit.kafka.exceptions.BadRequestException):
        kit.kafka.create_cluster_v2(
            ClusterName="again", Provisioned=kit.provisioned(KafkaVersion="3.6.0")
        )


def test_the_seed_still_refuses_a_version_msk_never_offered(kit):
    with pytest.raises(kit.kafka.exceptions.BadRequestException, match=r"\[9\.9\.9\]"):
        seed(kit, odd={"kafkaVersion": "9.9.9"})


# ---------------------------------------------------- GetCompatibleKafkaVersions
def test_compatible_versions_per_cluster(kit):
    clusters = seed(
        kit,
        zk36={"kafkaVersion": "3.6.0"},
        zk38={"kafkaVersion": "3.8.x"},
        zk39={"kafkaVersion": "3.9.x"},
        kraft39={"kafkaVersion": "3.9.x.kraft"},
        kraft41={"kafkaVersion": "4.1.x.kraft"},
        tiered={"kafkaVersion": "2.8.2.tiered"},
    )
    expected = {
        "zk36": ("3.6.0", ["3.8.x", "3.9.x"]),
        "zk38": ("3.8.x", ["3.9.x"]),
        "zk39": ("3.9.x", ["3.9.x.kraft"]),
        "kraft39": ("3.9.x.kraft", ["4.0.x.kraft", "4.1.x.kraft"]),
        "kraft41": ("4.1.x.kraft", []),
        "tiered": ("2.8.2.tiered", ["3.8.x", "3.9.x"]),
    }
    for name, (source, targets) in expected.items():
        listed = kit.kafka.get_compatible_kafka_versions(ClusterArn=clusters[name])
        assert listed["CompatibleKafkaVersions"] == [
            {"SourceVersion": source, "TargetVersions": targets}
        ], name


def test_compatible_versions_of_every_version(kit):
    pairs = kit.kafka.get_compatible_kafka_versions()["CompatibleKafkaVersions"]
    graph = {pair["SourceVersion"]: pair["TargetVersions"] for pair in pairs}
    assert list(graph) == list(BUILT_IN)
    for source, targets in graph.items():
        for target in targets:
            assert target in OFFERED, (source, target)
            assert version_key(target) >= version_key(source), (source, target)
            assert not (is_kraft(source) and not is_kraft(target)), (source, target)
            if is_kraft(target) and not is_kraft(source):
                assert (source, target) == ("3.9.x", "3.9.x.kraft")
    # From an old ZooKeeper version the KRaft line takes several hops, through 3.9.x.
    assert upgrade_path(graph, "3.6.0", "4.1.x.kraft") == ("3.9.x", "3.9.x.kraft", "4.1.x.kraft")
    assert upgrade_path(graph, "2.2.1", "3.8.x") == ("3.8.x",)
    assert upgrade_path(graph, "3.8.x.kraft", "3.9.x") is None


# ------------------------------------------------------- UpdateClusterKafkaVersion
def test_upgrade_runs_on_the_clock_and_ends_on_the_new_version(kit, msk_emulator):
    arn = seed(kit, legacy={"kafkaVersion": "3.6.0"})["legacy"]
    operation_arn = upgrade(kit, arn, "3.9.x")
    during = kit.info(arn)
    assert (during["State"], kafka_version(kit, arn)) == ("UPDATING", "3.6.0")
    msk_emulator.clock.advance(msk_emulator.settings.operation_seconds - 1)
    assert kit.info(arn)["State"] == "UPDATING"
    msk_emulator.clock.advance(1)
    assert (kit.info(arn)["State"], kafka_version(kit, arn)) == ("ACTIVE", "3.9.x")
    nodes = kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert {n["BrokerNodeInfo"]["CurrentBrokerSoftwareInfo"]["KafkaVersion"] for n in nodes} == {
        "3.9.x"
    }
    operation = kit.operation(operation_arn)
    assert operation["OperationType"] == "UPDATE_CLUSTER_KAFKA_VERSION"
    assert operation["OperationState"] == "UPDATE_COMPLETE"
    assert operation["Provisioned"]["SourceClusterInfo"]["KafkaVersion"] == "3.6.0"
    assert operation["Provisioned"]["TargetClusterInfo"]["KafkaVersion"] == "3.9.x"


def test_zookeeper_cluster_on_3_9_migrates_to_kraft_in_place(kit, msk_emulator):
    arn = seed(kit, events={"kafkaVersion": "3.9.x"})["events"]
    assert "ZookeeperConnectString" in kit.info(arn)["Provisioned"]
    upgrade(kit, arn, "3.9.x.kraft")
    msk_emulator.complete_operations()
    assert kafka_version(kit, arn) == "3.9.x.kraft"
    assert "ZookeeperConnectString" not in kit.info(arn)["Provisioned"]
    upgrade(kit, arn, "4.1.x.kraft")
    msk_emulator.complete_operations()
    assert kafka_version(kit, arn) == "4.1.x.kraft"


def test_upgrade_needs_an_active_cluster_and_its_current_version(kit, msk_emulator, expect_error):
    arn = seed(kit, legacy={"kafkaVersion": "3.6.0"})["legacy"]
    stale = kit.version(arn)
    kit.kafka.update_monitoring(
        ClusterArn=arn, CurrentVersion=stale, EnhancedMonitoring="PER_BROKER"
    )
    busy = refusal(kit, expect_error, arn, "3.8.x")
    assert "UPDATING" in busy["message"]
    msk_emulator.complete_operations()
    error = refusal(kit, expect_error, arn, "3.8.x", CurrentVersion=stale)
    assert error["parameter"] == "currentVersion"
    msk_emulator.start_maintenance(arn)
    patching = refusal(kit, expect_error, arn, "3.8.x")
    assert "MAINTENANCE" in patching["message"]
    assert kafka_version(kit, arn) == "3.6.0"


@pytest.mark.parametrize(
    ("source", "target", "fragment"),
    [
        ("3.9.x", "3.8.x", "downgrade"),
        ("3.9.x.kraft", "3.9.x", "downgrade"),
        ("4.0.x.kraft", "3.9.x.kraft", "downgrade"),
        ("3.6.0", "3.9.x.kraft", "Compatible versions: [3.8.x, 3.9.x]"),
        ("3.6.0", "4.0.x.kraft", "Compatible versions: [3.8.x, 3.9.x]"),
        ("3.5.1", "3.7.x", "Compatible versions: [3.8.x, 3.9.x]"),
        ("3.8.x", "3.8.x", "already runs"),
        ("3.8.x", "9.9.9", "Compatible versions: [3.9.x]"),
    ],
)
def test_upgrade_only_to_a_listed_newer_version(kit, expect_error, source, target, fragment):
    arn = seed(kit, orders={"kafkaVersion": source})["orders"]
    error = refusal(kit, expect_error, arn, target)
    assert error["parameter"] == "targetKafkaVersion"
    assert fragment in error["message"]
    operations = kit.kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
    assert all(op["OperationType"] != "UPDATE_CLUSTER_KAFKA_VERSION" for op in operations)


def test_upgrade_is_refused_above_the_partition_maximum_of_the_broker_size(
    kit, msk_emulator, expect_error
):
    # kafka.m5.large: at most 1500 partitions per broker, replicas included (REFERENCE.md).
    health = {"brokers": {2: {"partitionCount": 1501}}}
    arn = seed(kit, busy={"kafkaVersion": "3.8.x", "health": health})["busy"]
    error = refusal(kit, expect_error, arn, "3.9.x")
    assert "1501" in error["message"]
    assert "1500" in error["message"]
    assert "kafka.m5.large" in error["message"]
    msk_emulator.set_cluster_health(arn, broker=2, partition_count=1500)
    upgrade(kit, arn, "3.9.x")
    msk_emulator.complete_operations()
    assert kafka_version(kit, arn) == "3.9.x"


def test_upgrade_needs_a_configuration_that_lists_the_target(kit, msk_emulator, expect_error):
    pinned = configuration(kit, "pinned", ["3.8.x"])
    both = configuration(kit, "both", ["3.8.x", "3.9.x"])
    arn = kit.create(ConfigurationInfo={"Arn": pinned, "Revision": 1})
    error = refusal(kit, expect_error, arn, "3.9.x")
    assert error["message"] == (
        "The cluster's configuration (revision 1) supports Apache Kafka [3.8.x], not 3.9.x."
    )
    passed = refusal(
        kit, expect_error, arn, "3.9.x", ConfigurationInfo={"Arn": pinned, "Revision": 1}
    )
    assert passed["parameter"] == "configurationInfo.arn"
    operation_arn = upgrade(kit, arn, "3.9.x", ConfigurationInfo={"Arn": both, "Revision": 1})
    msk_emulator.complete_operations()
    software = kit.info(arn)["Provisioned"]["CurrentBrokerSoftwareInfo"]
    assert software == {
        "ConfigurationArn": both,
        "ConfigurationRevision": 1,
        "KafkaVersion": "3.9.x",
    }
    target = kit.operation(operation_arn)["Provisioned"]["TargetClusterInfo"]
    assert target["ConfigurationInfo"] == {"Arn": both, "Revision": 1}


def test_a_configuration_without_versions_applies_to_every_version(kit, msk_emulator):
    anything = configuration(kit, "anything", [])
    arn = kit.create(ConfigurationInfo={"Arn": anything, "Revision": 1})
    upgrade(kit, arn, "3.9.x")
    msk_emulator.complete_operations()
    assert kafka_version(kit, arn) == "3.9.x"


def test_a_failed_upgrade_keeps_the_version_and_configuration(kit, msk_emulator):
    old = configuration(kit, "old", ["3.8.x"])
    new = configuration(kit, "new", ["3.9.x"])
    arn = kit.create(ConfigurationInfo={"Arn": old, "Revision": 1})
    msk_emulator.fail_next_operation(error_code="InternalFailure", error_string="broker 2 stuck")
    failed = upgrade(kit, arn, "3.9.x", ConfigurationInfo={"Arn": new, "Revision": 1})
    msk_emulator.complete_operations()
    operation = kit.operation(failed)
    assert operation["OperationState"] == "UPDATE_FAILED"
    assert operation["ErrorInfo"] == {
        "ErrorCode": "InternalFailure",
        "ErrorString": "broker 2 stuck",
    }
    software = kit.info(arn)["Provisioned"]["CurrentBrokerSoftwareInfo"]
    assert software == {
        "ConfigurationArn": old,
        "ConfigurationRevision": 1,
        "KafkaVersion": "3.8.x",
    }
    assert kit.info(arn)["State"] == "ACTIVE"
    upgrade(kit, arn, "3.9.x", ConfigurationInfo={"Arn": new, "Revision": 1})
    msk_emulator.complete_operations()
    assert kafka_version(kit, arn) == "3.9.x"
