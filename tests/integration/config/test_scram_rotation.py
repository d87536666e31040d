"""The SCRAM rotator end to end: Secrets Manager's four steps through the real handler, the MSK
emulator for associations and bootstrap brokers, and fake brokers that load secrets as MSK does
(AWSCURRENT only, at each sync) behind a real SASL/SCRAM-SHA-512 handshake."""

import json
from typing import Any

import pytest
from config_account import Account

from msk_autopilot.msk import UpdateStatus
from msk_autopilot.scram.rotation import RotationFailed, RotationRejected
from msk_autopilot_local.emulator import start_rotation

AUTHENTICATOR = {"SCRAM_AUTHENTICATOR": "scram_brokers:authenticate"}
OLD_PASSWORD = "correct-horse-battery-staple"
TAG = "msk-autopilot:scram-secrets"
OPT_IN = {"Key": "msk-autopilot:managed", "Value": "true"}
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def make_secret(
    account: Account,
    name: str,
    *,
    customer_key: bool = True,
    value: Any = None,
    opted_in: bool = True,
):
    options: dict[str, Any] = {"Tags": [OPT_IN]} if opted_in else {}
    if customer_key:
        options["KmsKeyId"] = account.kms.create_key()["KeyMetadata"]["KeyId"]
    secret_string = (
        value
        if isinstance(value, str)
        else json.dumps(value or {"username": "app", "password": OLD_PASSWORD})
    )
    return account.secrets.create_secret(Name=name, SecretString=secret_string, **options)["ARN"]


def client_view(account: Account, secret: str) -> dict[str, Any]:
    """The secret as a Kafka client reads it: no VersionStage, so Secrets Manager's AWSCURRENT."""
    return json.loads(account.secrets.get_secret_value(SecretId=secret)["SecretString"])


def stages(account: Account, secret_arn: str) -> dict[str, list[str]]:
    return dict(account.secrets.describe_secret(SecretId=secret_arn)["VersionIdsToStages"])


def metric_total(lines: list[dict[str, Any]], name: str) -> float:
    return sum(sum(line[name]) for line in lines if "_aws" in line and name in line)


def test_rotation_across_two_clusters_fails_once_then_succeeds(account, brokers, emitted, caplog):
    secret = make_secret(account, "AmazonMSK_orders_app")
    east = account.cluster("east", follows=None, scram=True)
    west = account.cluster("west", follows=None, scram=True, tags={TAG: "AmazonMSK_orders_app"})
    account.kafka.batch_associate_scram_secret(ClusterArn=east, SecretArnList=[secret])
    brokers.sync(account.kafka, account.secrets)
    token = start_rotation(secret)

    created = account.rotate_secret("createSecret", secret, token, **AUTHENTICATOR)
    pending = account.secret_value(secret, "AWSPENDING", token)
    assert created["status"] == "acted"
    assert pending["username"] == "app"
    assert len(pending["password"]) == 32
    assert pending["password"] != OLD_PASSWORD
    new_password = pending["password"]

    associated = account.rotate_secret("setSecret", secret, token, **AUTHENTICATOR)
    assert associated["details"]["associated"] == ["west"]
    assert account.kafka.list_scram_secrets(ClusterArn=west)["SecretArnList"] == [secret]

    # MSK has not loaded the secret on west's brokers yet: the test fails, nothing is promoted.
    with pytest.raises(RotationFailed, match="west"):
        account.rotate_secret("testSecret", secret, token, **AUTHENTICATOR)
    assert client_view(account, secret)["password"] == OLD_PASSWORD
    assert brokers.accepts(east, "app", OLD_PASSWORD)

    brokers.sync(account.kafka, account.secrets)  # MSK's periodic sync reaches west
    # Secrets Manager retries the rotation with the same token: every step is idempotent.
    retried = [
        account.rotate_secret(step, secret, token, **AUTHENTICATOR)
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret")
    ]
    assert [r["status"] for r in retried] == ["unchanged", "unchanged", "unchanged", "acted"]
    assert retried[2]["details"]["clusters"] == ["east", "west"]
    assert client_view(account, secret)["password"] == new_password
    again = account.rotate_secret("finishSecret", secret, token, **AUTHENTICATOR)
    assert again["status"] == "unchanged"

    brokers.sync(account.kafka, account.secrets)
    for cluster in (east, west):
        assert brokers.accepts(cluster, "app", new_password)
        assert not brokers.accepts(cluster, "app", OLD_PASSWORD)
    notes = account.notifications()
    assert [(n["severity"], n["subject"]) for n in notes] == [
        ("WARNING", "rotation of AmazonMSK_orders_app stopped: brokers refused"),
        ("INFO", "AmazonMSK_orders_app rotated"),
    ]
    lines = emitted()
    assert metric_total(lines, "ScramRotations") == 1
    assert metric_total(lines, "ScramTestFailures") == 1
    assert metric_total(lines, "ScramSecretsAssociated") == 1
    everything = json.dumps(lines) + caplog.text + json.dumps(notes)
    assert OLD_PASSWORD not in everything
    assert new_password not in everything


