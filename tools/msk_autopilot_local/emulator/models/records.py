"""The emulator's MSK resources: clusters and their brokers, configurations, operations."""

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from moto.moto_api._internal import mock_random

from ..placement import PartitionReplicas
from ..state import OperationFault

if TYPE_CHECKING:
    from ..health import HealthProfile


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
class Topic:
    """A topic as the topic APIs show it. ``configs`` are the topic's own settings (strings, as
    Kafka keeps them); ``bytes_per_partition`` is the size of each partition's log, which MSK's
    API does not return: the emulator keeps it for what moving a partition costs."""

    name: str
    partitions: list[PartitionReplicas]
    configs: dict[str, str] = field(default_factory=dict)
    bytes_per_partition: int = 0

    @property
    def replication_factor(self) -> int:
        return len(self.partitions[0].replicas)

    @property
    def broker_ids(self) -> list[int]:
        return sorted({broker for partition in self.partitions for broker in partition.replicas})


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
    last_broker_id: int = 0  # broker IDs are never reused
    topics: dict[str, Topic] = field(default_factory=dict)
    scram_secrets: list[str] = field(default_factory=list)
    last_storage_change_end: datetime | None = None
    # Serverless: the ServerlessRequest as given (VpcConfigs, ClientAuthentication).
    serverless: dict[str, Any] = field(default_factory=dict)
    state: str = "CREATING"
    active_operation_arn: str | None = None
    customer_action_status: str = "NONE"
    health: "HealthProfile | None" = None  # publishes metrics once set (see ``health``)

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

    @property
    def rebalancing_active(self) -> bool:
        """Intelligent rebalancing (Express) places partitions itself when brokers come or go."""
        return bool(self.settings.get("Rebalancing", {}).get("Status") == "ACTIVE")

    @property
    def racks(self) -> dict[int, str]:
        """Broker ID -> its rack, the client subnet (one per Availability Zone)."""
        return {broker.broker_id: broker.client_subnet for broker in self.brokers}

    def all_partitions(self) -> list[PartitionReplicas]:
        return [partition for topic in self.topics.values() for partition in topic.partitions]

    def next_broker_ids(self, count: int) -> list[int]:
        return list(range(self.last_broker_id + 1, self.last_broker_id + count + 1))

    def add_brokers(self, broker_ids: list[int], when: datetime) -> None:
        """New brokers, spread over the zones in subnet order (the first in the first zone)."""
        subnets = self.network["ClientSubnets"]
        for position, broker_id in enumerate(broker_ids):
            zone = position % len(subnets)
            self.brokers.append(
                Broker(
                    broker_id=broker_id,
                    client_subnet=subnets[zone],
                    eni_id=f"eni-{mock_random.get_random_hex(17)}",
                    ip_address=f"10.0.{zone}.{10 + broker_id}",
                    node_id=str(mock_random.uuid4()),
                    added=when,
                )
            )
        self.last_broker_id = max(self.last_broker_id, *broker_ids)

    def remove_brokers(self, broker_ids: Iterable[int]) -> None:
        gone = set(broker_ids)
        self.brokers = [broker for broker in self.brokers if broker.broker_id not in gone]


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
