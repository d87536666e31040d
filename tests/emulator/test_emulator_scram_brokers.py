"""The brokers' side of SASL/SCRAM: after a sync, a cluster's brokers take the AWSCURRENT
credentials of its associated secrets, and nothing else."""

import json

import pytest

from msk_autopilot.scram.password import Password
from msk_autopilot_local.emulator import local_scram_authenticator, scram_brokers, seed_fleet

SCRAM = {"authentication": {"scram": True}}


@pytest.fixture
def fleet(kit, aws_session):
    seeded = seed_fleet(
        aws_session,
        {
            "clusters": [
                {"name": "orders", **SCRAM, "scramUsers": ["app"]},
                {"name": "plain"},
            ]
        },
    )
    scram_brokers.sync(kit.kafka, kit.client("secretsmanager"))
    yield seeded.clusters
    scram_brokers.forget()


def credentials(kit, name="AmazonMSK_orders_app"):
    value = kit.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
    return json.loads(value)


def brokers(kit, arn):
    return kit.kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerStringSaslScram"]


def test_the_synced_credentials_are_accepted(kit, fleet):
    user = credentials(kit)

    local_scram_authenticator(
        brokers(kit, fleet["orders"]), user["username"], Password(user["password"])
    )

    assert scram_brokers.accepts(brokers(kit, fleet["orders"]), user["username"], user["password"])


def test_a_wrong_password_is_refused_without_echoing_it(kit, fleet):
    user = credentials(kit)

    with pytest.raises(PermissionError, match="authentication failed for user") as refused:
        local_scram_authenticator(
            brokers(kit, fleet["orders"]), user["username"], Password("guess-1234")
        )

    assert "guess-1234" not in str(refused.value)


def test_a_new_password_counts_only_after_the_next_sync(kit, fleet):
    secrets = kit.client("secretsmanager")
    user = credentials(kit)
    hosts = brokers(kit, fleet["orders"])
    secrets.put_secret_value(
        SecretId="AmazonMSK_orders_app",
        SecretString=json.dumps({"username": user["username"], "password": "rotated-5678"}),
    )

    assert not scram_brokers.accepts(hosts, user["username"], "rotated-5678")
    scram_brokers.sync(kit.kafka, secrets)
    assert scram_brokers.accepts(hosts, user["username"], "rotated-5678")
    assert not scram_brokers.accepts(hosts, user["username"], user["password"])


def test_unknown_brokers_do_not_answer(kit, fleet):
    with pytest.raises(ConnectionError, match="no broker answers"):
        local_scram_authenticator("b-9.elsewhere.example:9096", "app", Password("password"))


def test_forgetting_drops_every_credential(kit, fleet):
    user = credentials(kit)
    scram_brokers.forget()

    assert not scram_brokers.accepts(
        brokers(kit, fleet["orders"]), user["username"], user["password"]
    )
