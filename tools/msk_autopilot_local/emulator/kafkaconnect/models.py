"""MSK Connect's connectors (kafkaconnect), which moto lacks, per account and Region.

What the emulator keeps is what a request set: the stored connector is the CreateConnector
request's structures (botocore's ``...Description`` shapes use the same member names), plus its
ARN, state, version and creation time. Sources, all in the MSK Connect API reference
(docs.aws.amazon.com/MSKC/latest/mskc/):

- API_CreateConnector.html: connectorName is unique in the account and Region (a second one is a
  ConflictException); ``plugins`` is a list of exactly one custom plugin;
- API_Capacity.html: a connector's capacity is either auto scaled or provisioned;
- API_KafkaClusterEncryptionInTransit.html: PLAINTEXT | TLS (botocore's enum checks it);
- API_KafkaClusterClientAuthentication.html: NONE | IAM (likewise);
- API_ConnectorSummary.html: connectorState CREATING -> RUNNING; DeleteConnector answers
  DELETING. Like the emulator's clusters, a connector is RUNNING ``connector_create_seconds``
  (emulator setting, default 0: from the next call on) after CreateConnector and gone from the
  call after DeleteConnector.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.moto_api._internal import mock_random

from ..exceptions import BadRequestException, ConflictException, NotFoundException
from ..models.base import new_cluster_version
from ..state import emulator_state

# MSK Connect runs these Kafka Connect versions (msk-connect-workers.html, "Supported versions").
KAFKA_CONNECT_VERSIONS = ("2.7.1", "3.7.x")


@dataclass
class Connector:
    arn: str
    name: str
    created: datetime
    running_at: datetime
    current_version: str
    request: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    deleting: bool = False

    def state(self, now: datetime) -> str:
        if self.deleting:
            return "DELETING"
        return "RUNNING" if now >= self.running_at else "CREATING"

    def summary(self, now: datetime) -> dict[str, Any]:
        described = (
            "capacity",
            "connectorDescription",
            "kafkaCluster",
            "kafkaClusterClientAuthentication",
            "kafkaClusterEncryptionInTransit",
            "kafkaConnectVersion",
            "logDelivery",
            "networkType",
            "plugins",
            "serviceExecutionRoleArn",
            "workerConfiguration",
        )
        return {
            **{name: self.request[name] for name in described if name in self.request},
            "connectorArn": self.arn,
            "connectorName": self.name,
            "connectorState": self.state(now),
            "creationTime": self.created,
            "currentVersion": self.current_version,
        }

    def description(self, now: datetime) -> dict[str, Any]:
        return {
            **self.summary(now),
            "connectorConfiguration": self.request["connectorConfiguration"],
        }


class KafkaConnectBackend(BaseBackend):
    """The connectors of one account and Region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.connectors: dict[str, Connector] = {}

    def _forget_deleted(self) -> None:
        # A deleted connector answers DELETING once, then is gone (as the emulator's clusters).
        for arn in [arn for arn, c in self.connectors.items() if c.deleting]:
            del self.connectors[arn]

    def _connector(self, arn: str) -> Connector:
        self._forget_deleted()
        connector = self.connectors.get(arn)
        if connector is None:
            raise NotFoundException(f"The connector {arn} does not exist.")
        return connector

    def create_connector(self, request: dict[str, Any]) -> Connector:
        self._forget_deleted()
        name = request["connectorName"]
        if any(connector.name == name for connector in self.connectors.values()):
            raise ConflictException(f"A connector named {name} already exists.")
        capacity = request["capacity"]
        if ("autoScaling" in capacity) == ("provisionedCapacity" in capacity):
            raise BadRequestException(
                "capacity must set exactly one of autoScaling and provisionedCapacity."
            )
        if len(request["plugins"]) != 1:
            raise BadRequestException("plugins must list exactly one custom plugin.")
        if request["kafkaConnectVersion"] not in KAFKA_CONNECT_VERSIONS:
            raise BadRequestException(
                f"kafkaConnectVersion {request['kafkaConnectVersion']} is not supported. "
                f"Supported versions: {', '.join(KAFKA_CONNECT_VERSIONS)}."
            )
        now = emulator_state.clock.now()
        connector = Connector(
            arn=(
                f"arn:{self.partition}:kafkaconnect:{self.region_name}:{self.account_id}"
                f":connector/{name}/{mock_random.uuid4()}"
            ),
            name=name,
            created=now,
            running_at=now + timedelta(seconds=emulator_state.settings.connector_create_seconds),
            current_version=new_cluster_version(),
            request={key: value for key, value in request.items() if key != "tags"},
            tags=dict(request.get("tags", {})),
        )
        self.connectors[connector.arn] = connector
        return connector

    def describe_connector(self, arn: str) -> dict[str, Any]:
        return self._connector(arn).description(emulator_state.clock.now())

    def list_connectors(self, name_prefix: str | None) -> list[dict[str, Any]]:
        self._forget_deleted()
        now = emulator_state.clock.now()
        return [
            connector.summary(now)
            for connector in sorted(self.connectors.values(), key=lambda c: c.name)
            if connector.name.startswith(name_prefix or "")
        ]

    def delete_connector(self, arn: str, current_version: str | None) -> Connector:
        connector = self._connector(arn)
        if current_version is not None and current_version != connector.current_version:
            raise BadRequestException(
                "The currentVersion does not match the connector's current version."
            )
        connector.deleting = True
        return connector

    def list_tags(self, arn: str) -> dict[str, str]:
        return dict(self._connector(arn).tags)


kafkaconnect_backends = BackendDict(KafkaConnectBackend, "kafkaconnect")
