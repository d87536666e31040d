"""MSK resources and the ``MskBackend`` that extends moto's kafka backend.

A provisioned cluster keeps its changeable settings in one dict keyed like botocore's
``MutableClusterInfo`` (InstanceType, NumberOfBrokerNodes, BrokerEBSVolumeInfo, ...). An update
validates its request completely, snapshots the affected keys as the operation's source, stores
the new values as its target and only writes them into the cluster when the operation completes,
the way DescribeCluster shows the old values until MSK finishes an update.

Time comes from the emulator clock. Nothing runs in the background: every request first moves
this backend's clusters and operations forward to "now" (``advance_lifecycle``).

The module is named ``models`` so that moto's ``BaseBackend.urls`` finds the sibling ``urls``
module the same way it does for moto's own services.
"""

import copy
import re
import string
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from moto.core.resource_tagging import TaggedResource
from moto.kafka.models import KafkaBackend
from moto.kms.models import kms_backends
from moto.moto_api._internal import mock_random
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend, secretsmanager_backends

from . import catalog, rules
from .exceptions import BadRequestException, ConflictException, NotFoundException
from .state import OperationFault, emulator_state

# The service writes a typographic apostrophe here (terraform-provider-aws#25061).
STALE_VERSION_MESSAGE = (
    "The version of the cluster isn\u2019t current. Check the current version and try again."
)
CLUSTER_NAME_TAKEN_MESSAGE = (
    "This cluster name already exists. Retry your request using another name."
)
STORAGE_INCREASE_MESSAGE = "To update storage, you must increase it by at least 10 GiB."
NO_STORAGE_UPDATE_MESSAGE = (
    "The request does not include any updates to the EBS volumes of the cluster. "
    "Verify the request, then try again."
)
SCRAM_ERROR_CODE = "InvalidSecretArn"
SCRAM_PREFIX_MESSAGE = (
    "The provided secret arn cannot be used with Amazon MSK. "
    "Secret names must have the prefix 'AmazonMSK_'."
)
SCRAM_ACCESS_MESSAGE = "Amazon MSK wasn't able to access the provided secret."
SCRAM_DEFAULT_KEY_MESSAGE = (
    "The provided secret is encrypted with the default AWS Secrets Manager key. "
    "Amazon MSK requires a customer managed KMS key."
)
MAX_SECRETS_PER_CALL = 10
MAX_SECRETS_PER_CLUSTER = 1000
PUBLIC_ACCESS_TYPES = ("DISABLED", "SERVICE_PROVIDED_EIPS")
NAME_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]*$")
AWS_KAFKA_KEY_ALIAS = "alias/aws/kafka"

_CLUSTER_IDS = uuid.UUID("6d736b2d-6175-746f-7069-6c6f742d6964")  # namespace of cluster ARNs

# The one MutableClusterInfo member that describes a change rather than a setting.
BROKER_COUNT_UPDATE_INFO = "BrokerCountUpdateInfo"


def _new_cluster_version() -> str:
    # MSK versions look like "K3AEGXETSR30VB": an opaque uppercase token.
    alphabet = string.ascii_uppercase + string.digits
    return "K" + "".join(mock_random.choice(alphabet) for _ in range(13))


