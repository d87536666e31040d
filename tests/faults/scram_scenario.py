"""The SCRAM rotator's fault scenario: one AmazonMSK_ secret used by two clusters (one associated
already, one tagged to use it) rotated through Secrets Manager's four steps.

`run_scram_scenario(world)` plays it against a `FaultWorld` (faults or none): Secrets Manager's
part (staging AWSPENDING, calling the four steps in order, starting again from createSecret with
the same token when a step still fails after Lambda's retries) is played by the scenario, MSK's
periodic sync of the brokers' credentials by `scram_authenticator.sync`. It returns what can be
compared between runs (passwords differ per run, so their relations are compared).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import scram_authenticator
from fault_world import TAG, FaultWorld, Invocation

from msk_autopilot_local.emulator import start_rotation

ACCOUNT_ID = "123456789012"  # moto's
SECRET = "AmazonMSK_orders_app"
SECRETS_TAG = "msk-autopilot:scram-secrets"
USERNAME = "app"
OLD_PASSWORD = "correct-horse-battery-staple"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
MAX_ROTATION_ATTEMPTS = 4  # Secrets Manager's attempts at the same rotation (same token)
SCRAM_CLUSTER = {
    "brokers": 3,
    "volumeSizeGiB": 100,
    "subnets": ["subnet-a", "subnet-b", "subnet-c"],
    "authentication": {"scram": True},
}
FLEET = {
    "clusters": [
        {"name": "east", **SCRAM_CLUSTER, "tags": {TAG: "true"}},
        {"name": "west", **SCRAM_CLUSTER, "tags": {TAG: "true", SECRETS_TAG: SECRET}},
    ]
}
ASSOCIATE = "BatchAssociateScramSecret"
ENV = {"SCRAM_AUTHENTICATOR": scram_authenticator.PATH}


@dataclass
class ScramScenarioResult:
    end_state: dict[str, Any]
    outcomes: list[tuple[str, str | None]]  # (step, status) of every delivered step
    associations: dict[str, int]  # BatchAssociateScramSecret accepted / refused by the rotator
    mutating: dict[str, dict[str, int]]  # every mutating MSK call of the rotator
    invocations: list[Invocation] = field(default_factory=list)
    proxy: dict[str, Any] = field(default_factory=dict)


def make_secret(world: FaultWorld) -> str:
    key = world.client("kms").create_key()["KeyMetadata"]["KeyId"]
    value = json.dumps({"username": USERNAME, "password": OLD_PASSWORD})
    created = world.client("secretsmanager").create_secret(
        Name=SECRET, SecretString=value, KmsKeyId=key, Tags=[{"Key": TAG, "Value": "true"}]
    )
    return str(created["ARN"])


def end_state(world: FaultWorld, secret_arn: str, token: str) -> dict[str, Any]:
    secrets, kafka = world.client("secretsmanager"), world.client("kafka")
    stages = secrets.describe_secret(SecretId=secret_arn)["VersionIdsToStages"]
    # As a client reads it: no VersionStage, so Secrets Manager answers with AWSCURRENT.
    current = json.loads(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])
    previous = json.loads(
        secrets.get_secret_value(SecretId=secret_arn, VersionStage="AWSPREVIOUS")["SecretString"]
    )
    scram_authenticator.sync(world)  # MSK loads the new AWSCURRENT
    clusters = {}
    for name, arn in world.account.clusters.items():
        listed = kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"]
        clusters[name] = {
            "secrets": [item.rpartition(":")[2].rsplit("-", 1)[0] for item in listed],
            "acceptsNew": scram_authenticator.accepts(arn, USERNAME, current["password"]),
            "acceptsOld": scram_authenticator.accepts(arn, USERNAME, OLD_PASSWORD),
        }
    return {
        # version -> stages, the versions named by role (ids differ per run)
        "stages": sorted(
            ("token" if version == token else "other", tuple(sorted(names)))
            for version, names in stages.items()
        ),
        "username": current["username"],
        "previousIsOld": previous == {"username": USERNAME, "password": OLD_PASSWORD},
        "passwordChanged": current["password"] != OLD_PASSWORD,
        "passwordLength": len(current["password"]),
        "clusters": clusters,
    }


def run_scram_scenario(world: FaultWorld) -> ScramScenarioResult:
    scram_authenticator.reset()
    secret = make_secret(world)
    kafka = world.client("kafka")
    kafka.batch_associate_scram_secret(
        ClusterArn=world.account.clusters["east"], SecretArnList=[secret]
    )
    scram_authenticator.sync(world)
    before = world.emulator.summary()
    token = start_rotation(secret)
    outcomes: list[tuple[str, str | None]] = []

    for _ in range(MAX_ROTATION_ATTEMPTS):
        for step in STEPS:
            event = {"Step": step, "SecretId": secret, "ClientRequestToken": token}
            invocation = world.invoke("scram_rotator", event, env=ENV)
            outcomes.append((step, invocation.status))
            if invocation.failed:
                break  # the rotation failed; Secrets Manager tries it again later
            if step == "setSecret":
                scram_authenticator.sync(world)  # MSK's periodic sync reaches the new cluster
        else:
            break

    def mine(summary: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        found = {}
        for operation, counts in summary.items():
            earlier = before.get(operation, {"accepted": 0, "refused": 0})
            found[operation] = {k: counts[k] - earlier[k] for k in ("accepted", "refused")}
        return {op: counts for op, counts in found.items() if any(counts.values())}

    mutating = mine(world.emulator.summary())
    return ScramScenarioResult(
        end_state=end_state(world, secret, token),
        outcomes=outcomes,
        associations=mutating.get(ASSOCIATE, {"accepted": 0, "refused": 0}),
        mutating=mutating,
        invocations=list(world.invocations),
        proxy=world.proxy.stats().to_dict(),
    )
