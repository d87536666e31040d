"""Naming a raw AWS request: the service (botocore's name), the operation and the wire protocol.

The service comes from the credential scope of the SigV4 Authorization header (or a presigned
URL's X-Amz-Credential), the operation from the protocol: `X-Amz-Target` (JSON), `Action=`
(query), `/service/S/operation/O` (RPC v2 CBOR) or method + path matched against botocore's model
(REST).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["UNKNOWN", "RequestIdentifier", "RequestIdentity", "RestRoute"]

UNKNOWN = "unknown"


@dataclass(frozen=True)
class RequestIdentity:
    """What a request is: service (botocore's name), operation, wire protocol, Region."""

    service: str
    operation: str
    protocol: str  # json, query, rest-json, rest-xml, smithy-rpc-v2-cbor
    region: str | None = None
    query_compatible: bool = False  # a JSON/CBOR request of a former query service


_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")
_CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/?]+)$")
# Signing names whose botocore service has another name (or that several services share).
_SIGNING_ALIASES: dict[str, tuple[str, ...]] = {
    "monitoring": ("cloudwatch",),
    "dynamodb": ("dynamodb", "dynamodbstreams"),
    "events": ("events",),
    "email": ("ses",),
    "ses": ("ses", "sesv2"),
    "s3": ("s3", "s3control"),
    "states": ("stepfunctions",),
    "elasticloadbalancing": ("elbv2", "elb"),
    "elasticfilesystem": ("efs",),
    "access-analyzer": ("accessanalyzer",),
    "tagging": ("resourcegroupstaggingapi",),
    "iotdata": ("iot-data",),
    "rds": ("rds", "docdb", "neptune"),
    "es": ("opensearch", "es"),
    "servicequotas": ("service-quotas",),
    "awsssoportal": ("sso",),
    "sso": ("sso-admin",),
    "geo": ("location",),
    "mobiletargeting": ("pinpoint",),
    "apigateway": ("apigateway", "apigatewayv2"),
    "lambda": ("lambda",),
}


@dataclass(frozen=True)
class RestRoute:
    operation: str
    method: str
    segments: tuple[str, ...]  # literal, "{}" (one segment) or "{+}" (the rest, at least one)
    query_keys: tuple[str, ...]  # literal in the URI, or required query string members
    headers: tuple[str, ...]  # required header members, lower case
    deprecated: bool = False  # loses to its successor when both look the same on the wire

    @property
    def wire(self) -> tuple[str, tuple[str, ...], frozenset[str], frozenset[str]]:
        return self.method, self.segments, frozenset(self.query_keys), frozenset(self.headers)

    @property
    def score(self) -> tuple[int, int, int, bool]:
        literals = sum(1 for s in self.segments if not s.startswith("{"))
        greedy = sum(1 for s in self.segments if s == "{+}")
        return literals, len(self.query_keys) + len(self.headers), -greedy, not self.deprecated

    def matches(
        self, method: str, path: Sequence[str], query: Mapping[str, Any], headers: Iterable[str]
    ) -> bool:
        if method != self.method or any(key not in query for key in self.query_keys):
            return False
        if not set(self.headers) <= set(headers):
            return False
        for index, segment in enumerate(self.segments):
            if segment == "{+}":
                return len(path) > index
            if index >= len(path) or (segment != "{}" and segment != path[index]):
                return False
        return len(path) == len(self.segments)


def _route(operation: Any) -> RestRoute:
    """The route of a botocore OperationModel: its requestUri, and what it must carry."""
    path, _, query = operation.http["requestUri"].partition("?")
    segments = []
    for part in (p for p in path.split("/") if p):
        if part.startswith("{") and part.endswith("+}"):
            segments.append("{+}")
        elif part.startswith("{") and part.endswith("}"):
            segments.append("{}")
        else:
            segments.append(part)
    keys = [item.split("=", 1)[0] for item in query.split("&") if item]
    headers = []
    shape = operation.input_shape
    for name in shape.required_members if shape is not None else ():
        member = shape.members[name]
        location = member.serialization.get("location")
        location_name = member.serialization.get("name", name)
        if location == "querystring":
            keys.append(location_name)
        elif location == "header":
            headers.append(location_name.lower())
    method = operation.http.get("method", "POST").upper()
    return RestRoute(
        operation.name,
        method,
        tuple(segments),
        tuple(keys),
        tuple(headers),
        bool(operation.deprecated),
    )


