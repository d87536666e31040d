"""The emulated account of the configuration-rotator and SCRAM-rotator end-to-end tests.

Everything runs in-process under moto with the MSK emulator installed; the functions are
cold-started through `invoke_function`, with the template's environment, exactly as Lambda would.
Notifications are read back from an SQS queue subscribed to the stack's topic.
"""

import copy
import json
from pathlib import Path
from typing import Any

import boto3

from msk_autopilot_local.emulator import control
from msk_autopilot_local.local_lambda import invoke_function

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"  # the Region `invoke_function` gives the functions
ACCOUNT_ID = "123456789012"  # moto's
TOPIC_NAME = "msk-autopilot-notifications"
TABLE_NAME = "msk-autopilot-idempotency"
PREFIX = "/msk-autopilot/configurations/"
SUBNETS = ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]


def sample_event(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / f"{name}.json").read_text())


def cloudtrail_event(event_name: str, caller: str, cluster_arn: str) -> dict[str, Any]:
    event = copy.deepcopy(sample_event("cloudtrail_update_monitoring"))
    detail = event["detail"]
    detail["eventName"] = event_name
    detail["userIdentity"]["arn"] = caller
    detail["requestParameters"] = {"clusterArn": cluster_arn}
    detail["responseElements"] = {"clusterArn": cluster_arn}
    return event


class Account:
    """The emulated account: clusters, desired configurations, and what the functions did."""

    def __init__(self, control: Any) -> None:
        self.control = control
        session = boto3.session.Session(region_name=REGION)
        self.kafka = session.client("kafka")
        self.ssm = session.client("ssm")
        self.sqs = session.client("sqs")
        self.secrets = session.client("secretsmanager")
        self.kms = session.client("kms")
        self.cloudwatch = session.client("cloudwatch")
        topic = session.client("sns").create_topic(Name=TOPIC_NAME)["TopicArn"]
        queue = self.sqs.create_queue(QueueName="notifications")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        session.client("sns").subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        self.queue = queue

    # --- setting the scene -------------------------------------------------------------------

    def cluster(
        self,
        name: str,
        *,
        follows: str | None = "base",
        canary: bool = False,
        opted_in: bool = True,
        kafka_version: str = "3.8.x",
        scram: bool = False,
        tags: dict[str, str] | None = None,
    ) -> str:
        all_tags = dict(tags or {})
        if follows is not None:
            all_tags["msk-autopilot:configuration"] = follows
        if canary:
            all_tags["msk-autopilot:canary"] = "true"
        if opted_in:
            all_tags["msk-autopilot:managed"] = "true"
        provisioned: dict[str, Any] = {
            "BrokerNodeGroupInfo": {
                "ClientSubnets": SUBNETS,
                "InstanceType": "kafka.m5.large",
                "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}},
            },
            "KafkaVersion": kafka_version,
            "NumberOfBrokerNodes": 3,
        }
        if scram:
            provisioned["ClientAuthentication"] = {"Sasl": {"Scram": {"Enabled": True}}}
        response = self.kafka.create_cluster_v2(
            ClusterName=name, Provisioned=provisioned, Tags=all_tags
        )
        # Publishing healthy metrics (on the emulator's clock): the gates hold a configuration
        # update when they cannot tell.
        control.set_cluster_health(str(response["ClusterArn"]))
        return str(response["ClusterArn"])

    def push(self, name: str, text: str) -> None:
        self.ssm.put_parameter(
            Name=PREFIX + name,
            Value=text,
            Type="String",
            Overwrite=True,
            Tier="Intelligent-Tiering",
        )

    # --- running the functions -------------------------------------------------------------

    def rotate_configurations(
        self, event: dict[str, Any] | None = None, **environment: str
    ) -> dict[str, Any]:
        result: dict[str, Any] = invoke_function(
            "config_rotator", event or sample_event("scheduled_event"), env_overrides=environment
        )
        return result

    def rotate_secret(self, step: str, secret_arn: str, token: str, **environment: str) -> Any:
        event = {"Step": step, "SecretId": secret_arn, "ClientRequestToken": token}
        return invoke_function("scram_rotator", event, env_overrides=environment)

    def secret_value(self, secret_arn: str, stage: str, version: str | None = None) -> dict:
        options = {"VersionId": version} if version else {}
        value = self.secrets.get_secret_value(SecretId=secret_arn, VersionStage=stage, **options)
        return dict(json.loads(value["SecretString"]))

    def finish_operations(self) -> None:
        self.control.complete_operations()

    # --- looking at the result ---------------------------------------------------------------

    def position(self, cluster_arn: str) -> tuple[str, int] | None:
        info = self.kafka.describe_cluster_v2(ClusterArn=cluster_arn)["ClusterInfo"]
        software = info["Provisioned"]["CurrentBrokerSoftwareInfo"]
        if "ConfigurationArn" not in software:
            return None
        name = software["ConfigurationArn"].split(":configuration/")[1].split("/")[0]
        return name, int(software["ConfigurationRevision"])

    def configurations(self) -> dict[str, dict[str, Any]]:
        listed = self.kafka.list_configurations()["Configurations"]
        return {configuration["Name"]: configuration for configuration in listed}

    def revision_count(self, name: str) -> int:
        arn = self.configurations()[name]["Arn"]
        return len(self.kafka.list_configuration_revisions(Arn=arn)["Revisions"])

    def operations(self, cluster_arn: str) -> list[dict[str, Any]]:
        listed = self.kafka.list_cluster_operations_v2(ClusterArn=cluster_arn)
        return list(listed["ClusterOperationInfoList"])

    def notifications(self) -> list[dict[str, Any]]:
        """Notifications published since the last call (subject, severity and details)."""
        found: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10)
            batch = messages.get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
