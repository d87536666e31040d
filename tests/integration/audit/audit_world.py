"""Helpers for the security auditor's integration tests: a world of clusters around them."""

import json
import uuid
from pathlib import Path
from typing import Any

import boto3

from msk_autopilot_local.emulator import control, seed_fleet
from msk_autopilot_local.emulator.exceptions import MskError

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
TAG = "msk-autopilot:managed"
MEMBER_ACCOUNT = "222222222222"


class Forbidden(MskError):
    """MSK's answer to a call IAM denies."""

    code = 403
    error_type = "ForbiddenException"


class Throttled(MskError):
    code = 429
    error_type = "TooManyRequestsException"


def member_session(
    account: str, region: str = REGION, role: str = "msk-autopilot-audit"
) -> boto3.Session:
    """A session in another (moto) account through `role`: by default as the auditor's assumed
    role sees it."""
    credentials = boto3.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


class World:
    """Builds clusters and what surrounds them in one account and Region."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.ec2 = session.client("ec2")
        self.kafka = session.client("kafka")
        self._vpc = self.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]

    def security_group(self, *rules: dict[str, Any]) -> str:
        group = self.ec2.create_security_group(
            GroupName=f"brokers-{uuid.uuid4().hex[:8]}", Description="brokers", VpcId=self._vpc
        )["GroupId"]
        if rules:
            self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=list(rules))
        return group

    def customer_key(self) -> str:
        return self.session.client("kms").create_key()["KeyMetadata"]["Arn"]

    def seed(self, *clusters: dict[str, Any]) -> dict[str, str]:
        """Seed clusters, healthy to the health gates (which hold a remediation when they
        cannot tell)."""
        seeded = seed_fleet(self.session, {"clusters": list(clusters)}).clusters
        for arn in seeded.values():
            info = self.kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
            if "Provisioned" in info:
                control.set_cluster_health(arn)  # healthy metrics, on the emulator's clock
        return seeded

    def cluster_policy(self, cluster_arn: str, *statements: dict[str, Any]) -> None:
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        self.kafka.put_cluster_policy(ClusterArn=cluster_arn, Policy=json.dumps(document))

    def storage_scaling_policy(self, cluster_arn: str) -> None:
        scaling = self.session.client("application-autoscaling")
        target = {
            "ServiceNamespace": "kafka",
            "ResourceId": cluster_arn,
            "ScalableDimension": "kafka:broker-storage:VolumeSize",
        }
        scaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=4000)
        scaling.put_scaling_policy(
            **target,
            PolicyName="grow-storage",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 60.0,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "KafkaBrokerStorageUtilization"
                },
            },
        )

    def rekey_to_default(self, secret_arn: str) -> None:
        """Move a secret (already associated) to Secrets Manager's AWS managed key."""
        self.session.client("secretsmanager").update_secret(
            SecretId=secret_arn, KmsKeyId="alias/aws/secretsmanager"
        )


KAFKA_PORTS = {"IpProtocol": "tcp", "FromPort": 9092, "ToPort": 9098}
WORLD_V4 = {"IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
WORLD_V6 = {"Ipv6Ranges": [{"CidrIpv6": "::/0"}]}


def scheduled_event() -> dict[str, Any]:
    return json.loads((ROOT / "events" / "scheduled_event.json").read_text())


def api_call_event(cluster_arn: str, name: str = "UpdateMonitoring") -> dict[str, Any]:
    event = json.loads((ROOT / "events" / "cloudtrail_update_monitoring.json").read_text())
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"]["clusterArn"] = cluster_arn.replace(":", "%3A").replace(
        "/", "%2F"
    )
    event["detail"]["responseElements"]["clusterArn"] = cluster_arn
    return event


def clusters_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The cluster entries of a report document."""
    return [r for r in report["resources"] if r["subject"] == "cluster"]


def verdicts(report: dict[str, Any], subject: str = "cluster") -> dict[str, dict[str, str]]:
    """{resource name: {control: status}} of a report document's resources of `subject`."""
    return {
        resource["name"]: {f["control"]: f["status"] for f in resource["findings"]}
        for resource in report["resources"]
        if resource["subject"] == subject
    }
