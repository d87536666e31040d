"""The MSK port against the emulator: typed snapshots and the one guarded update path."""

import boto3
import pytest

from msk_autopilot.health.change import ChangeKind
from msk_autopilot.msk import ClusterNotFoundError, MskPort, MskReader, UpdateStatus
from msk_autopilot_local.emulator import seed_fleet

GHOST = "arn:aws:kafka:us-east-1:123456789012:cluster/ghost/00000000-0000-0000-0000-000000000000-1"


@pytest.fixture
def kafka(monkeypatch, msk_emulator):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return boto3.client("kafka", region_name="us-east-1")


@pytest.fixture
def orders(kafka) -> str:
    spec = {
        "clusters": [
            {
                "name": "orders",
                "brokers": 3,
                "volumeSizeGiB": 500,
                "instanceType": "kafka.m5.4xlarge",
                "subnets": ["subnet-a", "subnet-b", "subnet-c"],
                "encryption": {"clientBroker": "TLS", "inCluster": True},
                "authentication": {"iam": True, "scram": True},
                "enhancedMonitoring": "PER_BROKER",
                "logging": {"cloudWatchLogGroup": "msk-orders"},
                "tags": {"team": "payments", "msk-autopilot:managed": "true"},
            }
        ]
    }
    return seed_fleet(
        {
            "kafka": kafka,
            "kms": boto3.client("kms", region_name="us-east-1"),
            "secretsmanager": boto3.client("secretsmanager", region_name="us-east-1"),
        },
        spec,
    ).clusters["orders"]


def grow(port: MskPort, arn: str, size: int, *, dry_run: bool = False):
    parameters = {"TargetBrokerEBSVolumeInfo": [{"KafkaBrokerNodeId": "ALL", "VolumeSizeGB": size}]}
    return port.update(
        arn,
        "UpdateBrokerStorage",
        parameters,
        change=ChangeKind.STORAGE_GROWTH,
        reason="test",
        dry_run=dry_run,
    )


def test_snapshots_carry_what_the_functions_read(kafka, orders):
    (cluster,) = list(MskReader(kafka).clusters())
    assert cluster.cluster_arn == orders
    assert cluster.state == "ACTIVE"
    assert cluster.volume_gib == 500
    assert cluster.broker_ids == ["1", "2", "3"]
    assert cluster.opted_in("msk-autopilot:managed")
    assert not cluster.opted_in("other")
    provisioned = cluster.provisioned
    assert provisioned.broker_node_group_info.instance_type == "kafka.m5.4xlarge"
    assert provisioned.encryption_info.encryption_in_transit.client_broker == "TLS"
    assert provisioned.client_authentication.sasl.scram.enabled
    assert provisioned.client_authentication.sasl.iam.enabled
    assert provisioned.enhanced_monitoring == "PER_BROKER"
    assert provisioned.logging_info.broker_logs.cloud_watch_logs.enabled
    assert MskReader(kafka).cluster(orders) == cluster


def test_unknown_clusters_are_typed(kafka, gated_msk):
    with pytest.raises(ClusterNotFoundError):
        MskReader(kafka).cluster(GHOST)
    assert grow(gated_msk, GHOST, 600).status is UpdateStatus.NOT_FOUND


def test_an_update_starts_an_operation_and_a_second_one_waits(orders, msk_emulator, gated_msk):
    port = gated_msk
    first = grow(port, orders, 600)
    assert first.status is UpdateStatus.STARTED
    assert first.operation_arn
    (operation,) = [op for op in port.operations(orders) if op.running]
    assert operation.operation_type == "UPDATE_BROKER_STORAGE"
    second = grow(port, orders, 700)
    assert second.status is UpdateStatus.NOT_READY
    assert "UPDATING" in second.reason
    msk_emulator.complete_operations()
    assert port.cluster(orders).volume_gib == 600
    assert not any(op.running for op in port.operations(orders))


def test_dry_run_changes_nothing(orders, gated_msk):
    port = gated_msk
    assert grow(port, orders, 600, dry_run=True).status is UpdateStatus.DRY_RUN
    types = {op.operation_type for op in port.operations(orders)}
    assert "UPDATE_BROKER_STORAGE" not in types
    assert port.cluster(orders).volume_gib == 500


def test_requests_msk_refuses_are_rejected_with_its_message(orders, gated_msk):
    result = grow(gated_msk, orders, 505)
    assert result.status is UpdateStatus.REJECTED
    assert "at least 10 GiB" in result.reason


def test_a_stale_version_is_a_conflict(kafka, orders, monkeypatch, gated_msk):
    port = gated_msk
    stale = port.cluster(orders)
    kafka.update_monitoring(  # someone else changes the cluster after our read
        ClusterArn=orders, CurrentVersion=stale.current_version, EnhancedMonitoring="DEFAULT"
    )
    monkeypatch.setattr(port, "cluster", lambda arn: stale)
    monkeypatch.setattr(port, "operations", lambda arn: [])
    result = grow(port, orders, 600)
    assert result.status is UpdateStatus.CONFLICT


def test_a_configuration_with_no_revision_left_is_refused_before_the_call(kafka, gated_msk):
    """MSK keeps at most 50 revisions per configuration: the port says so and what to do,
    without sending UpdateConfiguration; one revision short, the write goes through."""
    created = kafka.create_configuration(
        Name="msk-autopilot-orders", ServerProperties=b"auto.create.topics.enable=false\n"
    )
    arn = created["Arn"]
    for _ in range(48):  # revisions 2..49
        kafka.update_configuration(Arn=arn, ServerProperties=b"auto.create.topics.enable=false\n")
    sent: list[str] = []
    gated_msk.kafka.meta.events.register(
        "before-call.kafka.UpdateConfiguration", lambda **_: sent.append("UpdateConfiguration")
    )
    made = gated_msk.add_configuration_revision(
        arn, "auto.create.topics.enable=true\n", description="50th", dry_run=False
    )
    assert (made.status, made.revision, sent) == (UpdateStatus.STARTED, 50, ["UpdateConfiguration"])
    full = gated_msk.add_configuration_revision(
        arn, "auto.create.topics.enable=false\n", description="51st", dry_run=False
    )
    assert full.status is UpdateStatus.REJECTED
    assert "50 revisions" in full.reason
    assert "new parameter name" in full.reason
    assert sent == ["UpdateConfiguration"]
    latest = kafka.describe_configuration(Arn=arn)["LatestRevision"]["Revision"]
    assert latest == 50
