"""The health gates in the configuration and SCRAM rotators, end to end: the real handlers against
the MSK emulator, with the metrics the gates read written to moto's CloudWatch. A held change is
not made (the emulator shows no operation, no association), is reported with the gate's id,
counted as `Deferred.<gate>` every time, and notified once per cluster and gate."""

from datetime import UTC, datetime, timedelta
from typing import Any

from config_account import Account
from test_config_rollout import BASE, base_of, metric_total
from test_scram_rotation import make_secret

from msk_autopilot_local.emulator import start_rotation
from msk_autopilot_local.emulator.metrics import put_broker_metrics

TAG = "msk-autopilot:scram-secrets"


def a_minute_ago() -> datetime:
    """When to write a sample the next check reads (CloudWatch's EndTime is exclusive)."""
    return datetime.now(UTC) - timedelta(minutes=1)


def deferral_notices(account: Account, gate: str) -> list[dict[str, Any]]:
    return [n for n in account.notifications() if f"deferred by gate {gate}" in n["subject"]]


def configuration_updates(account: Account, cluster_arn: str) -> list[dict[str, Any]]:
    return [
        op
        for op in account.operations(cluster_arn)
        if op["OperationType"] == "UPDATE_CLUSTER_CONFIGURATION"
    ]


def test_an_under_replicated_cluster_waits_for_its_configuration(account, emitted):
    alpha = account.cluster("alpha")
    put_broker_metrics(
        account.cloudwatch, "alpha", 2, {"UnderReplicatedPartitions": 4}, a_minute_ago()
    )
    account.push("base", BASE)

    for _ in range(3):  # three sweeps
        report = base_of(account.rotate_configurations())
        assert report["state"] == "waiting"
        assert report["reason"].startswith("alpha: deferred by gate under-replicated: ")
        assert "UnderReplicatedPartitions was 4 on broker 2" in report["reason"]

    assert configuration_updates(account, alpha) == []
    assert account.position(alpha) is None
    (notice,) = deferral_notices(account, "under-replicated")
    assert notice["change"] == "configuration"
    assert notice["retry"] == "the next sweep tries again"
    assert metric_total(emitted(), "Deferred.under-replicated") == 3


def test_a_dry_run_reports_the_deferral_too(account):
    alpha = account.cluster("alpha")
    put_broker_metrics(
        account.cloudwatch, "alpha", 1, {"CpuUser": 100, "CpuSystem": 60}, a_minute_ago()
    )
    account.push("base", BASE)

    report = base_of(account.rotate_configurations(DRY_RUN="true"))

    assert report["state"] == "waiting"
    assert report["reason"].startswith("alpha: deferred by gate cpu: broker 1 CPU")
    assert configuration_updates(account, alpha) == []


def test_a_healthy_cluster_is_updated_and_a_sick_one_is_not(account):
    healthy = account.cluster("healthy", follows="orders")
    sick = account.cluster("sick", follows="base")
    put_broker_metrics(
        account.cloudwatch, "sick", 3, {"UnderMinIsrPartitionCount": 1}, a_minute_ago()
    )
    account.push("orders", BASE)
    account.push("base", BASE)

    result = account.rotate_configurations()

    configurations = result["details"]["configurations"]
    assert configurations["orders"]["state"] == "updating"
    assert configurations["base"]["reason"].startswith("sick: deferred by gate under-min-isr")
    assert len(configuration_updates(account, healthy)) == 1
    assert configuration_updates(account, sick) == []


def test_an_association_over_the_partition_maximum_waits_and_the_rotation_goes_on(account):
    secret = make_secret(account, "AmazonMSK_orders_app")
    west = account.cluster("west", follows=None, scram=True, tags={TAG: "AmazonMSK_orders_app"})
    # kafka.m5.large: MSK refuses an association above 1500 partitions on a broker.
    last = datetime.now(UTC).replace(second=0, microsecond=0)
    for back in range(15):
        when = last - timedelta(minutes=back)
        put_broker_metrics(account.cloudwatch, "west", 2, {"PartitionCount": 1600}, when)
    token = start_rotation(secret)
    account.rotate_secret("createSecret", secret, token)

    for _ in range(2):  # Secrets Manager may repeat a step
        result = account.rotate_secret("setSecret", secret, token)
        assert result["status"] == "deferred"
        assert result["details"]["associated"] == []
        (reason,) = result["details"]["deferred"].values()
        assert reason.startswith("deferred by gate partition-limit: broker 2 holds 1600")

    assert account.kafka.list_scram_secrets(ClusterArn=west)["SecretArnList"] == []
    (notice,) = deferral_notices(account, "partition-limit")
    assert notice["change"] == "scram_association"
    # Nothing else is held: the rotation completes, and west gets the secret next time.
    account.rotate_secret("testSecret", secret, token)
    assert account.rotate_secret("finishSecret", secret, token)["status"] == "acted"


def test_an_association_within_the_limits_is_made(account):
    secret = make_secret(account, "AmazonMSK_orders_app")
    west = account.cluster("west", follows=None, scram=True, tags={TAG: "AmazonMSK_orders_app"})
    # Under-replication does not hold an association: it restarts no broker.
    put_broker_metrics(
        account.cloudwatch, "west", 1, {"UnderReplicatedPartitions": 9}, a_minute_ago()
    )
    token = start_rotation(secret)
    account.rotate_secret("createSecret", secret, token)

    result = account.rotate_secret("setSecret", secret, token)

    assert result["status"] == "acted"
    assert result["details"]["associated"] == ["west"]
    assert account.kafka.list_scram_secrets(ClusterArn=west)["SecretArnList"] == [secret]
