"""Secrets Manager after a rotation: a read without VersionStage returns AWSCURRENT.

Secrets Manager (API reference, GetSecretValue) returns the AWSCURRENT version when neither
VersionId nor VersionStage is given; MSK and Kafka clients read a SCRAM secret that way. moto
kept returning the version that was current before UpdateSecretVersionStage moved the label.
"""

import uuid

import boto3
import pytest

REGION = "us-east-1"


def rotate(secrets) -> tuple[str, str, str]:
    """A secret rotated as a rotation function does it: a new version staged AWSPENDING, then
    AWSCURRENT moved onto it. Returns the secret's ARN and the old and new version ids."""
    created = secrets.create_secret(
        Name=f"AmazonMSK_orders_{uuid.uuid4().hex[:8]}", SecretString='{"password": "old"}'
    )
    old = created["VersionId"]
    new = str(uuid.uuid4())
    secrets.put_secret_value(
        SecretId=created["ARN"],
        ClientRequestToken=new,
        SecretString='{"password": "new"}',
        VersionStages=["AWSPENDING"],
    )
    assert secrets.get_secret_value(SecretId=created["ARN"])["VersionId"] == old
    secrets.update_secret_version_stage(
        SecretId=created["ARN"],
        VersionStage="AWSCURRENT",
        MoveToVersionId=new,
        RemoveFromVersionId=old,
    )
    return created["ARN"], old, new


def assert_reads_follow_the_labels(secrets, arn: str, old: str, new: str) -> None:
    current = secrets.get_secret_value(SecretId=arn)
    assert (current["VersionId"], current["SecretString"]) == (new, '{"password": "new"}')
    assert "AWSCURRENT" in current["VersionStages"]
    assert secrets.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["VersionId"] == new
    assert secrets.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["VersionId"] == old
    stages = secrets.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert "AWSCURRENT" in stages[new]
    assert stages[old] == ["AWSPREVIOUS"]


def test_a_read_without_a_stage_returns_awscurrent_after_a_rotation(msk_emulator):
    secrets = boto3.client("secretsmanager", region_name=REGION)
    assert_reads_follow_the_labels(secrets, *rotate(secrets))


def test_a_read_without_a_stage_returns_awscurrent_over_http(msk_emulator_http):
    secrets = boto3.client(
        "secretsmanager",
        endpoint_url=msk_emulator_http.endpoint_url,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    assert_reads_follow_the_labels(secrets, *rotate(secrets))


def test_a_read_by_name_follows_a_second_rotation(msk_emulator):
    secrets = boto3.client("secretsmanager", region_name=REGION)
    arn, _, first = rotate(secrets)
    name = secrets.describe_secret(SecretId=arn)["Name"]
    second = str(uuid.uuid4())
    secrets.put_secret_value(
        SecretId=name, ClientRequestToken=second, SecretString="third", VersionStages=["AWSPENDING"]
    )
    secrets.update_secret_version_stage(
        SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=second, RemoveFromVersionId=first
    )
    assert secrets.get_secret_value(SecretId=name)["SecretString"] == "third"
    with pytest.raises(secrets.exceptions.InvalidParameterException):  # AWSCURRENT must move
        secrets.update_secret_version_stage(
            SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=first
        )
    assert secrets.get_secret_value(SecretId=name)["SecretString"] == "third"