def _dns_label(name: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", name.lower())


@dataclass
class Broker:
    broker_id: int
    client_subnet: str
    eni_id: str
    ip_address: str
    node_id: str
    added: datetime


@dataclass
class MskCluster:
    arn: str
    name: str
    cluster_type: str  # PROVISIONED | SERVERLESS
    created: datetime
    ready_at: datetime
    current_version: str
    dns_id: str
    dns_cell: str
    # Provisioned: MutableClusterInfo-shaped settings plus the fixed network placement.
    settings: dict[str, Any] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    brokers: list[Broker] = field(default_factory=list)
    scram_secrets: list[str] = field(default_factory=list)
    last_storage_change_end: datetime | None = None
    # Serverless: the ServerlessRequest as given (VpcConfigs, ClientAuthentication).
    serverless: dict[str, Any] = field(default_factory=dict)
    state: str = "CREATING"
    active_operation_arn: str | None = None

    @property
    def is_serverless(self) -> bool:
        return self.cluster_type == "SERVERLESS"

    @property
    def resource_id(self) -> str:
        """The "<uuid>-<n>" part of the ARN, shared by the cluster's operation ARNs."""
        return self.arn.rsplit("/", 1)[1]

    def host(self, prefix: str) -> str:
        region = self.arn.split(":")[3]
        cluster_domain = f"{_dns_label(self.name)}.{self.dns_id}.{self.dns_cell}"
        return f"{prefix}.{cluster_domain}.kafka.{region}.amazonaws.com"

    def snapshot(self, keys: Iterable[str]) -> dict[str, Any]:
        return {key: copy.deepcopy(self.settings[key]) for key in keys if key in self.settings}


@dataclass
class ConfigurationRevision:
    revision: int
    created: datetime
    description: str
    server_properties: bytes

    def summary(self) -> dict[str, Any]:
        return {
            "CreationTime": self.created,
            "Description": self.description,
            "Revision": self.revision,
        }


@dataclass
class MskConfiguration:
    arn: str
    name: str
    description: str
    kafka_versions: list[str]
    created: datetime
    revisions: list[ConfigurationRevision]
    state: str = "ACTIVE"

    def info(self) -> dict[str, Any]:
        return {
            "Arn": self.arn,
            "CreationTime": self.created,
            "Description": self.description,
            "KafkaVersions": list(self.kafka_versions),
            "LatestRevision": self.revisions[-1].summary(),
            "Name": self.name,
            "State": self.state,
        }


@dataclass
class ClusterOperation:
    arn: str
    cluster_arn: str
    cluster_type: str
    operation_type: str
    client_request_id: str
    start_time: datetime
    planned_end: datetime
    source: dict[str, Any]
    target: dict[str, Any]
    fault: OperationFault | None
    state: str = "UPDATE_IN_PROGRESS"
    end_time: datetime | None = None
    error_info: dict[str, str] | None = None

    @property
    def running(self) -> bool:
        return self.state == "UPDATE_IN_PROGRESS"

    def _common(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "ClusterArn": self.cluster_arn,
            "OperationArn": self.arn,
            "OperationState": self.state,
            "OperationType": self.operation_type,
        }
        if self.end_time is not None:
            info["EndTime"] = self.end_time
        if self.error_info is not None:
            info["ErrorInfo"] = dict(self.error_info)
        return info

    def info_v1(self) -> dict[str, Any]:
        return {
            **self._common(),
            "ClientRequestId": self.client_request_id,
            "CreationTime": self.start_time,
            "SourceClusterInfo": copy.deepcopy(self.source),
            "TargetClusterInfo": copy.deepcopy(self.target),
        }

    def summary_v2(self) -> dict[str, Any]:
        return {**self._common(), "ClusterType": self.cluster_type, "StartTime": self.start_time}

    def info_v2(self) -> dict[str, Any]:
        return {
            **self.summary_v2(),
            "Provisioned": {
                "SourceClusterInfo": copy.deepcopy(self.source),
                "TargetClusterInfo": copy.deepcopy(self.target),
            },
        }


class MskBackend(KafkaBackend):
    """moto's kafka backend with the rest of the MSK control plane, per account and Region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.msk_clusters: dict[str, MskCluster] = {}
        self.clusters_created: Counter[str] = Counter()
        self.configurations: dict[str, MskConfiguration] = {}
        self.operations: dict[str, ClusterOperation] = {}

    # ----------------------------------------------------------------- lifecycle
    def advance_lifecycle(self) -> None:
        """Apply everything due by the emulator clock: creations, deletions, operation ends."""
        now = emulator_state.clock.now()
        for cluster in list(self.msk_clusters.values()):
            if cluster.state == "CREATING" and now >= cluster.ready_at:
                cluster.state = "ACTIVE"
            elif cluster.state == "DELETING":
                self._forget_cluster(cluster)
        due = sorted(
            (op for op in self.operations.values() if op.running and op.planned_end <= now),
            key=lambda op: op.planned_end,
        )
        for operation in due:
            self._finish_operation(operation)

    def pending_deadlines(self) -> list[datetime]:
        """When the clusters still being created and the running operations are due."""
        deadlines = [c.ready_at for c in self.msk_clusters.values() if c.state == "CREATING"]
        deadlines += [op.planned_end for op in self.operations.values() if op.running]
        return deadlines

    def _forget_cluster(self, cluster: MskCluster) -> None:
        del self.msk_clusters[cluster.arn]
        self.policies.pop(cluster.arn, None)
        self.tagger.delete_all_tags_for_resource(cluster.arn)
        for arn in [arn for arn, op in self.operations.items() if op.cluster_arn == cluster.arn]:
            del self.operations[arn]

    def _finish_operation(self, operation: ClusterOperation) -> None:
        cluster = self.msk_clusters[operation.cluster_arn]
        operation.end_time = operation.planned_end
        if operation.fault is not None:
            operation.state = "UPDATE_FAILED"
            operation.error_info = {
                "ErrorCode": operation.fault.error_code,
                "ErrorString": operation.fault.error_string,
            }
        else:
            operation.state = "UPDATE_COMPLETE"
            self._apply(cluster, operation)
        cluster.state = "ACTIVE"
        cluster.active_operation_arn = None
        cluster.current_version = _new_cluster_version()

    def _apply(self, cluster: MskCluster, operation: ClusterOperation) -> None:
        changes = {k: v for k, v in operation.target.items() if k != BROKER_COUNT_UPDATE_INFO}
        if "BrokerEBSVolumeInfo" in changes:
            cluster.last_storage_change_end = operation.end_time
        cluster.settings.update(copy.deepcopy(changes))
        if "NumberOfBrokerNodes" in changes:
            self._resize_brokers(cluster, changes["NumberOfBrokerNodes"], operation.planned_end)

    def _start_operation(
        self,
        cluster: MskCluster,
        operation_type: str,
        target: dict[str, Any],
        cluster_state: str = "UPDATING",
    ) -> ClusterOperation:
        now = emulator_state.clock.now()
        partition_region_account = cluster.arn.split(":cluster/")[0]
        operation = ClusterOperation(
            arn=(
                f"{partition_region_account}:cluster-operation/{cluster.name}/"
                f"{cluster.resource_id}/{mock_random.uuid4()}"
            ),
            cluster_arn=cluster.arn,
            cluster_type=cluster.cluster_type,
            operation_type=operation_type,
            client_request_id=str(mock_random.uuid4()),
            start_time=now,
            planned_end=now + timedelta(seconds=emulator_state.settings.operation_seconds),
            source=cluster.snapshot(target),
            target=copy.deepcopy(target),
            fault=emulator_state.take_fault(),
        )
        self.operations[operation.arn] = operation
        cluster.state = cluster_state
        cluster.active_operation_arn = operation.arn
        cluster.current_version = _new_cluster_version()
        return operation

    # ------------------------------------------------------------------- lookups
    def _cluster(self, cluster_arn: str) -> MskCluster:
        cluster = self.msk_clusters.get(cluster_arn)
        if cluster is None:
            raise NotFoundException(f"The cluster {cluster_arn} does not exist.", "clusterArn")
        return cluster

    def _provisioned(self, cluster_arn: str) -> MskCluster:
        cluster = self._cluster(cluster_arn)
        if cluster.is_serverless:
            raise BadRequestException(
                "This operation is not supported for serverless clusters.", "clusterArn"
            )
        return cluster

    def _updatable(self, cluster_arn: str, current_version: str) -> MskCluster:
        cluster = self._provisioned(cluster_arn)
        if current_version != cluster.current_version:
            raise BadRequestException(STALE_VERSION_MESSAGE, "currentVersion")
        if cluster.state != "ACTIVE":
            raise BadRequestException(
                f"The cluster is in the {cluster.state} state. "
                "You can update it only when it is ACTIVE.",
                "clusterArn",
            )
        return cluster

    def _configuration(self, arn: str) -> MskConfiguration:
        configuration = self.configurations.get(arn)
        if configuration is None:
            raise NotFoundException(f"The configuration {arn} does not exist.", "arn")
        return configuration

    def _arn_prefix(self) -> str:
        return f"arn:{self.partition}:kafka:{self.region_name}:{self.account_id}"

    # ------------------------------------------------------------------ clusters
    def create_provisioned_cluster(
        self, name: str, request: dict[str, Any], tags: dict[str, str] | None
    ) -> MskCluster:
        """``request`` is a CreateClusterRequest / ProvisionedRequest in botocore member names."""
        self._check_new_cluster_name(name)
        rules.check_provisioned_request(request)
        group = request["BrokerNodeGroupInfo"]
        kafka_version, instance_type = request["KafkaVersion"], group["InstanceType"]
        settings: dict[str, Any] = {
            "InstanceType": instance_type,
            "NumberOfBrokerNodes": request["NumberOfBrokerNodes"],
            "KafkaVersion": kafka_version,
            "ClientAuthentication": rules.client_authentication(
                request.get("ClientAuthentication")
            ),
            "EncryptionInfo": rules.encryption_info(request.get("EncryptionInfo", {})),
            "EnhancedMonitoring": request.get("EnhancedMonitoring", "DEFAULT"),
            "OpenMonitoring": rules.open_monitoring(request.get("OpenMonitoring")),
            "LoggingInfo": rules.logging_info(request.get("LoggingInfo")),
            "ConnectivityInfo": rules.deep_merge(
                {"PublicAccess": {"Type": "DISABLED"}}, group.get("ConnectivityInfo", {})
            ),
            "StorageMode": request.get("StorageMode", "LOCAL"),
        }
        if "Rebalancing" in request:
            settings["Rebalancing"] = request["Rebalancing"]
        if not catalog.is_express(instance_type):
            settings["BrokerEBSVolumeInfo"] = [rules.initial_volume(group)]
        if settings["StorageMode"] == "TIERED":
            rules.check_tiered_storage(kafka_version, instance_type)
        rules.check_security(settings)
        if "ConfigurationInfo" in request:
            settings["ConfigurationInfo"] = self._usable_configuration(
                request["ConfigurationInfo"], kafka_version
            )
        network = {
            "BrokerAZDistribution": group.get("BrokerAZDistribution", "DEFAULT"),
            "ClientSubnets": list(group["ClientSubnets"]),
            "SecurityGroups": list(group.get("SecurityGroups", [])),
        }
        if group.get("ZoneIds"):
            network["ZoneIds"] = list(group["ZoneIds"])
        # Validation is over: only now create the AWS managed key in moto's KMS if it is needed.
        at_rest = settings["EncryptionInfo"]["EncryptionAtRest"]
        if not at_rest.get("DataVolumeKMSKeyId"):
            at_rest["DataVolumeKMSKeyId"] = self._aws_managed_kafka_key_arn()
        cluster = self._new_cluster(name, "PROVISIONED", tags)
        cluster.settings = settings
        cluster.network = network
        self._resize_brokers(cluster, settings["NumberOfBrokerNodes"], cluster.created)
        return cluster

    def create_serverless_cluster(
        self, name: str, request: dict[str, Any], tags: dict[str, str] | None
    ) -> MskCluster:
        self._check_new_cluster_name(name)
        for index, vpc_config in enumerate(request["VpcConfigs"]):
            if len(vpc_config["SubnetIds"]) < 2:
                raise BadRequestException(
                    "Each VPC configuration needs subnets in at least two Availability Zones.",
                    f"serverless.vpcConfigs[{index}].subnetIds",
                )
        if not rules.enabled(request.get("ClientAuthentication"), "Sasl", "Iam"):
            raise BadRequestException(
                "Serverless clusters require IAM access control: set "
                "clientAuthentication.sasl.iam.enabled to true.",
                "serverless.clientAuthentication",
            )
        cluster = self._new_cluster(name, "SERVERLESS", tags)
        cluster.serverless = copy.deepcopy(request)
        return cluster

    def _check_new_cluster_name(self, name: str) -> None:
        if not NAME_PATTERN.match(name):
            raise BadRequestException(
                "Cluster names start with a letter or digit and contain only letters, digits "
                "and hyphens.",
                "clusterName",
            )
        if any(cluster.name == name for cluster in self.msk_clusters.values()):
            raise ConflictException(CLUSTER_NAME_TAKEN_MESSAGE, "clusterName")

    def _new_cluster(self, name: str, cluster_type: str, tags: dict[str, str] | None) -> MskCluster:
        now = emulator_state.clock.now()
        # Stable identities: a fresh emulator gives a cluster of this account, Region and name
        # the same ARN every time, so sample events and fleet files can name seeded clusters.
        # A name created again after a deletion gets a new ARN, as in MSK.
        generation = self.clusters_created[name]
        self.clusters_created[name] += 1
        identity = uuid.uuid5(
            _CLUSTER_IDS, f"{self.account_id}/{self.region_name}/{name}/{generation}"
        )
        serverless = cluster_type == "SERVERLESS"
        suffix = f"s{identity.int % 3 + 1}" if serverless else str(identity.int % 25 + 1)
        cluster = MskCluster(
            arn=f"{self._arn_prefix()}:cluster/{name}/{identity}-{suffix}",
            name=name,
            cluster_type=cluster_type,
            created=now,
            ready_at=now + timedelta(seconds=emulator_state.settings.cluster_create_seconds),
            current_version=_new_cluster_version(),
            dns_id=mock_random.get_random_string(6, lower_case=True),
            dns_cell=f"c{mock_random.randint(1, 25)}",
        )
        self.msk_clusters[cluster.arn] = cluster
        if tags:
            self.tag_resource(cluster.arn, tags)
        return cluster

    def _resize_brokers(self, cluster: MskCluster, count: int, when: datetime) -> None:
        subnets = cluster.network["ClientSubnets"]
        del cluster.brokers[count:]
        for broker_id in range(len(cluster.brokers) + 1, count + 1):
            cluster.brokers.append(
                Broker(
                    broker_id=broker_id,
                    client_subnet=subnets[(broker_id - 1) % len(subnets)],
                    eni_id=f"eni-{mock_random.get_random_hex(17)}",
                    ip_address=f"10.0.{(broker_id - 1) % len(subnets)}.{10 + broker_id}",
                    node_id=str(mock_random.uuid4()),
                    added=when,
                )
            )

    def _aws_managed_kafka_key_arn(self) -> str:
        """The account's AWS managed ``aws/kafka`` key, created in moto's KMS on first use."""
        kms = kms_backends[self.account_id][self.region_name]
        for key in kms.keys.values():
            if AWS_KAFKA_KEY_ALIAS in key.aliases:
                return str(key.arn)
        key = kms.create_key(
            policy=None,
            key_usage="ENCRYPT_DECRYPT",
            key_spec="SYMMETRIC_DEFAULT",
            description="Default key that protects my MSK data when no other key is defined",
            tags=None,
        )
        key.key_manager = "AWS"
        kms.create_alias(key.id, AWS_KAFKA_KEY_ALIAS)
        return str(key.arn)

    def delete_cluster(self, cluster_arn: str, current_version: str | None) -> tuple[str, str]:
        cluster = self._cluster(cluster_arn)
        if current_version is not None and current_version != cluster.current_version:
            raise BadRequestException(STALE_VERSION_MESSAGE, "currentVersion")
        cluster.state = "DELETING"
        return cluster.arn, cluster.state

    def cluster_info_v2(self, cluster_arn: str) -> dict[str, Any]:
        cluster = self._cluster(cluster_arn)
        info = self._cluster_header(cluster)
        info["ClusterType"] = cluster.cluster_type
        if cluster.is_serverless:
            serverless: dict[str, Any] = {
                "VpcConfigs": copy.deepcopy(cluster.serverless["VpcConfigs"]),
                "ClientAuthentication": copy.deepcopy(cluster.serverless["ClientAuthentication"]),
            }
            info["Serverless"] = serverless
            return info
        provisioned = self._provisioned_details(cluster)
        info["Provisioned"] = provisioned
        return info

    def cluster_info_v1(self, cluster_arn: str) -> dict[str, Any]:
        cluster = self._cluster(cluster_arn)
        if cluster.is_serverless:
            raise BadRequestException(
                "This operation is not supported for serverless clusters. Use DescribeClusterV2.",
                "clusterArn",
            )
        return {**self._cluster_header(cluster), **self._provisioned_details(cluster)}

    def list_cluster_infos_v1(self, name_prefix: str | None) -> list[dict[str, Any]]:
        # The v1 API predates serverless clusters and lists provisioned clusters only.
        return [
            self.cluster_info_v1(cluster.arn)
            for cluster in self._clusters_named(name_prefix)
            if not cluster.is_serverless
        ]

    def list_cluster_infos_v2(
        self, name_prefix: str | None, cluster_type: str | None
    ) -> list[dict[str, Any]]:
        return [
            self.cluster_info_v2(cluster.arn)
            for cluster in self._clusters_named(name_prefix)
            if cluster_type is None or cluster.cluster_type == cluster_type.upper()
        ]

    def _clusters_named(self, name_prefix: str | None) -> list[MskCluster]:
        return sorted(
            (c for c in self.msk_clusters.values() if c.name.startswith(name_prefix or "")),
            key=lambda cluster: (cluster.created, cluster.name),
        )

    def _cluster_header(self, cluster: MskCluster) -> dict[str, Any]:
        info: dict[str, Any] = {
            "ClusterArn": cluster.arn,
            "ClusterName": cluster.name,
            "CreationTime": cluster.created,
            "CurrentVersion": cluster.current_version,
            "State": cluster.state,
            "Tags": self.list_tags_for_resource(cluster.arn),
        }
        if cluster.active_operation_arn is not None:
            info["ActiveOperationArn"] = cluster.active_operation_arn
        return info

    def _provisioned_details(self, cluster: MskCluster) -> dict[str, Any]:
        settings = cluster.settings
        group: dict[str, Any] = {
            **copy.deepcopy(cluster.network),
            "InstanceType": settings["InstanceType"],
            "ConnectivityInfo": copy.deepcopy(settings["ConnectivityInfo"]),
        }
        if "BrokerEBSVolumeInfo" in settings:
            volume = settings["BrokerEBSVolumeInfo"][0]
            ebs: dict[str, Any] = {"VolumeSize": volume["VolumeSizeGB"]}
            if "ProvisionedThroughput" in volume:
                ebs["ProvisionedThroughput"] = dict(volume["ProvisionedThroughput"])
            group["StorageInfo"] = {"EbsStorageInfo": ebs}
        software: dict[str, Any] = {"KafkaVersion": settings["KafkaVersion"]}
        if "ConfigurationInfo" in settings:
            software["ConfigurationArn"] = settings["ConfigurationInfo"]["Arn"]
            software["ConfigurationRevision"] = settings["ConfigurationInfo"]["Revision"]
        details: dict[str, Any] = {
            "BrokerNodeGroupInfo": group,
            "ClientAuthentication": copy.deepcopy(settings["ClientAuthentication"]),
            "CurrentBrokerSoftwareInfo": software,
            "EncryptionInfo": copy.deepcopy(settings["EncryptionInfo"]),
            "EnhancedMonitoring": settings["EnhancedMonitoring"],
            "OpenMonitoring": copy.deepcopy(settings["OpenMonitoring"]),
            "LoggingInfo": copy.deepcopy(settings["LoggingInfo"]),
            "NumberOfBrokerNodes": settings["NumberOfBrokerNodes"],
            "StorageMode": settings["StorageMode"],
            "CustomerActionStatus": "NONE",
        }
        if "Rebalancing" in settings:
            details["Rebalancing"] = copy.deepcopy(settings["Rebalancing"])
        if not catalog.is_kraft(settings["KafkaVersion"]):
            details["ZookeeperConnectString"] = ",".join(
                f"{cluster.host(f'z-{n}')}:2181" for n in (1, 2, 3)
            )
            details["ZookeeperConnectStringTls"] = ",".join(
                f"{cluster.host(f'z-{n}')}:2182" for n in (1, 2, 3)
            )
        return details

    # ------------------------------------------------------------ update calls
    def update_broker_storage(
        self, cluster_arn: str, current_version: str, volumes: list[dict[str, Any]]
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        if len(volumes) != 1 or volumes[0]["KafkaBrokerNodeId"] != rules.ALL_VOLUMES:
            raise BadRequestException(
                "Specify exactly one targetBrokerEBSVolumeInfo entry, with kafkaBrokerNodeId ALL.",
                "targetBrokerEBSVolumeInfo",
            )
        target = self._storage_target(
            cluster, volumes[0].get("VolumeSizeGB"), volumes[0].get("ProvisionedThroughput")
        )
        if target is None:
            raise BadRequestException(NO_STORAGE_UPDATE_MESSAGE, "targetBrokerEBSVolumeInfo")
        self._check_storage_cooldown(cluster)
        return self._start_operation(
            cluster, "UPDATE_BROKER_STORAGE", {"BrokerEBSVolumeInfo": target}
        )

    def update_storage(
        self,
        cluster_arn: str,
        current_version: str,
        volume_size: int | None,
        throughput: dict[str, Any] | None,
        storage_mode: str | None,
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        target: dict[str, Any] = {}
        volumes = self._storage_target(cluster, volume_size, throughput)
        if volumes is not None:
            target["BrokerEBSVolumeInfo"] = volumes
        if storage_mode is not None and storage_mode != cluster.settings["StorageMode"]:
            if storage_mode == "TIERED":
                rules.check_tiered_storage(
                    cluster.settings["KafkaVersion"], cluster.settings["InstanceType"]
                )
            target["StorageMode"] = storage_mode
        if not target:
            raise BadRequestException(NO_STORAGE_UPDATE_MESSAGE, "volumeSizeGB")
        if volumes is not None:
            self._check_storage_cooldown(cluster)
        return self._start_operation(cluster, "UPDATE_STORAGE", target)

    def _storage_target(
        self, cluster: MskCluster, volume_size: int | None, throughput: dict[str, Any] | None
    ) -> list[dict[str, Any]] | None:
        """The new BrokerEBSVolumeInfo, or None when the request changes nothing."""
        instance_type = cluster.settings["InstanceType"]
        if catalog.is_express(instance_type):
            if volume_size is None and throughput is None:
                return None
            raise BadRequestException(
                "Express brokers manage their own storage; you can't update their EBS volumes.",
                "volumeSizeGB",
            )
        current = cluster.settings["BrokerEBSVolumeInfo"][0]
        new = copy.deepcopy(current)
        if volume_size is not None and volume_size != current["VolumeSizeGB"]:
            if volume_size > catalog.MAX_VOLUME_SIZE_GIB:
                raise BadRequestException(
                    f"The storage per broker can be at most {catalog.MAX_VOLUME_SIZE_GIB} GiB.",
                    "volumeSizeGB",
                )
            # Shrinking gets the same answer as a too-small increase (terraform-provider-aws#20327).
            if volume_size < current["VolumeSizeGB"] + catalog.MIN_STORAGE_INCREASE_GIB:
                raise BadRequestException(STORAGE_INCREASE_MESSAGE, "volumeSizeGB")
            new["VolumeSizeGB"] = volume_size
        if throughput is not None:
            new["ProvisionedThroughput"] = rules.provisioned_throughput(throughput, instance_type)
            if (
                new["ProvisionedThroughput"] == {"Enabled": False}
                and "ProvisionedThroughput" not in current
            ):
                del new["ProvisionedThroughput"]
        return None if new == current else [new]

    def _check_storage_cooldown(self, cluster: MskCluster) -> None:
        if cluster.last_storage_change_end is None:
            return
        ready = cluster.last_storage_change_end + timedelta(
            seconds=emulator_state.settings.storage_cooldown_seconds
        )
        if emulator_state.clock.now() < ready:
            raise BadRequestException(
                "The cluster's storage was updated recently. You can update it again after the "
                f"storage cool-down period ends at {ready.isoformat(timespec='seconds')}.",
                "targetBrokerEBSVolumeInfo",
            )

    def update_broker_count(
        self, cluster_arn: str, current_version: str, target_count: int
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        current_count = cluster.settings["NumberOfBrokerNodes"]
        zones = len(cluster.network["ClientSubnets"])
        if target_count == current_count:
            raise BadRequestException(
                "The request does not include any updates to the number of brokers.",
                "targetNumberOfBrokerNodes",
            )
        if target_count % zones:
            raise BadRequestException(
                f"The number of broker nodes must be a multiple of the {zones} Availability "
                "Zones of the cluster.",
                "targetNumberOfBrokerNodes",
            )
        if target_count > current_count:
            update_info = {
                "CreatedBrokerIds": [float(n) for n in range(current_count + 1, target_count + 1)]
            }
        else:
            update_info = {
                "DeletedBrokerIds": [float(n) for n in range(target_count + 1, current_count + 1)]
            }
        return self._start_operation(
            cluster,
            "UPDATE_BROKER_COUNT",
            {"NumberOfBrokerNodes": target_count, BROKER_COUNT_UPDATE_INFO: update_info},
        )

    def update_broker_type(
        self, cluster_arn: str, current_version: str, target_type: str
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        current_type = cluster.settings["InstanceType"]
        if target_type not in catalog.INSTANCE_TYPES:
            raise BadRequestException(
                f"Unsupported instance type {target_type}.", "targetInstanceType"
            )
        if target_type == current_type:
            raise BadRequestException(
                "The request does not include any updates to the broker type.", "targetInstanceType"
            )
        if catalog.is_express(target_type) != catalog.is_express(current_type):
            raise BadRequestException(
                "You can't change brokers between the Standard and Express broker types.",
                "targetInstanceType",
            )
        volume = cluster.settings.get("BrokerEBSVolumeInfo", [{}])[0]
        if volume.get("ProvisionedThroughput", {}).get("Enabled"):
            rules.provisioned_throughput(volume["ProvisionedThroughput"], target_type)
        if cluster.settings["StorageMode"] == "TIERED":
            rules.check_tiered_storage(cluster.settings["KafkaVersion"], target_type)
        return self._start_operation(cluster, "UPDATE_BROKER_TYPE", {"InstanceType": target_type})

    def update_cluster_configuration(
        self, cluster_arn: str, current_version: str, configuration_info: dict[str, Any]
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        wanted = self._usable_configuration(configuration_info, cluster.settings["KafkaVersion"])
        if cluster.settings.get("ConfigurationInfo") == wanted:
            raise BadRequestException(
                "The cluster already uses this configuration revision.", "configurationInfo"
            )
        return self._start_operation(
            cluster, "UPDATE_CLUSTER_CONFIGURATION", {"ConfigurationInfo": wanted}
        )

    def update_cluster_kafka_version(
        self,
        cluster_arn: str,
        current_version: str,
        target_version: str,
        configuration_info: dict[str, Any] | None,
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        source_version = cluster.settings["KafkaVersion"]
        if target_version == source_version:
            raise BadRequestException(
                f"The cluster already runs Apache Kafka {target_version}.", "targetKafkaVersion"
            )
        targets = catalog.upgrade_targets(source_version)
        if target_version not in targets:
            raise BadRequestException(
                f"You can't update the cluster from Apache Kafka {source_version} to "
                f"{target_version}. Compatible versions: [{', '.join(targets)}]",
                "targetKafkaVersion",
            )
        target: dict[str, Any] = {"KafkaVersion": target_version}
        if configuration_info is not None:
            target["ConfigurationInfo"] = self._usable_configuration(
                configuration_info, target_version
            )
        return self._start_operation(cluster, "UPDATE_CLUSTER_KAFKA_VERSION", target)

    def update_connectivity(
        self, cluster_arn: str, current_version: str, connectivity: dict[str, Any] | None
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        wanted = rules.deep_merge(cluster.settings["ConnectivityInfo"], connectivity or {})
        access_type = wanted["PublicAccess"].get("Type", "DISABLED")
        if access_type not in PUBLIC_ACCESS_TYPES:
            raise BadRequestException(
                f"The public access type must be one of: {', '.join(PUBLIC_ACCESS_TYPES)}.",
                "connectivityInfo.publicAccess.type",
            )
        if wanted == cluster.settings["ConnectivityInfo"]:
            raise BadRequestException(
                "The request does not include any updates to the connectivity of the cluster.",
                "connectivityInfo",
            )
        rules.check_security({**cluster.settings, "ConnectivityInfo": wanted})
        return self._start_operation(cluster, "UPDATE_CONNECTIVITY", {"ConnectivityInfo": wanted})

    def update_monitoring(
        self, cluster_arn: str, current_version: str, request: dict[str, Any]
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        wanted: dict[str, Any] = {}
        if "EnhancedMonitoring" in request:
            wanted["EnhancedMonitoring"] = request["EnhancedMonitoring"]
        if "OpenMonitoring" in request:
            wanted["OpenMonitoring"] = rules.open_monitoring(request["OpenMonitoring"])
        if "LoggingInfo" in request:
            wanted["LoggingInfo"] = rules.logging_info(request["LoggingInfo"])
        target = {key: value for key, value in wanted.items() if cluster.settings[key] != value}
        if not target:
            raise BadRequestException(
                "The request does not include any updates to the monitoring of the cluster.",
                "enhancedMonitoring",
            )
        return self._start_operation(cluster, "UPDATE_MONITORING", target)

    def update_security(
        self,
        cluster_arn: str,
        current_version: str,
        client_authentication: dict[str, Any] | None,
        encryption: dict[str, Any] | None,
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        current_encryption = cluster.settings["EncryptionInfo"]
        wanted: dict[str, Any] = {}
        if client_authentication is not None:
            wanted["ClientAuthentication"] = rules.client_authentication(
                client_authentication, cluster.settings["ClientAuthentication"]
            )
        if encryption is not None:
            at_rest = encryption.get("EncryptionAtRest")
            if at_rest is not None and at_rest != current_encryption["EncryptionAtRest"]:
                raise BadRequestException(
                    "You can't change encryption at rest of an existing cluster.",
                    "encryptionInfo.encryptionAtRest",
                )
            in_transit = rules.deep_merge(
                current_encryption["EncryptionInTransit"], encryption.get("EncryptionInTransit", {})
            )
            if in_transit["InCluster"] != current_encryption["EncryptionInTransit"]["InCluster"]:
                raise BadRequestException(
                    "You can't change encryption within the cluster of an existing cluster.",
                    "encryptionInfo.encryptionInTransit.inCluster",
                )
            wanted["EncryptionInfo"] = {**current_encryption, "EncryptionInTransit": in_transit}
        target = {key: value for key, value in wanted.items() if cluster.settings[key] != value}
        if not target:
            raise BadRequestException(
                "The request does not include any updates to the security settings of the cluster.",
                "clientAuthentication",
            )
        rules.check_security({**cluster.settings, **target})
        return self._start_operation(cluster, "UPDATE_SECURITY", target)

    def reboot_broker(self, cluster_arn: str, broker_ids: list[str]) -> ClusterOperation:
        cluster = self._provisioned(cluster_arn)
        if len(broker_ids) != 1:
            raise BadRequestException("You can reboot only one broker at a time.", "brokerIds")
        if broker_ids[0] not in {str(broker.broker_id) for broker in cluster.brokers}:
            raise BadRequestException(
                f"The cluster has no broker with ID {broker_ids[0]}.", "brokerIds"
            )
        if cluster.state != "ACTIVE":
            raise BadRequestException(
                f"The cluster is in the {cluster.state} state. You can reboot a broker only when "
                "the cluster is ACTIVE.",
                "clusterArn",
            )
        return self._start_operation(cluster, "REBOOT_NODE", {}, cluster_state="REBOOTING_BROKER")

    # -------------------------------------------------------------- operations
    def _operation(self, operation_arn: str) -> ClusterOperation:
        operation = self.operations.get(operation_arn)
        if operation is None:
            raise NotFoundException(
                f"The cluster operation {operation_arn} does not exist.", "clusterOperationArn"
            )
        return operation

    def describe_operation_v1(self, operation_arn: str) -> dict[str, Any]:
        return self._operation(operation_arn).info_v1()

    def describe_operation_v2(self, operation_arn: str) -> dict[str, Any]:
        return self._operation(operation_arn).info_v2()

    def cluster_operations(self, cluster_arn: str) -> list[ClusterOperation]:
        """The cluster's operations, newest first."""
        self._cluster(cluster_arn)
        return sorted(
            (op for op in self.operations.values() if op.cluster_arn == cluster_arn),
            key=lambda op: op.start_time,
            reverse=True,
        )

    # ---------------------------------------------------------- configurations
    def create_configuration(
        self,
        name: str,
        server_properties: bytes,
        kafka_versions: list[str],
        description: str,
    ) -> MskConfiguration:
        if not NAME_PATTERN.match(name) or len(name) > 64:
            raise BadRequestException(
                "Configuration names start with a letter or digit and contain only letters, "
                "digits and hyphens (at most 64 characters).",
                "name",
            )
        for version in kafka_versions:
            if version not in catalog.KAFKA_VERSION_STATUS:
                raise BadRequestException(f"Unsupported KafkaVersion [{version}].", "kafkaVersions")
        rules.check_server_properties(server_properties)
        if any(configuration.name == name for configuration in self.configurations.values()):
            raise ConflictException(
                "A configuration with this name already exists. "
                "Retry your request using another name.",
                "name",
            )
        now = emulator_state.clock.now()
        configuration = MskConfiguration(
            arn=(
                f"{self._arn_prefix()}:configuration/{name}/"
                f"{mock_random.uuid4()}-{mock_random.randint(1, 25)}"
            ),
            name=name,
            description=description,
            kafka_versions=list(kafka_versions),
            created=now,
            revisions=[ConfigurationRevision(1, now, description, server_properties)],
        )
        self.configurations[configuration.arn] = configuration
        return configuration

    def update_configuration(
        self, arn: str, server_properties: bytes, description: str
    ) -> MskConfiguration:
        configuration = self._configuration(arn)
        if configuration.state != "ACTIVE":
            raise BadRequestException(
                f"The configuration is in the {configuration.state} state.", "arn"
            )
        rules.check_server_properties(server_properties)
        configuration.revisions.append(
            ConfigurationRevision(
                len(configuration.revisions) + 1,
                emulator_state.clock.now(),
                description,
                server_properties,
            )
        )
        return configuration

    def describe_configuration(self, arn: str) -> MskConfiguration:
        return self._configuration(arn)

    def configuration_revision(self, arn: str, revision: int) -> ConfigurationRevision:
        configuration = self._configuration(arn)
        if not 1 <= revision <= len(configuration.revisions):
            raise NotFoundException(
                f"The configuration {arn} has no revision {revision}.", "revision"
            )
        return configuration.revisions[revision - 1]

    def list_configurations(self) -> list[MskConfiguration]:
        return sorted(self.configurations.values(), key=lambda c: (c.created, c.name))

    def delete_configuration(self, arn: str) -> MskConfiguration:
        configuration = self._configuration(arn)
        users = sorted(
            cluster.name
            for cluster in self.msk_clusters.values()
            if cluster.settings.get("ConfigurationInfo", {}).get("Arn") == arn
        )
        users += sorted(
            self.msk_clusters[op.cluster_arn].name
            for op in self.operations.values()
            if op.running and op.target.get("ConfigurationInfo", {}).get("Arn") == arn
        )
        if users:
            raise BadRequestException(
                f"The configuration is in use by clusters [{', '.join(users)}]. "
                "Update those clusters to another configuration first.",
                "arn",
            )
        del self.configurations[arn]
        configuration.state = "DELETING"
        self.tagger.delete_all_tags_for_resource(arn)
        return configuration

    def _usable_configuration(
        self, configuration_info: dict[str, Any], kafka_version: str
    ) -> dict[str, Any]:
        """Check a ConfigurationInfo a cluster is to use; returns it as the cluster stores it."""
        arn = configuration_info["Arn"]
        if not arn.startswith(f"{self._arn_prefix()}:configuration/"):
            raise BadRequestException("Invalid Configuration ARN.", "configurationInfo.arn")
        configuration = self.configurations.get(arn)
        if configuration is None:
            raise BadRequestException(
                f"The configuration {arn} does not exist.", "configurationInfo.arn"
            )
        revision = configuration_info["Revision"]
        if not 1 <= revision <= len(configuration.revisions):
            raise BadRequestException(
                f"The configuration {arn} has no revision {revision}.",
                "configurationInfo.revision",
            )
        if configuration.kafka_versions and kafka_version not in configuration.kafka_versions:
            raise BadRequestException(
                "The configuration supports Apache Kafka "
                f"[{', '.join(configuration.kafka_versions)}], not {kafka_version}.",
                "configurationInfo.arn",
            )
        return {"Arn": arn, "Revision": revision}

    # ---------------------------------------------------------------- SCRAM
    def _scram_cluster(self, cluster_arn: str, secret_arns: list[str]) -> MskCluster:
        cluster = self._provisioned(cluster_arn)
        if not secret_arns:
            raise BadRequestException("Specify at least one secret ARN.", "secretArnList")
        if len(secret_arns) > MAX_SECRETS_PER_CALL:
            raise BadRequestException(
                f"You can associate or disassociate at most {MAX_SECRETS_PER_CALL} secrets "
                "per call.",
                "secretArnList",
            )
        if not rules.enabled(cluster.settings["ClientAuthentication"], "Sasl", "Scram"):
            raise BadRequestException(
                "SASL/SCRAM authentication is not turned on for this cluster.", "clusterArn"
            )
        if cluster.state in ("CREATING", "DELETING"):
            raise BadRequestException(f"The cluster is in the {cluster.state} state.", "clusterArn")
        return cluster

    def associate_scram_secrets(
        self, cluster_arn: str, secret_arns: list[str]
    ) -> list[dict[str, str]]:
        cluster = self._scram_cluster(cluster_arn, secret_arns)
        unprocessed: list[dict[str, str]] = []
        for secret_arn in secret_arns:
            problem = self._scram_secret_problem(secret_arn)
            if problem is None and secret_arn not in cluster.scram_secrets:
                if len(cluster.scram_secrets) >= MAX_SECRETS_PER_CLUSTER:
                    problem = (
                        f"The cluster already has {MAX_SECRETS_PER_CLUSTER} associated secrets, "
                        "the maximum."
                    )
                else:
                    cluster.scram_secrets.append(secret_arn)
            if problem is not None:
                unprocessed.append(
                    {
                        "ErrorCode": SCRAM_ERROR_CODE,
                        "ErrorMessage": problem,
                        "SecretArn": secret_arn,
                    }
                )
        return unprocessed

    def disassociate_scram_secrets(
        self, cluster_arn: str, secret_arns: list[str]
    ) -> list[dict[str, str]]:
        cluster = self._scram_cluster(cluster_arn, secret_arns)
        unprocessed: list[dict[str, str]] = []
        for secret_arn in secret_arns:
            if secret_arn in cluster.scram_secrets:
                cluster.scram_secrets.remove(secret_arn)
            else:
                unprocessed.append(
                    {
                        "ErrorCode": SCRAM_ERROR_CODE,
                        "ErrorMessage": "The secret is not associated with the cluster.",
                        "SecretArn": secret_arn,
                    }
                )
        return unprocessed

    def list_scram_secrets(self, cluster_arn: str) -> list[str]:
        return list(self._provisioned(cluster_arn).scram_secrets)

    def _scram_secret_problem(self, secret_arn: str) -> str | None:
        """Why MSK would refuse this secret, or None when it is usable."""
        prefix = f"arn:{self.partition}:secretsmanager:{self.region_name}:{self.account_id}:secret:"
        if not secret_arn.startswith(prefix):
            return SCRAM_ACCESS_MESSAGE
        secrets: SecretsManagerBackend = secretsmanager_backends[self.account_id][self.region_name]
        secret = secrets.secrets.get(secret_arn)
        if secret is None or secret.arn != secret_arn or secret.is_deleted():
            return SCRAM_ACCESS_MESSAGE
        if not secret.name.startswith("AmazonMSK_"):
            return SCRAM_PREFIX_MESSAGE
        kms_key_id = secret.kms_key_id if isinstance(secret, FakeSecret) else None
        if self._is_default_secrets_key(kms_key_id):
            return SCRAM_DEFAULT_KEY_MESSAGE
        return None

    def _is_default_secrets_key(self, kms_key_id: str | None) -> bool:
        default_alias = SecretsManagerBackend.DEFAULT_KMS_KEY_ALIAS
        if (
            kms_key_id is None
            or kms_key_id == default_alias
            or kms_key_id.endswith(":" + default_alias)
        ):
            return True
        kms = kms_backends[self.account_id][self.region_name]
        key_id = kms.get_key_id(kms_key_id)
        key = kms.keys.get(key_id)
        return key is not None and default_alias in key.aliases

    # ------------------------------------------------------- nodes and brokers
    def list_nodes(self, cluster_arn: str) -> list[dict[str, Any]]:
        cluster = self._provisioned(cluster_arn)
        if cluster.state == "CREATING":
            return []
        settings = cluster.settings
        software: dict[str, Any] = {"KafkaVersion": settings["KafkaVersion"]}
        if "ConfigurationInfo" in settings:
            software["ConfigurationArn"] = settings["ConfigurationInfo"]["Arn"]
            software["ConfigurationRevision"] = settings["ConfigurationInfo"]["Revision"]
        node_prefix = cluster.arn.replace(":cluster/", ":broker/", 1)
        return [
            {
                "AddedToClusterTime": broker.added.isoformat(timespec="milliseconds"),
                "BrokerNodeInfo": {
                    "AttachedENIId": broker.eni_id,
                    "BrokerId": float(broker.broker_id),
                    "BrokerNodeType": "EXPRESS"
                    if catalog.is_express(settings["InstanceType"])
                    else "STANDARD",
                    "ClientSubnet": broker.client_subnet,
                    "ClientVpcIpAddress": broker.ip_address,
                    "CurrentBrokerSoftwareInfo": dict(software),
                    "Endpoints": [cluster.host(f"b-{broker.broker_id}")],
                },
                "InstanceType": settings["InstanceType"],
                "NodeARN": f"{node_prefix}/{broker.node_id}",
                "NodeType": "BROKER",
            }
            for broker in cluster.brokers
        ]

    def bootstrap_brokers(self, cluster_arn: str) -> dict[str, str]:
        cluster = self._cluster(cluster_arn)
        if cluster.state == "CREATING":
            raise ConflictException(
                "The cluster is being created. Bootstrap broker information is available when "
                "the cluster is ACTIVE.",
                "clusterArn",
            )
        if cluster.is_serverless:
            region = cluster.arn.split(":")[3]
            host = (
                f"boot-{cluster.dns_id}.{cluster.dns_cell}.kafka-serverless.{region}.amazonaws.com"
            )
            return {"BootstrapBrokerStringSaslIam": f"{host}:9098"}
        settings = cluster.settings
        auth = settings["ClientAuthentication"]
        client_broker = settings["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"]
        unauthenticated = rules.enabled(auth, "Unauthenticated")
        tls_listener = client_broker in ("TLS", "TLS_PLAINTEXT") and (
            unauthenticated or rules.enabled(auth, "Tls")
        )
        listeners = {
            "BootstrapBrokerString": (
                client_broker in ("PLAINTEXT", "TLS_PLAINTEXT") and unauthenticated,
                "",
                9092,
            ),
            "BootstrapBrokerStringTls": (tls_listener, "", 9094),
            "BootstrapBrokerStringSaslScram": (rules.enabled(auth, "Sasl", "Scram"), "", 9096),
            "BootstrapBrokerStringSaslIam": (rules.enabled(auth, "Sasl", "Iam"), "", 9098),
        }
        if settings["ConnectivityInfo"]["PublicAccess"].get("Type") == "SERVICE_PROVIDED_EIPS":
            listeners |= {
                "BootstrapBrokerStringPublicTls": (rules.enabled(auth, "Tls"), "-public", 9194),
                "BootstrapBrokerStringPublicSaslScram": (
                    rules.enabled(auth, "Sasl", "Scram"),
                    "-public",
                    9196,
                ),
                "BootstrapBrokerStringPublicSaslIam": (
                    rules.enabled(auth, "Sasl", "Iam"),
                    "-public",
                    9198,
                ),
            }
        return {
            name: ",".join(
                f"{cluster.host(f'b-{broker.broker_id}{suffix}')}:{port}"
                for broker in cluster.brokers
            )
            for name, (enabled, suffix, port) in listeners.items()
            if enabled
        }

    # ----------------------------------------------------------------- versions
    def compatible_kafka_versions(self, cluster_arn: str | None) -> list[dict[str, Any]]:
        if cluster_arn is not None:
            source_versions = [self._provisioned(cluster_arn).settings["KafkaVersion"]]
        else:
            source_versions = list(catalog.ACTIVE_KAFKA_VERSIONS)
        return [
            {"SourceVersion": version, "TargetVersions": catalog.upgrade_targets(version)}
            for version in source_versions
        ]

    # ------------------------------------------------------------ cluster policy
    def put_cluster_policy(self, cluster_arn: str, current_version: str | None, policy: str) -> str:
        self._cluster(cluster_arn)
        stored = self.policies.get(cluster_arn)
        if (
            stored is not None
            and current_version is not None
            and current_version != stored["current_version"]
        ):
            raise BadRequestException(
                "The policy version isn't current. Get the current policy version and try again.",
                "currentVersion",
            )
        new_version = _new_cluster_version()
        self.policies[cluster_arn] = {"policy": policy, "current_version": new_version}
        return new_version

    def get_cluster_policy(self, cluster_arn: str) -> tuple[str, str]:
        self._cluster(cluster_arn)
        stored = self.policies.get(cluster_arn)
        if stored is None:
            raise NotFoundException("The cluster has no cluster policy.", "clusterArn")
        return stored["policy"], stored["current_version"]

    def delete_cluster_policy(self, cluster_arn: str) -> None:
        self._cluster(cluster_arn)
        self.policies.pop(cluster_arn, None)

    # --------------------------------------------------------------------- tags
    def check_taggable(self, resource_arn: str) -> None:
        if resource_arn not in self.msk_clusters and resource_arn not in self.configurations:
            raise NotFoundException(f"The resource {resource_arn} does not exist.", "resourceArn")

    def iter_tagged_resources(self) -> Iterator[TaggedResource]:
        for cluster in self.msk_clusters.values():
            yield TaggedResource(
                arn=cluster.arn,
                tags=self.tagger.get_tag_dict_for_resource(cluster.arn),
                resource_type="kafka:cluster",
            )
