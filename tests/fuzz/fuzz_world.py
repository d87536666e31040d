"""The world the fuzzed handlers run in: a seeded fleet in the MSK emulator, fresh for each case.

The fleet has clusters that are opted in and one that is not but otherwise looks the same (it
follows the same configuration, is tagged to use the same SCRAM secret, has public access and
filling disks): a handler that acts on it, or on a cluster the event does not name, is caught by
the oracle. Six hours of rising disk usage make the storage scaler grow disks; a desired
configuration in Parameter Store makes the config rotator roll out; SCRAM secrets with a pending
version make the rotator's steps run; remediation is on for the auditor.

Each case starts from the same state (`FuzzWorld.fresh`): when the last case changed anything
(clusters, MSK configurations, secrets), the emulator's clusters are seeded again (the same names
give the same ARNs), the SCRAM secrets created again and the app's tables emptied. Six hours of
disk history are written once, at the start. The record consumer's buckets are emptied as its
records are counted (`take_records`).
"""

import gzip
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
from moto.kafka.models import kafka_backends
from moto.secretsmanager.models import secretsmanager_backends

from msk_autopilot_local.deploy import deploy_to_empty_account
from msk_autopilot_local.emulator import put_linear_series, seed_fleet
from msk_autopilot_local.emulator.control import EmulatorControl
from msk_autopilot_local.stack import DeployedStack

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"
OPT_IN_TAG = "msk-autopilot:managed"
CONFIG_TAG = "msk-autopilot:configuration"
SCRAM_TAG = "msk-autopilot:scram-secrets"
CONFIGURATION = "fz-config"
SHARED_SECRET = "AmazonMSK_fz_app"  # tagged by every cluster, associated with fz-grow-a
HANDS_OFF_SECRET = "AmazonMSK_fz_handsoff"  # associated with the not-opted-in cluster only
OPTED_IN = ("fz-grow-a", "fz-grow-b")
NOT_OPTED_IN = "fz-hands-off"


def _cluster(name: str, *, opted_in: bool, public: bool) -> dict[str, Any]:
    tags = {CONFIG_TAG: CONFIGURATION, SCRAM_TAG: SHARED_SECRET}
    if opted_in:
        tags[OPT_IN_TAG] = "true"
    return {
        "name": name,
        "brokers": 3,
        "volumeSizeGiB": 1000,
        "kafkaVersion": "3.6.0",
        "authentication": {"iam": True, "scram": True},
        "enhancedMonitoring": "DEFAULT",  # MSK.2 fails: the auditor may fix it
        "publicAccess": public,  # MSK.4 fails: the auditor may fix it
        "tags": tags,
    }


FLEET = {
    "clusters": [
        _cluster(OPTED_IN[0], opted_in=True, public=True),
        _cluster(OPTED_IN[1], opted_in=True, public=False),
        _cluster(NOT_OPTED_IN, opted_in=False, public=True),
    ]
}
DESIRED_PROPERTIES = (ROOT / "examples" / "configurations" / "orders.properties").read_text()


