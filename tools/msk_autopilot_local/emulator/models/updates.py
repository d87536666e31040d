"""The calls that change a provisioned cluster (storage, configuration, Kafka version,
connectivity, monitoring, security) and RebootBroker: each validates the whole request, then
starts an operation. Broker count and type are in ``capacity``."""

import copy
from datetime import timedelta
from typing import Any

from msk_autopilot.health.limits import partition_limits

from .. import catalog, rules
from ..exceptions import BadRequestException
from ..state import emulator_state
from .base import STALE_VERSION_MESSAGE
from .operations import OperationsMixin
from .records import ClusterOperation, MskCluster
from .topics import TopicsMixin

STORAGE_INCREASE_MESSAGE = "To update storage, you must increase it by at least 10 GiB."
NO_STORAGE_UPDATE_MESSAGE = (
    "The request does not include any updates to the EBS volumes of the cluster. "
    "Verify the request, then try again."
)
PUBLIC_ACCESS_TYPES = ("DISABLED", "SERVICE_PROVIDED_EIPS")


class UpdatesMixin(OperationsMixin, TopicsMixin):
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
        if catalog.is_downgrade(source_version, target_version):
            raise BadRequestException(
                f"You can't downgrade the cluster from Apache Kafka {source_version} to "
                f"{target_version}.",
                "targetKafkaVersion",
            )
        targets = catalog.upgrade_targets(source_version)
        if target_version not in targets:
            raise BadRequestException(
                f"You can't update the cluster from Apache Kafka {source_version} to "
                f"{target_version}. Compatible versions: [{', '.join(targets)}]",
                "targetKafkaVersion",
            )
        self._check_partition_maximum(cluster)
        target: dict[str, Any] = {"KafkaVersion": target_version}
        if configuration_info is not None:
            target["ConfigurationInfo"] = self._usable_configuration(
                configuration_info, target_version
            )
        elif "ConfigurationInfo" in cluster.settings:
            current = cluster.settings["ConfigurationInfo"]
            self._check_supports_version(
                self.configurations[current["Arn"]],
                target_version,
                f"The cluster's configuration (revision {current['Revision']})",
            )
        return self._start_operation(cluster, "UPDATE_CLUSTER_KAFKA_VERSION", target)

    def _check_partition_maximum(self, cluster: MskCluster) -> None:
        """MSK refuses the update while a broker holds more partitions (replicas included) than
        its size's maximum."""
        self._check_partitions_fit(
            cluster, self.partitions_per_broker(cluster), cluster.settings["InstanceType"]
        )

    def _check_partitions_fit(
        self, cluster: MskCluster, counts: dict[int, float], instance_type: str
    ) -> None:
        limits = partition_limits(instance_type)
        if limits is None or not counts:
            return
        busiest = max(counts.values())
        if busiest > limits.maximum:
            raise BadRequestException(
                f"A broker of the cluster has {busiest:g} partitions, more than the maximum of "
                f"{limits.maximum} for {instance_type} brokers. Reduce the "
                "partitions or use larger brokers, then try again.",
                "clusterArn",
            )

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
