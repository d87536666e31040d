"""HTTP side of the MSK Connect emulator: botocore's model routes, checks and serializes, as
for MSK (``..responses``)."""

from collections.abc import Callable
from typing import Any

from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionResult, BaseResponse

from ..exceptions import MskError, NotFoundException, OperationNotEmulated
from ..paging import page
from ..params import parse_request, service_model
from ..state import emulator_state
from .models import KafkaConnectBackend, kafkaconnect_backends

Params = dict[str, Any]
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


class KafkaConnectResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="kafkaconnect")

    def call_action(self) -> TYPE_RESPONSE:
        operation_name = self._get_action()
        with emulator_state.lock:
            try:
                if not operation_name:
                    raise NotFoundException(
                        f"No MSK Connect operation matches {self.method} {self.parsed_url.path}."
                    )
                handler = _HANDLERS.get(operation_name)
                if handler is None:
                    raise OperationNotEmulated(operation_name)
                body = self.raw_body if isinstance(self.raw_body, bytes) else self.raw_body.encode()
                params = parse_request(
                    service_model("kafkaconnect").operation_model(operation_name),
                    self.uri_match,
                    self.normalized_request.args.to_dict(flat=False),
                    body,
                )
                result = handler(kafkaconnect_backends[self.current_account][self.region], params)
            except MskError as error:
                headers = {**self.response_headers, **dict(error.get_headers())}
                return error.code, headers, error.get_body()
        return self.serialized(ActionResult(result))