class FuzzWorld:
    """One account around the handler under test; `fresh()` before each case."""

    def __init__(self, session: boto3.Session, template: Path, emulator: EmulatorControl):
        self.session = session
        self.emulator = emulator
        deployment = deploy_to_empty_account(template, session)
        self.stack = DeployedStack.read(session, template)
        self.tables = [
            each.physical_id
            for each in deployment.resources
            if each.resource_type == "AWS::DynamoDB::Table"
        ]
        self.kafka = session.client("kafka")
        self.s3 = session.client("s3")
        self.dynamodb = session.client("dynamodb")
        self.secretsmanager = session.client("secretsmanager")
        self.kms_key = session.client("kms").create_key(Description="fuzz SCRAM secrets")[
            "KeyMetadata"
        ]["KeyId"]
        consumer = self.stack.function_environment(
            self.stack.function_logical_id("record_consumer")
        )
        self.archive_bucket = consumer["ARCHIVE_BUCKET"]
        self.failure_bucket = consumer["FAILURE_BUCKET"]
        rotator = self.stack.function_environment(self.stack.function_logical_id("config_rotator"))
        self.parameter_prefix = rotator["CONFIG_PARAMETER_PREFIX"]
        monitor = self.stack.function_environment(self.stack.function_logical_id("health_monitor"))
        self.alarm_prefix = monitor["DISK_ALARM_PREFIX"]
        session.client("ssm").put_parameter(
            Name=f"{self.parameter_prefix}{CONFIGURATION}", Value=DESIRED_PROPERTIES, Type="String"
        )
        now = emulator.clock.now()
        for cluster in FLEET["clusters"]:
            put_linear_series(
                session.client("cloudwatch"),
                cluster["name"],
                broker_ids=[1, 2, 3],
                start=now - timedelta(hours=6),
                end=now,
                start_value=50.0,
                end_value=88.0,
                period_seconds=300,
            )
        self.clusters: dict[str, str] = {}  # name -> ARN
        self.secrets: dict[str, str] = {}  # name -> ARN
        self.pending: dict[str, str] = {}  # secret ARN -> its AWSPENDING version
        self._seeded: tuple[Any, ...] | None = None

    def fresh(self) -> None:
        """The world as seeded, before a case: restored only when the last case changed it
        (most cases change nothing, and restoring costs a dozen AWS calls)."""
        if self._seeded is not None and self._fingerprint() == self._seeded:
            return
        self.emulator.reset()
        self.clusters = seed_fleet(self.session, FLEET).clusters
        for name in (SHARED_SECRET, HANDS_OFF_SECRET):
            if name in self.secrets:
                self.secretsmanager.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
            arn = self.secretsmanager.create_secret(
                Name=name,
                KmsKeyId=self.kms_key,
                SecretString=json.dumps({"username": "app", "password": uuid.uuid4().hex}),
            )["ARN"]
            token = str(uuid.uuid4())
            self.secretsmanager.put_secret_value(
                SecretId=arn,
                ClientRequestToken=token,
                SecretString=json.dumps({"username": "app", "password": uuid.uuid4().hex}),
                VersionStages=["AWSPENDING"],
            )
            self.secrets[name], self.pending[arn] = arn, token
        # fz-grow-b is tagged to use the shared secret but not yet associated: setSecret
        # associates it (and must leave the tagged fz-hands-off alone).
        self.kafka.batch_associate_scram_secret(
            ClusterArn=self.clusters[OPTED_IN[0]], SecretArnList=[self.secrets[SHARED_SECRET]]
        )
        self.kafka.batch_associate_scram_secret(
            ClusterArn=self.clusters[NOT_OPTED_IN], SecretArnList=[self.secrets[HANDS_OFF_SECRET]]
        )
        for table in self.tables:  # idempotency records and leases of the clusters' last life
            key_names = [
                key["AttributeName"]
                for key in self.dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
            ]
            for item in self.dynamodb.scan(TableName=table)["Items"]:
                self.dynamodb.delete_item(
                    TableName=table, Key={name: item[name] for name in key_names}
                )
        self._seeded = self._fingerprint()

    def _fingerprint(self) -> tuple[Any, ...]:
        """What a handler can change: the clusters, MSK configurations, the secrets' versions."""
        configurations = sorted(
            (arn, len(configuration.revisions))
            for backend in kafka_backends[ACCOUNT].values()
            for arn, configuration in backend.configurations.items()
        )
        secrets = secretsmanager_backends[ACCOUNT][REGION]
        versions = [
            secrets.describe_secret(arn).to_dict()["VersionIdsToStages"]
            for arn in self.secrets.values()
        ]
        return self.cluster_state(), configurations, versions

    def opted_in(self, cluster_arn: str) -> bool:
        return any(self.clusters[name] == cluster_arn for name in OPTED_IN)

    def cluster_state(self) -> dict[str, tuple[Any, ...]]:
        """Per cluster ARN, in every Region: its CurrentVersion (every update changes it), its
        state, its SCRAM secrets and its operations. Read in-process from the emulator."""
        return {
            arn: (
                cluster.current_version,
                cluster.state,
                tuple(cluster.scram_secrets),
                len(backend.cluster_operations(arn)),
            )
            for backend in kafka_backends[ACCOUNT].values()
            for arn, cluster in backend.msk_clusters.items()
        }

    def cluster_names(self, cluster_arn: str) -> set[str]:
        """What an event may call a fleet cluster by: its ARN, its name, the configuration it
        follows and the SCRAM secrets it uses (by tag or association)."""
        name = cluster_arn.split("/")[1]
        associated = kafka_backends[ACCOUNT][REGION].msk_clusters[cluster_arn].scram_secrets
        return {cluster_arn, name, CONFIGURATION, SHARED_SECRET, *associated}

    def take_records(self, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
        """Every JSON line of every gzip object under `prefix` of `bucket`, which is then
        emptied for the next case."""
        lines = []
        listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        for item in listed:
            body = self.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            lines += [json.loads(line) for line in gzip.decompress(body).splitlines()]
        if listed:
            objects = [{"Key": item["Key"]} for item in listed]
            self.s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
        return lines