@pytest.mark.parametrize(
    ("name", "options", "reason"),
    [
        ("AmazonMSK_default_key", {"customer_key": False}, "AWS managed key aws/secretsmanager"),
        ("orders-app", {}, "starts with AmazonMSK_"),
        ("AmazonMSK_plain", {"value": "app:hunter2"}, 'is not JSON {"username": ..., "password"'),
        ("AmazonMSK_nameless", {"value": {"password": "x"}}, "has no username"),
    ],
)
def test_a_secret_msk_cannot_use_is_rejected_without_change(account, name, options, reason):
    secret = make_secret(account, name, **options)
    token = start_rotation(secret)
    before = account.secrets.describe_secret(SecretId=secret)["VersionIdsToStages"]

    with pytest.raises(RotationRejected, match=reason):
        account.rotate_secret("createSecret", secret, token)

    assert account.secrets.describe_secret(SecretId=secret)["VersionIdsToStages"] == before
    (note,) = account.notifications()
    assert note["severity"] == "CRITICAL"
    assert reason in note["reason"]
    assert "hunter2" not in json.dumps(note)


def test_a_pending_version_that_changes_the_username_is_rejected(account):
    secret = make_secret(account, "AmazonMSK_orders_app")
    token = start_rotation(secret)
    account.secrets.put_secret_value(
        SecretId=secret,
        ClientRequestToken=token,
        SecretString=json.dumps({"username": "someone-else", "password": "x" * 32}),
        VersionStages=["AWSPENDING"],
    )
    for step in ("createSecret", "setSecret", "testSecret"):
        with pytest.raises(RotationRejected, match="changes the username"):
            account.rotate_secret(step, secret, token)
    assert account.secret_value(secret, "AWSCURRENT")["username"] == "app"


def test_a_token_that_is_not_pending_is_rejected(account):
    secret = make_secret(account, "AmazonMSK_orders_app")
    current = next(
        version
        for version, stages in account.secrets.describe_secret(SecretId=secret)[
            "VersionIdsToStages"
        ].items()
        if "AWSCURRENT" in stages
    )
    assert account.rotate_secret("finishSecret", secret, current)["status"] == "unchanged"
    with pytest.raises(RotationRejected, match="has no version"):
        account.rotate_secret("createSecret", secret, "00000000-0000-4000-8000-000000000000")


def test_dry_run_changes_nothing(account):
    secret = make_secret(account, "AmazonMSK_orders_app")
    token = start_rotation(secret)
    with pytest.raises(RotationFailed, match="DRY_RUN is on"):
        account.rotate_secret("createSecret", secret, token, DRY_RUN="true")
    with pytest.raises(account.secrets.exceptions.ResourceNotFoundException):
        account.secret_value(secret, "AWSPENDING", token)


def test_set_secret_reports_clusters_it_cannot_associate(account, brokers):
    secret = make_secret(account, "AmazonMSK_orders_app")
    account.cluster(
        "shy", follows=None, scram=True, opted_in=False, tags={TAG: "AmazonMSK_orders_app"}
    )
    account.cluster("plain", follows=None, tags={TAG: "AmazonMSK_orders_app AmazonMSK_other"})
    account.control.configure(cluster_create_seconds=3600)  # "young" stays CREATING
    account.cluster("young", follows=None, scram=True, tags={TAG: "AmazonMSK_orders_app"})
    token = start_rotation(secret)
    account.rotate_secret("createSecret", secret, token)

    result = account.rotate_secret("setSecret", secret, token)

    assert result["status"] == "deferred"
    assert result["details"]["skipped"] == {
        "plain": "tagged to use the secret but SASL/SCRAM is off",
        "shy": "tagged to use the secret but not opted in (msk-autopilot:managed)",
    }
    # Not ready yet: the next rotation associates it; this one goes on.
    assert result["details"]["deferred"] == {"young": "cluster is CREATING, not ACTIVE"}
    assert result["details"]["unprocessed"] == {}
    (note,) = account.notifications()
    assert (
        note["subject"] == "AmazonMSK_orders_app is not associated with every cluster that uses it"
    )


