"""Creating, describing, listing and deleting clusters, provisioned and serverless."""

import copy
import uuid
from datetime import timedelta
from typing import Any

from moto.ec2.models import ec2_backends
from moto.kms.models import kms_backends
from moto.moto_api._internal import mock_random

from msk_autopilot.versions.catalogue import is_kraft

from .. import catalog, rules
from ..exceptions import BadRequestException, ConflictException
from ..state import emulator_state
from .base import NAME_PATTERN, STALE_VERSION_MESSAGE, new_cluster_version
from .configurations import ConfigurationsMixin
from .records import MskCluster

_CLUSTER_IDS = uuid.UUID("6d736b2d-6175-746f-7069-6c6f742d6964")  # namespace of cluster ARNs

CLUSTER_NAME_TAKEN_MESSAGE = (
    "This cluster name already exists. Retry your request using another name."
)
AWS_KAFKA_KEY_ALIAS = "alias/aws/kafka"
REBALANCING_EXPRESS_ONLY_MESSAGE = "Intelligent rebalancing is available only for Express brokers."


class ClustersMixin(ConfigurationsMixin):
    def create_provisioned_cluster(
        self,
        name: str,
        request: dict[str, Any],
        tags: dict[str, str] | None,
        *,
        past_support_allowed: bool = False,
    ) -> MskCluster:
        """``request`` is a CreateClusterRequest / ProvisionedRequest in botocore member names;
        ``past_support_allowed`` accepts a DEPRECATED KafkaVersion (the fleet seed's path)."""
        self._check_new_cluster_name(name)
        rules.check_provisioned_request(request, past_support_allowed=past_support_allowed)
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
        if catalog.is_express(instance_type):
            # Intelligent rebalancing is ACTIVE by default on new Express clusters.
            settings["Rebalancing"] = request.get("Rebalancing", {"Status": "ACTIVE"})
        elif "Rebalancing" in request:
            raise BadRequestException(REBALANCING_EXPRESS_ONLY_MESSAGE, "rebalancing")
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
            "SecurityGroups": self._security_groups(
                group.get("SecurityGroups", []),
                group["ClientSubnets"],
                "brokerNodeGroupInfo.securityGroups",
            ),
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
        cluster.add_brokers(
            cluster.next_broker_ids(settings["NumberOfBrokerNodes"]), cluster.created
        )
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
        serverless = copy.deepcopy(request)
        for index, vpc_config in enumerate(serverless["VpcConfigs"]):
            vpc_config["SecurityGroupIds"] = self._security_groups(
                vpc_config.get("SecurityGroupIds", []),
                vpc_config["SubnetIds"],
                f"serverless.vpcConfigs[{index}].securityGroupIds",
            )
        cluster = self._new_cluster(name, "SERVERLESS", tags)
        cluster.serverless = serverless
        return cluster

    def _security_groups(
        self, requested: list[str], subnets: list[str], parameter: str
    ) -> list[str]:
        """The groups a new cluster gets: those requested, each of which must exist, else the
        default security group of the subnets' VPC. BrokerNodeGroupInfo.SecurityGroups and
        VpcConfig.SecurityGroupIds are optional: "If you don't specify a security group, Amazon
        MSK uses the default security group associated with the VPC" (MSK API reference,
        BrokerNodeGroupInfo). Subnets unknown to EC2 (fleet files may name made-up ones) stand
        for the Region's default VPC."""
        ec2 = ec2_backends[self.account_id][self.region_name]
        for group_id in requested:
            if ec2.get_security_group_from_id(group_id) is None:
                raise BadRequestException(
                    f"The security group {group_id} does not exist. Specify security groups "
                    "that exist in the VPC of the client subnets.",
                    parameter,
                )
        if requested:
            return list(requested)
        vpc_ids = {
            ec2.subnets[zone][subnet].vpc_id
            for zone in ec2.subnets
            for subnet in subnets
            if subnet in ec2.subnets[zone]
        }
        default_vpc = ec2.get_default_vpc()
        vpc_id = min(vpc_ids) if vpc_ids else default_vpc.id if default_vpc else None
        default_group = ec2.get_security_group_from_name("default", vpc_id) if vpc_id else None
        if default_group is None:
            raise BadRequestException(
                "The VPC of the client subnets has no default security group: specify "
                "security groups.",
                parameter,
            )
        return [default_group.id]

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
            current_version=new_cluster_version(),
            dns_id=mock_random.get_random_string(6, lower_case=True),
            dns_cell=f"c{mock_random.randint(1, 25)}",
        )
        self.msk_clusters[cluster.arn] = cluster
        if tags:
            self.tag_resource(cluster.arn, tags)
        return cluster

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

    def list_cluster_infos_v1(
        self, name_prefix: str | None, window: slice = slice(None)
    ) -> list[dict[str, Any]]:
        """The descriptions of the listing's clusters in ``window`` (a page)."""
        # The v1 API predates serverless clusters and lists provisioned clusters only.
        listed = [c for c in self._clusters_named(name_prefix) if not c.is_serverless]
        return [self.cluster_info_v1(cluster.arn) for cluster in listed[window]]

    def list_cluster_infos_v2(
        self, name_prefix: str | None, cluster_type: str | None, window: slice = slice(None)
    ) -> list[dict[str, Any]]:
        """The descriptions of the listing's clusters in ``window`` (a page)."""
        listed = [
            cluster
            for cluster in self._clusters_named(name_prefix)
            if cluster_type is None or cluster.cluster_type == cluster_type.upper()
        ]
        return [self.cluster_info_v2(cluster.arn) for cluster in listed[window]]

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
            "CustomerActionStatus": cluster.customer_action_status,
        }
        if "Rebalancing" in settings:
            details["Rebalancing"] = copy.deepcopy(settings["Rebalancing"])
        if not is_kraft(settings["KafkaVersion"]):
            details["ZookeeperConnectString"] = ",".join(
                f"{cluster.host(f'z-{n}')}:2181" for n in (1, 2, 3)
            )
            details["ZookeeperConnectStringTls"] = ",".join(
                f"{cluster.host(f'z-{n}')}:2182" for n in (1, 2, 3)
            )
        return details
