"""BatchAssociateScramSecret, BatchDisassociateScramSecret and ListScramSecrets."""

import json

import pytest

SCRAM = {"Sasl": {"Scram": {"Enabled": True}}}
PREFIX_MESSAGE = (
    "The provided secret arn cannot be used with Amazon MSK. "
    "Secret names must have the prefix 'AmazonMSK_'."
)
ACCESS_MESSAGE = "Amazon MSK wasn't able to access the provided secret."


@pytest.fixture
def secrets(kit):
    return kit.client("secretsmanager")


@pytest.fixture
def cmk(kit):
    return kit.client("kms").create_key(Description="scram")["KeyMetadata"]["KeyId"]


def make_secret(secrets, name, **options):
    value = json.dumps({"username": "alice", "password": "s3cret-value"})
    return secrets.create_secret(Name=name, SecretString=value, **options)["ARN"]


def test_associate_list_and_disassociate(kit, secrets, cmk):
    arn = kit.create(ClientAuthentication=SCRAM)
    secret_arns = [make_secret(secrets, f"AmazonMSK_orders_{n}", KmsKeyId=cmk) for n in range(3)]
    response = kit.kafka.batch_associate_scram_secret(ClusterArn=arn, SecretArnList=secret_arns)
    assert response["ClusterArn"] == arn
    assert response["UnprocessedScramSecrets"] == []
    listed = kit.kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"]
    assert listed == secret_arns
    again = kit.kafka.batch_associate_scram_secret(ClusterArn=arn, SecretArnList=secret_arns[:1])
    assert again["UnprocessedScramSecrets"] == []
    assert kit.kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"] == secret_arns
    removed = kit.kafka.batch_disassociate_scram_secret(
        ClusterArn=arn, SecretArnList=secret_arns[:2]
    )
    assert removed["UnprocessedScramSecrets"] == []
    assert kit.kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"] == secret_arns[2:]
    not_associated = kit.kafka.batch_disassociate_scram_secret(
        ClusterArn=arn, SecretArnList=secret_arns[:1]
    )["UnprocessedScramSecrets"]
    assert [item["SecretArn"] for item in not_associated] == secret_arns[:1]


def test_list_scram_secrets_paginates(kit, secrets, cmk):
    arn = kit.create(ClientAuthentication=SCRAM)
    secret_arns = [make_secret(secrets, f"AmazonMSK_u{n}", KmsKeyId=cmk) for n in range(5)]
    kit.kafka.batch_associate_scram_secret(ClusterArn=arn, SecretArnList=secret_arns)
    pages = kit.kafka.get_paginator("list_scram_secrets").paginate(
        ClusterArn=arn, PaginationConfig={"PageSize": 2}
    )
    assert [a for page in pages for a in page["SecretArnList"]] == secret_arns


def test_unusable_secrets_are_reported_not_associated(kit, secrets, cmk):
    arn = kit.create(ClientAuthentication=SCRAM)
    good = make_secret(secrets, "AmazonMSK_good", KmsKeyId=cmk)
    no_prefix = make_secret(secrets, "orders-alice", KmsKeyId=cmk)
    default_key = make_secret(secrets, "AmazonMSK_default")
    explicit_default = make_secret(
        secrets, "AmazonMSK_explicit_default", KmsKeyId="alias/aws/secretsmanager"
    )
    missing = good[:-6] + "XXXXXX"
    other_region = make_secret(
        kit.session.client("secretsmanager", region_name="us-east-1"), "AmazonMSK_far", KmsKeyId=cmk
    )
    candidates = [good, no_prefix, default_key, explicit_default, missing, other_region]
    unprocessed = kit.kafka.batch_associate_scram_secret(ClusterArn=arn, SecretArnList=candidates)[
        "UnprocessedScramSecrets"
    ]
    by_arn = {item["SecretArn"]: item for item in unprocessed}
    assert set(by_arn) == set(candidates[1:])
    assert {item["ErrorCode"] for item in unprocessed} == {"InvalidSecretArn"}
    assert by_arn[no_prefix]["ErrorMessage"] == PREFIX_MESSAGE
    assert "customer managed KMS key" in by_arn[default_key]["ErrorMessage"]
    assert "customer managed KMS key" in by_arn[explicit_default]["ErrorMessage"]
    assert by_arn[missing]["ErrorMessage"] == ACCESS_MESSAGE
    assert by_arn[other_region]["ErrorMessage"] == ACCESS_MESSAGE
    assert kit.kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"] == [good]


def test_deleted_secret_cannot_be_associated(kit, secrets, cmk):
    arn = kit.create(ClientAuthentication=SCRAM)
    secret = make_secret(secrets, "AmazonMSK_gone", KmsKeyId=cmk)
    secrets.delete_secret(SecretId=secret)
    unprocessed = kit.kafka.batch_associate_scram_secret(ClusterArn=arn, SecretArnList=[secret])
    assert unprocessed["UnprocessedScramSecrets"][0]["ErrorMessage"] == ACCESS_MESSAGE


def test_at_most_ten_secrets_per_call(kit, secrets, cmk, expect_error):
    arn = kit.create(ClientAuthentication=SCRAM)
    secret_arns = [make_secret(secrets, f"AmazonMSK_u{n}", KmsKeyId=cmk) for n in range(11)]
    for method in ("batch_associate_scram_secret", "batch_disassociate_scram_secret"):
        error = expect_error(getattr(kit.kafka, method), ClusterArn=arn, SecretArnList=secret_arns)
        assert (error["code"], error["parameter"]) == ("BadRequestException", "secretArnList")
    assert kit.kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"] == []
    kit.kafka.batch_associate_scram_secret(ClusterArn=arn, SecretArnList=secret_arns[:10])
    assert len(kit.kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"]) == 10


def test_cluster_needs_sasl_scram(kit, secrets, cmk, expect_error):
    arn = kit.create(ClientAuthentication={"Sasl": {"Iam": {"Enabled": True}}})
    secret = make_secret(secrets, "AmazonMSK_alice", KmsKeyId=cmk)
    error = expect_error(
        kit.kafka.batch_associate_scram_secret, ClusterArn=arn, SecretArnList=[secret]
    )
    assert "SASL/SCRAM" in error["message"]


def test_empty_secret_list_is_refused(kit, expect_error):
    arn = kit.create(ClientAuthentication=SCRAM)
    error = expect_error(kit.kafka.batch_associate_scram_secret, ClusterArn=arn, SecretArnList=[])
    assert error["parameter"] == "secretArnList"


def test_serverless_clusters_have_no_scram(kit, expect_error):
    arn = kit.kafka.create_cluster_v2(
        ClusterName="events",
        Serverless={
            "VpcConfigs": [{"SubnetIds": ["subnet-1", "subnet-2"]}],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    )["ClusterArn"]
    error = expect_error(kit.kafka.list_scram_secrets, ClusterArn=arn)
    assert "serverless" in error["message"]
