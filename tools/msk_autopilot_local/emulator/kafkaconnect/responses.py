"""HTTP side of the MSK Connect emulator: its operations' handlers, answered through
``..emulated_response`` as MSK's are."""

from collections.abc import Callable
from typing import Any

from moto.core.common_types import TYPE_RESPONSE

from ..emulated_response import EmulatedResponse, Params
from ..paging import page
from .models import KafkaConnectBackend, kafkaconnect_backends

Handler = Callable[[KafkaConnectBackend, Params], dict[str, Any]]


def _create_connector(backend: KafkaConnectBackend, params: Params) -> dict[str, Any]:
    connector = backend.create_connector(params)
    # Always CREATING in the answer, RUNNING at the earliest from the next call (as clusters).
    return {
        "connectorArn": connector.arn,
        "connectorName": connector.name,
        "connectorState": "CREATING",
    }


def _describe_connector(backend: KafkaConnectBackend, params: Params) -> dict[str, Any]:
    return backend.describe_connector(params["connectorArn"])


def _list_connectors(backend: KafkaConnectBackend, params: Params) -> dict[str, Any]:
    connectors = backend.list_connectors(params.get("connectorNamePrefix"))
    connectors_page, token = page(connectors, params.get("maxResults"), params.get("nextToken"))
    return {"connectors": connectors_page, **({"nextToken": token} if token else {})}


def _delete_connector(backend: KafkaConnectBackend, params: Params) -> dict[str, Any]:
    connector = backend.delete_connector(params["connectorArn"], params.get("currentVersion"))
    return {"connectorArn": connector.arn, "connectorState": "DELETING"}


def _list_tags_for_resource(backend: KafkaConnectBackend, params: Params) -> dict[str, Any]:
    return {"tags": backend.list_tags(params["resourceArn"])}


_HANDLERS: dict[str, Handler] = {
    "CreateConnector": _create_connector,
    "DescribeConnector": _describe_connector,
    "ListConnectors": _list_connectors,
    "DeleteConnector": _delete_connector,
    "ListTagsForResource": _list_tags_for_resource,
}


class KafkaConnectResponse(EmulatedResponse):
    def __init__(self) -> None:
        super().__init__(service_name="kafkaconnect")

    def call_action(self) -> TYPE_RESPONSE:
        return self.answer_operation("MSK Connect", _HANDLERS, self._backend)

    def _backend(self) -> KafkaConnectBackend:
        return kafkaconnect_backends[self.current_account][self.region]