def test_associations_go_ten_at_a_time_and_report_what_msk_refused(account, gated_msk):
    cluster = account.cluster("east", follows=None, scram=True)
    good = [make_secret(account, f"AmazonMSK_user{n:02}") for n in range(22)]
    bad = make_secret(account, "AmazonMSK_default_key", customer_key=False)
    calls: list[int] = []
    gated_msk.kafka.meta.events.register(
        "provide-client-params.kafka.BatchAssociateScramSecret",
        lambda params, **_: calls.append(len(params["SecretArnList"])),
    )

    result = gated_msk.associate_scram_secrets(cluster, [*good, bad], reason="test", dry_run=False)

    assert calls == [10, 10, 3]
    assert result.status is UpdateStatus.REJECTED
    assert result.reason.startswith(f"{bad}: ")
    assert good[0] not in result.reason
    listed = account.kafka.list_scram_secrets(ClusterArn=cluster)["SecretArnList"]
    assert sorted(listed) == sorted(good)


def test_a_missing_or_malformed_secret_id_changes_nothing(account):
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_gone-Ab12Cd"
    result = account.rotate_secret("createSecret", missing, "3b6f2a1e-8c4d-4e5f-9a0b-1c2d3e4f5a6b")
    assert result["status"] == "skipped"
    assert result["reason"] == f"{missing} does not exist; nothing to rotate"
    assert account.rotate_secret("createSecret", "", "token")["status"] == "rejected"


def test_no_password_reaches_any_output_in_any_encoding(
    account, brokers, emitted, caplog, secret_leaks
):
    backslashed = "Tr0ub4dor\\&3-current"
    secret = make_secret(
        account, "AmazonMSK_orders_app", value={"username": "app", "password": backslashed}
    )
    east = account.cluster("east", follows=None, scram=True)
    account.kafka.batch_associate_scram_secret(ClusterArn=east, SecretArnList=[secret])
    token = start_rotation(secret)
    echoing = {"SCRAM_AUTHENTICATOR": "scram_brokers:echoing_authenticate"}
    created = account.rotate_secret("createSecret", secret, token, **echoing)
    new_password = account.secret_value(secret, "AWSPENDING", token)["password"]

    with pytest.raises(RotationFailed) as failed:
        account.rotate_secret("testSecret", secret, token, **echoing)

    # the authenticator did show its arguments: the password among them is redacted
    assert "'app', Password('***')" in str(failed.value)
    outputs = [
        ("error", str(failed.value)),
        ("outcome", json.dumps(created)),
        ("log", json.dumps(emitted())),
        ("log", caplog.text),
        ("SNS message", json.dumps(account.notifications())),
    ]
    assert secret_leaks(outputs) == []
    for password in (backslashed, new_password):
        assert not any(password in text for _, text in outputs)


def test_a_secret_not_opted_in_is_never_rotated(account):
    secret = make_secret(account, "AmazonMSK_orders_app", opted_in=False)
    account.cluster("east", follows=None, scram=True, tags={TAG: "AmazonMSK_orders_app"})
    token = start_rotation(secret)
    before = stages(account, secret)

    for step in STEPS:
        with pytest.raises(RotationRejected, match="not tagged msk-autopilot:managed=true"):
            account.rotate_secret(step, secret, token)

    assert stages(account, secret) == before
    assert account.secret_value(secret, "AWSCURRENT")["password"] == OLD_PASSWORD
    notes = account.notifications()
    assert [note["severity"] for note in notes] == ["CRITICAL"] * len(STEPS)


def test_a_secret_a_cluster_not_opted_in_uses_is_never_rotated(account):
    secret = make_secret(account, "AmazonMSK_orders_app")
    east = account.cluster("east", follows=None, scram=True)
    account.kafka.batch_associate_scram_secret(ClusterArn=east, SecretArnList=[secret])
    token = start_rotation(secret)
    assert account.rotate_secret("createSecret", secret, token)["status"] == "acted"
    # between two steps, someone associates the secret with a cluster that is not opted in
    legacy = account.cluster("legacy", follows=None, scram=True, opted_in=False)
    account.kafka.batch_associate_scram_secret(ClusterArn=legacy, SecretArnList=[secret])
    before = stages(account, secret)

    for step in STEPS:
        with pytest.raises(
            RotationRejected,
            match=r"used by legacy, not opted in \(msk-autopilot:managed=true\); "
            "tag it or disassociate the secret",
        ):
            account.rotate_secret(step, secret, token)

    assert stages(account, secret) == before
    assert account.secret_value(secret, "AWSCURRENT")["password"] == OLD_PASSWORD
    (note, *_) = account.notifications()
    assert note["severity"] == "CRITICAL"
    assert "legacy" in note["reason"]