class RequestIdentifier:
    """Names the service and operation of a raw AWS request, from botocore's service models."""

    def __init__(self) -> None:
        import botocore.loaders  # noqa: PLC0415  keeps `msk-autopilot --help` fast

        self._loader = botocore.loaders.create_loader()
        self._lock = threading.Lock()
        self._available: frozenset[str] | None = None
        self._models: dict[str, Any] = {}
        self._routes: dict[str, list[RestRoute]] = {}

    def model(self, service: str) -> Any:
        """botocore's ServiceModel of `service`, or None when botocore has no such service."""
        from botocore.model import ServiceModel  # noqa: PLC0415

        with self._lock:
            if self._available is None:
                self._available = frozenset(self._loader.list_available_services("service-2"))
            if service not in self._available:
                return None
            if service not in self._models:
                document = self._loader.load_service_model(service, "service-2")
                self._models[service] = ServiceModel(document, service_name=service)
            return self._models[service]

    def candidates(self, signing_name: str) -> list[str]:
        names = list(_SIGNING_ALIASES.get(signing_name, ()))
        if signing_name not in names:
            names.append(signing_name)
        return [name for name in names if self.model(name) is not None]

    def rest_routes(self, service: str) -> list[RestRoute]:
        model = self.model(service)
        with self._lock:
            if service not in self._routes:
                routes = []
                for name in model.operation_names:
                    operation = model.operation_model(name)
                    if "requestUri" in operation.http:
                        routes.append(_route(operation))
                # Most specific first: literal segments, what must be sent, no greedy label,
                # not deprecated. sorted() is stable: ties keep the model's order.
                self._routes[service] = sorted(routes, key=lambda r: r.score, reverse=True)
            return self._routes[service]

    def identify(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> RequestIdentity:
        """`target` is the request target as received (path and query)."""
        lowered = {name.lower(): value for name, value in headers.items()}
        split = urlsplit(target)
        raw_path, query = split.path or "/", parse_qs(split.query, keep_blank_values=True)
        region, signing = _credential_scope(lowered.get("authorization", ""), query)
        candidates = self.candidates(signing) if signing else []
        fallback = candidates[0] if candidates else (signing or UNKNOWN)
        query_compatible = lowered.get("x-amzn-query-mode", "").lower() == "true"

        if amz_target := lowered.get("x-amz-target"):
            prefix, _, operation = amz_target.rpartition(".")
            service = next(
                (c for c in candidates if self.model(c).metadata.get("targetPrefix") == prefix),
                fallback,
            )
            return RequestIdentity(
                service, operation or amz_target, "json", region, query_compatible
            )
        if "rpc-v2-cbor" in lowered.get("smithy-protocol", ""):
            match = _CBOR_PATH.match(raw_path)
            operation = match.group(2) if match else UNKNOWN
            protocol = "smithy-rpc-v2-cbor"
            return RequestIdentity(fallback, operation, protocol, region, query_compatible)
        action = _query_action(query, lowered.get("content-type", ""), body)
        if action:
            service = next(
                (c for c in candidates if action in self.model(c).operation_names), fallback
            )
            protocol = "ec2" if service == "ec2" else "query"
            return RequestIdentity(service, action, protocol, region)
        path = [segment for segment in raw_path.split("/") if segment]
        for candidate in candidates:
            protocol = self.model(candidate).metadata.get("protocol", "")
            if not protocol.startswith("rest-"):
                continue
            for route in self.rest_routes(candidate):
                if route.matches(method.upper(), path, query, lowered):
                    return RequestIdentity(candidate, route.operation, protocol, region)
        protocol = "rest-json"
        if candidates:
            protocol = self.model(candidates[0]).metadata.get("protocol", protocol)
        return RequestIdentity(fallback, UNKNOWN, protocol, region, query_compatible)


def _credential_scope(authorization: str, query: Mapping[str, list[str]]) -> tuple[str | None, str]:
    """(Region, signing name) from SigV4's `Credential=KEY/DATE/REGION/SERVICE/aws4_request`."""
    match = _CREDENTIAL.search(authorization)
    credential = match.group(1) if match else (query.get("X-Amz-Credential") or [""])[0]
    parts = credential.split("/")
    if len(parts) >= 5:
        return parts[-3] or None, parts[-2]
    return None, ""


def _query_action(query: Mapping[str, list[str]], content_type: str, body: bytes) -> str | None:
    if query.get("Action"):
        return query["Action"][0]
    if "x-www-form-urlencoded" in content_type and body:
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        if form.get("Action"):
            return form["Action"][0]
    return None
