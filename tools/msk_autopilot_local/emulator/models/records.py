"""The emulator's MSK resources: clusters and their brokers, configurations, operations."""

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from moto.moto_api._internal import mock_random

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

    def resize_brokers(self, count: int, when: datetime) -> None:
        subnets = self.network["ClientSubnets"]
        del self.brokers[count:]
        for broker_id in range(len(self.brokers) + 1, count + 1):
            self.brokers.append(
                Broker(
                    broker_id=broker_id,
                    client_subnet=subnets[(broker_id - 1) % len(subnets)],
                    eni_id=f"eni-{mock_random.get_random_hex(17)}",
                    ip_address=f"10.0.{(broker_id - 1) % len(subnets)}.{10 + broker_id}",
                    node_id=str(mock_random.uuid4()),
                    added=when,
                )
            )


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
