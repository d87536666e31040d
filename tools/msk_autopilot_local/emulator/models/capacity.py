"""Changing a cluster's capacity: UpdateBrokerType, UpdateBrokerCount and UpdateRebalancing.

- UpdateBrokerType: the moves ``msk_autopilot.capacity.sizes`` allows; a move to a smaller size
  is refused while a broker holds more partitions than the smaller size's maximum; a rolling
  operation, the new type showing when it completes (msk-update-broker-type.html).
- UpdateBrokerCount: whole multiples of the zone count. Adding brokers gives them new IDs, zones
  round-robin; on Standard brokers they hold nothing until partitions are moved. Removing
  (DECREASE_BROKER_COUNT) takes one broker per zone: the API does not name them, MSK picks
  brokers holding no partitions but its canary topics (msk-remove-broker.html). The emulator
  picks, per zone, the newest such broker, and refuses when a zone has none. With intelligent
  rebalancing ACTIVE (Express), MSK moves the partitions itself: new brokers get their share and
  removed brokers are drained when the operation completes (intelligent-rebalancing.html), so
  any broker of a zone may go, and the remaining brokers must stay within the partition maximum.
- UpdateRebalancing: ACTIVE or PAUSED, Express only.
"""

import copy

from msk_autopilot.capacity.sizes import size_rank, type_change_refusal
from msk_autopilot.versions.catalogue import version_key

from .. import catalog, placement, rules
from ..exceptions import BadRequestException
from .clusters import REBALANCING_EXPRESS_ONLY_MESSAGE
from .operations import BROKER_COUNT_UPDATE_INFO
from .records import ClusterOperation, MskCluster
from .updates import UpdatesMixin

COUNT = "targetNumberOfBrokerNodes"


class CapacityMixin(UpdatesMixin):
    def update_broker_type(
        self, cluster_arn: str, current_version: str, target_type: str
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        current_type = cluster.settings["InstanceType"]
        refusal = type_change_refusal(current_type, target_type)
        if refusal is not None:
            raise BadRequestException(refusal, "targetInstanceType")
        if size_rank(target_type) < size_rank(current_type):
            self._check_partitions_fit(cluster, self.partitions_per_broker(cluster), target_type)
        volume = cluster.settings.get("BrokerEBSVolumeInfo", [{}])[0]
        if volume.get("ProvisionedThroughput", {}).get("Enabled"):
            rules.provisioned_throughput(volume["ProvisionedThroughput"], target_type)
        if cluster.settings["StorageMode"] == "TIERED":
            rules.check_tiered_storage(cluster.settings["KafkaVersion"], target_type)
        return self._start_operation(cluster, "UPDATE_BROKER_TYPE", {"InstanceType": target_type})

    def update_broker_count(
        self, cluster_arn: str, current_version: str, target_count: int
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        current_count = len(cluster.brokers)
        zones = len(cluster.network["ClientSubnets"])
        if target_count == current_count:
            raise BadRequestException(
                "The request does not include any updates to the number of brokers.", COUNT
            )
        if target_count % zones:
            raise BadRequestException(
                f"The number of broker nodes must be a multiple of the {zones} Availability "
                "Zones of the cluster.",
                COUNT,
            )
        if target_count > current_count:
            update_info = {
                "CreatedBrokerIds": [
                    float(n) for n in cluster.next_broker_ids(target_count - current_count)
                ]
            }
            operation_type = "UPDATE_BROKER_COUNT"
        else:
            removed = self._brokers_to_remove(cluster, current_count - target_count, zones)
            update_info = {"DeletedBrokerIds": [float(n) for n in removed]}
            operation_type = "DECREASE_BROKER_COUNT"
        return self._start_operation(
            cluster,
            operation_type,
            {"NumberOfBrokerNodes": target_count, BROKER_COUNT_UPDATE_INFO: update_info},
        )

    def _brokers_to_remove(self, cluster: MskCluster, count: int, zones: int) -> list[int]:
        instance_type = cluster.settings["InstanceType"]
        version = cluster.settings["KafkaVersion"]
        if count > zones:
            raise BadRequestException(
                f"You can remove at most one broker per Availability Zone in one operation: "
                f"{zones} brokers from this cluster.",
                COUNT,
            )
        if instance_type == "kafka.t3.small":
            raise BadRequestException(
                "You can remove brokers only from clusters with M5, M7g or Express brokers.", COUNT
            )
        if version_key(version) < catalog.BROKER_REMOVAL_MIN_VERSION:
            raise BadRequestException(
                f"Removing brokers needs Apache Kafka 2.8.1 or later; the cluster runs {version}.",
                COUNT,
            )
        draining = cluster.rebalancing_active
        busy = set() if draining else self.brokers_holding_partitions(cluster)
        removed = []
        for subnet in cluster.network["ClientSubnets"]:
            free = [b.broker_id for b in cluster.brokers if b.client_subnet == subnet]
            free = [broker for broker in free if broker not in busy]
            if not free:
                raise BadRequestException(
                    f"No broker in the Availability Zone of {subnet} is free of partitions. "
                    "Move all partitions but those of __amazon_msk_canary and "
                    "__amazon_msk_canary_state off one broker per Availability Zone, then try "
                    "again.",
                    COUNT,
                )
            removed.append(max(free))
        counts = self.partitions_per_broker(cluster)
        if draining and cluster.topics:
            partitions = copy.deepcopy(cluster.all_partitions())
            placement.drain(partitions, removed, cluster.racks)
            counts = dict(placement.replica_counts(partitions, cluster.racks))
        remaining = {broker: n for broker, n in counts.items() if broker not in removed}
        self._check_partitions_fit(cluster, remaining, instance_type)
        return sorted(removed)

    def update_rebalancing(
        self, cluster_arn: str, current_version: str, status: str
    ) -> ClusterOperation:
        cluster = self._updatable(cluster_arn, current_version)
        if not catalog.is_express(cluster.settings["InstanceType"]):
            raise BadRequestException(REBALANCING_EXPRESS_ONLY_MESSAGE, "rebalancing")
        if cluster.settings["Rebalancing"]["Status"] == status:
            raise BadRequestException(
                f"Intelligent rebalancing is already {status}.", "rebalancing.status"
            )
        return self._start_operation(
            cluster, "UPDATE_REBALANCING", {"Rebalancing": {"Status": status}}
        )
