"""A local world for the security auditor: the MSK emulator (in process, under moto), the app's
own resources, Security Hub with its finding workflow, and a fleet that fails and passes every
control."""

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from audit_world import KAFKA_PORTS, REGION, ROOT, TAG, WORLD_V4, WORLD_V6, World

from msk_autopilot_local.emulator import seed_fleet
from msk_autopilot_local.local_lambda import invoke_function
from msk_autopilot_local.stack import DeployedStack


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("msk_autopilot_local.emulator.testing")


@pytest.fixture
def report_bucket(aws) -> str:
    return DeployedStack.read(aws, ROOT / "template.yaml").physical_name("AuditReportBucket")


@pytest.fixture
def world(aws) -> World:
    """The home account as most are: a multi-Region trail records its management events
    (AUTOPILOT.11 and AUTOPILOT.13 pass; test_audit_logging.py builds accounts without one)."""
    world = World(aws)
    seed_fleet(aws, {"trails": [{"name": "management", "multiRegion": True}]})
    return world


@pytest.fixture
def fleet(world) -> dict[str, str]:
    """One cluster per situation; between them every control both passes and fails."""
    closed = world.security_group(
        {**KAFKA_PORTS, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, **WORLD_V4},
    )
    open_v4 = world.security_group({**KAFKA_PORTS, **WORLD_V4})
    open_v6 = world.security_group({"IpProtocol": "-1", **WORLD_V6})
    key = world.customer_key()
    hardened = {
        "kafkaVersion": "3.8.x",  # 3.6.0, the emulator's default, is past end of support
        "encryption": {"kmsKeyId": key},
        "enhancedMonitoring": "PER_TOPIC_PER_BROKER",
        "logging": {"cloudWatchLogGroup": "msk-brokers"},
        "securityGroups": [closed],
    }
    clusters = world.seed(
        {
            "name": "hardened",
            **hardened,
            "authentication": {"iam": True, "scram": True},
            "scramUsers": ["alice"],
            "tags": {TAG: "true"},
        },
        {
            "name": "legacy",
            "kafkaVersion": "3.3.1",  # past end of support: only the seed places it
            "subnets": ["subnet-a", "subnet-b"],
            "securityGroups": [open_v4],
            "encryption": {"clientBroker": "TLS_PLAINTEXT", "inCluster": False},
            "authentication": {"unauthenticated": True},
        },
        {
            "name": "exposed",
            **hardened,
            "securityGroups": [open_v6],
            "authentication": {"iam": True},
            "publicAccess": True,
        },
        {
            "name": "leaky-scram",
            **hardened,
            "authentication": {"scram": True},
            "scramUsers": ["bob"],
            "tags": {TAG: "true"},
        },
        {
            "name": "express",
            **hardened,
            "instanceType": "express.m7g.large",
            "authentication": {"iam": True},
            "tags": {TAG: "true"},
        },
        {"name": "stream", "serverless": True, "securityGroups": [closed]},
    )
    world.cluster_policy(
        clusters["hardened"],
        {
            "Sid": "Partner",
            "Effect": "Allow",
            "Principal": {"AWS": "111122223333"},
            "Action": "kafka:*",
            "Resource": "*",
        },
        {
            "Sid": "OrgOnly",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "kafka-cluster:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
        },
    )
    world.cluster_policy(
        clusters["legacy"],
        {
            "Sid": "Everyone",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "kafka-cluster:*",
            "Resource": "*",
        },
    )
    world.storage_scaling_policy(clusters["exposed"])
    leaky_secret = world.session.client("kafka").list_scram_secrets(
        ClusterArn=clusters["leaky-scram"]
    )["SecretArnList"][0]
    world.rekey_to_default(leaky_secret)
    return clusters


@pytest.fixture
def invoke(aws) -> Callable[..., dict[str, Any]]:
    """The security auditor cold-started from the template, as Lambda would run it."""

    def run(event: dict[str, Any], **env: str) -> dict[str, Any]:
        return invoke_function("security_auditor", event, env_overrides=env)

    return run


@pytest.fixture
def findings(aws) -> Callable[..., dict[str, dict[str, Any]]]:
    """Security Hub findings by Id (moto's GetFindings ignores filters)."""

    def read(session: boto3.Session | None = None, region: str = REGION) -> dict[str, Any]:
        hub = (session or aws).client("securityhub", region_name=region)
        found: dict[str, Any] = {}
        for page in hub.get_paginator("get_findings").paginate():
            found.update({f["Id"]: f for f in page["Findings"]})
        return found

    return read


@pytest.fixture
def stored_report(aws, report_bucket) -> Callable[[], dict[str, Any]]:
    def read() -> dict[str, Any]:
        body = aws.client("s3").get_object(Bucket=report_bucket, Key="latest.json")["Body"]
        return json.loads(body.read())

    return read
