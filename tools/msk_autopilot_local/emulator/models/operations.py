"""Cluster operations: how an update starts, runs on the emulator clock and ends, and the
calls that list and describe operations. Also the clock-driven lifecycle of clusters."""

import copy
from datetime import datetime, timedelta
from typing import Any

from moto.moto_api._internal import mock_random

from .. import catalog, placement
from ..exceptions import NotFoundException
from ..state import emulator_state
from .base import MskBackendBase, new_cluster_version
from .records import ClusterOperation, MskCluster

# The one MutableClusterInfo member that describes a change rather than a setting.
BROKER_COUNT_UPDATE_INFO = "BrokerCountUpdateInfo"
MAINTENANCE_TYPES = ("SECURITY_PATCHING", "BROKER_UPDATE")


class OperationsMixin(MskBackendBase):
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
        cluster.current_version = new_cluster_version()

    def _apply(self, cluster: MskCluster, operation: ClusterOperation) -> None:
        changes = {k: v for k, v in operation.target.items() if k != BROKER_COUNT_UPDATE_INFO}
        if "BrokerEBSVolumeInfo" in changes:
            cluster.last_storage_change_end = operation.end_time
        cluster.settings.update(copy.deepcopy(changes))
        if BROKER_COUNT_UPDATE_INFO in operation.target:
            self._change_brokers(cluster, operation)

    @staticmethod
    def _change_brokers(cluster: MskCluster, operation: ClusterOperation) -> None:
        """Add or remove the brokers the operation named; with intelligent rebalancing ACTIVE,
        give new brokers their share of the partitions and drain removed ones first."""
        info = operation.target[BROKER_COUNT_UPDATE_INFO]
        created = [int(n) for n in info.get("CreatedBrokerIds", [])]
        deleted = [int(n) for n in info.get("DeletedBrokerIds", [])]
        rebalancing = cluster.rebalancing_active
        if created:
            cluster.add_brokers(created, operation.planned_end)
            if rebalancing:
                placement.spread(cluster.all_partitions(), created, cluster.racks)
        if deleted:
            if rebalancing:
                placement.drain(cluster.all_partitions(), deleted, cluster.racks)
            cluster.remove_brokers(deleted)
            if cluster.health is not None:
                for broker in deleted:
                    cluster.health.values.brokers.pop(broker, None)

    def start_maintenance(self, cluster_arn: str, seconds: float | None) -> ClusterOperation:
        """MSK's own patching of an ACTIVE provisioned cluster, for ``seconds`` of emulated time
        (None: the operation_seconds setting):
        Standard brokers go to MAINTENANCE under SECURITY_PATCHING, Express brokers stay ACTIVE
        under BROKER_UPDATE. It ends UPDATE_COMPLETE like any operation, with nothing changed."""
        cluster = self._provisioned(cluster_arn)
        if cluster.state != "ACTIVE":
            raise ValueError(f"Cluster {cluster.name} is {cluster.state}, not ACTIVE.")
        if catalog.is_express(cluster.settings["InstanceType"]):
            return self._start_operation(cluster, "BROKER_UPDATE", {}, "ACTIVE", seconds)
        return self._start_operation(cluster, "SECURITY_PATCHING", {}, "MAINTENANCE", seconds)

    def _start_operation(
        self,
        cluster: MskCluster,
        operation_type: str,
        target: dict[str, Any],
        cluster_state: str = "UPDATING",
        seconds: float | None = None,
    ) -> ClusterOperation:
        now = emulator_state.clock.now()
        if seconds is None:
            seconds = emulator_state.settings.operation_seconds
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
            planned_end=now + timedelta(seconds=seconds),
            source=cluster.snapshot(target),
            target=copy.deepcopy(target),
            # Injected faults are for the updates a caller starts, not MSK's own patching.
            fault=None if operation_type in MAINTENANCE_TYPES else emulator_state.take_fault(),
        )
        self.operations[operation.arn] = operation
        cluster.state = cluster_state
        cluster.active_operation_arn = operation.arn
        cluster.current_version = new_cluster_version()
        return operation

    # ------------------------------------------------------------------- queries
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
