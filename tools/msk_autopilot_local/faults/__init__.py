"""`msk-autopilot fault-proxy`: an HTTP proxy that injects AWS faults between boto3 and local-aws.

Put it in front of `msk-autopilot local-aws` (or any AWS-compatible endpoint) and point clients at
the proxy instead: it forwards every request and, at a configured rate per service and operation,
answers with a fault instead (or as well). Deterministic for a seed: whether the n-th request of
an operation gets a fault, which one, and how long a delay lasts depend only on the seed, the
service, the operation and n.

Fault kinds
-----------
  throttle      the service's throttling error in its protocol's shape, which botocore
                classifies as throttling (kafka: 429, x-amzn-ErrorType TooManyRequestsException)
  error_500     500 InternalFailure (or the service's modelled internal-error shape)
  error_503     503 ServiceUnavailable (or the service's modelled shape)
  drop_before   close the connection without forwarding: the service never sees the request
  drop_after    forward, then close the connection without answering: the service acted but
                the caller cannot know (the dangerous case for non-idempotent calls)
  delay         wait (a seeded time within the rule's delay range), then forward normally

Requests are identified by the credential scope of the SigV4 Authorization header (the service)
and the protocol: `X-Amz-Target` (JSON), `Action=` (query), `/service/S/operation/O` (RPC v2
CBOR) or method + path matched against botocore's model (REST). The emulator's control endpoints
(`/_msk_emulator/...`) and moto's (`/moto-api/...`) are forwarded untouched and never faulted.

HTTP control (JSON), on the proxy itself
----------------------------------------
  GET  /_fault_proxy/stats         requests, forwarded requests and faults per service/operation
  POST /_fault_proxy/stats/reset   zero the counters and the fault log
  GET  /_fault_proxy/faults        the most recent injected faults, oldest first
  GET  /_fault_proxy/plan          the fault plan
  PUT  /_fault_proxy/plan          replace it: {"seed": 7, "rules": [{"rate": 0.2, "kinds":
                                   {"throttle": 1, "drop_after": 1}, "service": "kafka",
                                   "operation": "Update*", "delaySeconds": [0.05, 0.5],
                                   "skip": 0, "limit": null}]}

The first rule whose service and operation patterns (shell-style, `*` by default) match a request
and whose `limit` is not used up decides: with probability `rate` the request gets a fault whose
kind is drawn by the `kinds` weights. `skip` lets the first N matching requests through untouched.

Python
------
    with fault_proxy(account.endpoint_url, FaultPlan.mixed(0.2, seed=7)) as proxy:
        ...  # AWS_ENDPOINT_URL=proxy.endpoint_url
        proxy.stats().faults_by_kind()
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import http.client
import json
import math
import random
import re
import socket
import sys
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "FaultKind",
    "FaultPlan",
    "FaultProxy",
    "FaultRule",
    "InjectedFault",
    "OperationStats",
    "ProxyStats",
    "RequestIdentifier",
    "RequestIdentity",
    "fault_proxy",
    "register",
]

DEFAULT_PORT = 5056
DEFAULT_UPSTREAM = "http://127.0.0.1:5055"  # `msk-autopilot local-aws`'s default
CONTROL_PREFIX = "/_fault_proxy"
# Never faulted, never counted as service requests: the emulator's and moto's own endpoints.
PASSTHROUGH_PREFIXES = ("/_msk_emulator", "/moto-api")
UNKNOWN = "unknown"
_FAULT_LOG_SIZE = 10_000
_IDLE_CONNECTION_SECONDS = 60.0
_UPSTREAM_TIMEOUT_SECONDS = 60.0
_MAX_BODY_BYTES = 64 * 1024 * 1024
_MAX_CHUNKS = 100_000
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)


class FaultKind(StrEnum):
    THROTTLE = "throttle"
    ERROR_500 = "error_500"
    ERROR_503 = "error_503"
    DROP_BEFORE = "drop_before"
    DROP_AFTER = "drop_after"
    DELAY = "delay"


# -------------------------------------------------------------------------------------- the plan


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class FaultRule:
    """Which requests get faults, how often, and which kinds (relative weights)."""

    rate: float
    kinds: Mapping[FaultKind, float] = field(default_factory=lambda: dict.fromkeys(FaultKind, 1.0))
    service: str = "*"
    operation: str = "*"
    delay_seconds: tuple[float, float] = (0.05, 0.25)
    skip: int = 0
    limit: int | None = None

    def __post_init__(self) -> None:
        rate = _number(self.rate, "rate")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, not {self.rate!r}")
        kinds = {FaultKind(kind): _number(w, f"weight of {kind}") for kind, w in self.kinds.items()}
        if any(weight < 0 for weight in kinds.values()) or not any(kinds.values()):
            raise ValueError("kinds needs at least one positive weight and no negative one")
        low, high = (_number(value, "delay_seconds") for value in self.delay_seconds)
        if not 0.0 <= low <= high:
            raise ValueError(
                f"delay_seconds must be [min, max] with 0 <= min <= max, not {low, high}"
            )
        if isinstance(self.skip, bool) or not isinstance(self.skip, int) or self.skip < 0:
            raise ValueError(f"skip must be a whole number >= 0, not {self.skip!r}")
        if self.limit is not None and (
            isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 0
        ):
            raise ValueError(f"limit must be a whole number >= 0 or null, not {self.limit!r}")
        if not self.service or not self.operation:
            raise ValueError("service and operation patterns must not be empty")
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "delay_seconds", (low, high))

    def matches(self, service: str, operation: str) -> bool:
        return fnmatch.fnmatchcase(service, self.service) and fnmatch.fnmatchcase(
            operation, self.operation
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": {kind.value: weight for kind, weight in self.kinds.items()},
            "service": self.service,
            "operation": self.operation,
            "delaySeconds": list(self.delay_seconds),
            "skip": self.skip,
            "limit": self.limit,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> FaultRule:
        known = {"rate", "kinds", "service", "operation", "delaySeconds", "skip", "limit"}
        unknown = sorted(set(document) - known)
        if unknown:
            raise ValueError(f"unknown rule fields: {', '.join(unknown)} (known: {sorted(known)})")
        if "rate" not in document:
            raise ValueError("a rule needs a rate")
        kinds = document.get("kinds", list(FaultKind))
        if isinstance(kinds, str):
            kinds = [kinds]
        if isinstance(kinds, Mapping):
            weights = {_kind(name): weight for name, weight in kinds.items()}
        elif isinstance(kinds, list):
            weights = {_kind(name): 1.0 for name in kinds}
        else:
            raise TypeError("kinds must be a list of kinds or an object of kind -> weight")
        delay = document.get("delaySeconds", [0.05, 0.25])
        if isinstance(delay, int | float) and not isinstance(delay, bool):
            delay = [delay, delay]
        if not isinstance(delay, list | tuple) or len(delay) != 2:
            raise ValueError("delaySeconds must be a number or [min, max]")
        return cls(
            rate=document["rate"],
            kinds=weights,
            service=str(document.get("service", "*")),
            operation=str(document.get("operation", "*")),
            delay_seconds=(delay[0], delay[1]),
            skip=document.get("skip", 0),
            limit=document.get("limit"),
        )


def _kind(name: Any) -> FaultKind:
    try:
        return FaultKind(name)
    except ValueError:
        known = ", ".join(kind.value for kind in FaultKind)
        raise ValueError(f"unknown fault kind {name!r} (known: {known})") from None


@dataclass(frozen=True)
class FaultPlan:
    """The rules (first match decides) and the seed that makes the decisions reproducible."""

    rules: tuple[FaultRule, ...] = ()
    seed: int = 0

    @classmethod
    def none(cls) -> FaultPlan:
        return cls()

    @classmethod
    def mixed(
        cls,
        rate: float,
        *,
        seed: int = 0,
        kinds: Mapping[FaultKind, float] | Iterable[FaultKind] | None = None,
        service: str = "*",
        operation: str = "*",
        delay_seconds: tuple[float, float] = (0.05, 0.25),
    ) -> FaultPlan:
        """One rule: `rate` of the matching requests get a fault, kinds equally likely."""
        if kinds is None:
            weights: Mapping[FaultKind, float] = dict.fromkeys(FaultKind, 1.0)
        elif isinstance(kinds, Mapping):
            weights = kinds
        else:
            weights = dict.fromkeys(kinds, 1.0)
        rule = FaultRule(rate, weights, service, operation, delay_seconds)
        return cls((rule,), seed)

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [rule.to_dict() for rule in self.rules]}

    @classmethod
    def from_dict(cls, document: Any) -> FaultPlan:
        if not isinstance(document, Mapping):
            raise TypeError("a fault plan is a JSON object with 'rules' and 'seed'")
        unknown = sorted(set(document) - {"rules", "seed"})
        if unknown:
            raise ValueError(f"unknown plan fields: {', '.join(unknown)}")
        seed = document.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError("seed must be a whole number")
        rules = document.get("rules", [])
        if not isinstance(rules, list) or not all(isinstance(r, Mapping) for r in rules):
            raise ValueError("rules must be a list of objects")
        return cls(tuple(FaultRule.from_dict(rule) for rule in rules), seed)


# ---------------------------------------------------------------------- identifying a request


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
class _RestRoute:
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


def _route(operation: Any) -> _RestRoute:
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
    return _RestRoute(
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
        self._routes: dict[str, list[_RestRoute]] = {}

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

    def rest_routes(self, service: str) -> list[_RestRoute]:
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


# ------------------------------------------------------------------------ rendering an error

_THROTTLING_CODES = (
    # botocore classifies these codes as throttling (retries/standard.py), modelled or not.
    "TooManyRequestsException",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "Throttling",
)
_INTERNAL_CODES = (
    "InternalServerErrorException",
    "InternalServerException",
    "InternalServerError",
    "InternalServiceError",
    "InternalServiceErrorException",
    "InternalServiceException",
    "InternalFailure",
)
_UNAVAILABLE_CODES = ("ServiceUnavailableException", "ServiceUnavailable")


@dataclass(frozen=True)
class _ErrorReply:
    status: int
    code: str
    message: str
    query_code: str  # what a query client would see (x-amzn-query-error for JSON/CBOR)
    fault: str  # Sender or Receiver


def _modelled(
    model: Any, names: Sequence[str], *, codes: Sequence[str] | None = None
) -> tuple[str, int | None] | None:
    """The first of `names` the service models as an error (whose wire code is in `codes`, when
    given), as (code, modelled HTTP status)."""
    if model is None:
        return None
    shapes = set(model.shape_names)
    for name in names:
        if name not in shapes:
            continue
        error = model.shape_for(name).metadata.get("error", {})
        code = str(error.get("code") or name)
        if codes is None or code in codes:
            return code, error.get("httpStatusCode")
    return None


def _error_for(kind: FaultKind, identity: RequestIdentity, model: Any) -> _ErrorReply:
    protocol = identity.protocol
    if kind is FaultKind.THROTTLE:
        if protocol == "rest-xml":
            return _ErrorReply(
                503, "SlowDown", "Please reduce your request rate.", "SlowDown", "Receiver"
            )
        if protocol == "ec2":
            return _ErrorReply(503, "RequestLimitExceeded", "Request limit exceeded.", "", "")
        if protocol == "query":
            return _ErrorReply(400, "Throttling", "Rate exceeded", "Throttling", "Sender")
        found = _modelled(model, _THROTTLING_CODES, codes=_THROTTLING_CODES)
        code = found[0] if found else "ThrottlingException"
        default_status = 429 if protocol == "rest-json" else 400
        status = (found[1] if found else None) or default_status
        return _ErrorReply(status, code, "Rate exceeded", "Throttling", "Sender")
    if kind is FaultKind.ERROR_500:
        found = _modelled(model, _INTERNAL_CODES)
        code = (
            "InternalError"
            if protocol == "rest-xml"
            else (found[0] if found else "InternalFailure")
        )
        message = "We encountered an internal error. Please try again."
        return _ErrorReply(500, code, message, "InternalFailure", "Receiver")
    found = _modelled(model, _UNAVAILABLE_CODES)
    code = (
        "ServiceUnavailable"
        if protocol in {"rest-xml", "query"}
        else (found[0] if found else "ServiceUnavailable")
    )
    message = "The service is unavailable. Please try again later."
    return _ErrorReply(503, code, message, "ServiceUnavailable", "Receiver")


def _cbor_text(value: str) -> bytes:
    data = value.encode()
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    if length < 256:
        return bytes([major << 5 | 24, length])
    return bytes([major << 5 | 25]) + length.to_bytes(2, "big")


def _render(
    reply: _ErrorReply, identity: RequestIdentity, request_headers: Mapping[str, str]
) -> tuple[int, list[tuple[str, str]], bytes]:
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if identity.query_compatible:
        headers.append(("x-amzn-query-error", f"{reply.query_code};{reply.fault}"))
    if identity.protocol == "ec2":
        body = (
            f"<Response><Errors><Error><Code>{reply.code}</Code><Message>{reply.message}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
        return reply.status, [*headers, ("Content-Type", "text/xml")], body
    if identity.protocol == "query":
        body = (
            '<ErrorResponse xmlns="https://aws.amazon.com/"><Error>'
            f"<Type>{reply.fault}</Type><Code>{reply.code}</Code><Message>{reply.message}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        return reply.status, [*headers, ("Content-Type", "text/xml")], body
    if identity.protocol == "rest-xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Error><Code>{reply.code}</Code><Message>{reply.message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        return reply.status, [*headers, ("Content-Type", "application/xml")], body
    if identity.protocol == "smithy-rpc-v2-cbor":
        body = (
            bytes([0xA2])
            + _cbor_text("__type")
            + _cbor_text(reply.code)
            + _cbor_text("message")
            + _cbor_text(reply.message)
        )
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        return reply.status, headers, body
    if identity.protocol == "json":
        lowered = {name.lower(): value for name, value in request_headers.items()}
        content_type = lowered.get("content-type", "application/x-amz-json-1.1")
        body = json.dumps({"__type": reply.code, "message": reply.message}).encode()
        return reply.status, [*headers, ("Content-Type", content_type)], body
    # rest-json: the code travels in x-amzn-ErrorType, the message in the body.
    body = json.dumps({"message": reply.message}).encode()
    headers += [("x-amzn-ErrorType", reply.code), ("Content-Type", "application/json")]
    return reply.status, headers, body


# ---------------------------------------------------------------------------------- counting


@dataclass
class OperationStats:
    service: str
    operation: str
    requests: int = 0
    forwarded: int = 0  # reached the upstream (including drop_after and delay)
    faults: Counter[FaultKind] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": self.operation,
            "requests": self.requests,
            "forwarded": self.forwarded,
            "faults": {kind.value: n for kind, n in sorted(self.faults.items()) if n},
        }


@dataclass(frozen=True)
class InjectedFault:
    service: str
    operation: str
    kind: FaultKind
    ordinal: int  # the n-th request (from 0) of this service/operation at the proxy
    delay_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": self.operation,
            "kind": self.kind.value,
            "ordinal": self.ordinal,
            "delaySeconds": self.delay_seconds,
        }


@dataclass(frozen=True)
class ProxyStats:
    """A snapshot of the proxy's counters."""

    operations: dict[tuple[str, str], OperationStats]
    passthrough: int = 0  # control requests (/_msk_emulator, /moto-api): never faulted
    upstream_errors: int = 0  # the upstream could not be reached: answered 502

    @property
    def requests(self) -> int:
        return sum(op.requests for op in self.operations.values())

    @property
    def faults(self) -> int:
        return sum(sum(op.faults.values()) for op in self.operations.values())

    def faults_by_kind(self) -> dict[str, int]:
        total: Counter[FaultKind] = Counter()
        for op in self.operations.values():
            total.update(op.faults)
        return {kind.value: total[kind] for kind in FaultKind}

    def requests_for(self, service: str, operation: str = "*") -> int:
        return sum(op.requests for op in self._matching(service, operation))

    def faults_for(self, service: str, operation: str = "*", kind: FaultKind | None = None) -> int:
        return sum(
            op.faults[kind] if kind is not None else sum(op.faults.values())
            for op in self._matching(service, operation)
        )

    def _matching(self, service: str, operation: str) -> list[OperationStats]:
        return [
            op
            for (s, o), op in self.operations.items()
            if fnmatch.fnmatchcase(s, service) and fnmatch.fnmatchcase(o, operation)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "faults": self.faults,
            "faultsByKind": self.faults_by_kind(),
            "passthrough": self.passthrough,
            "upstreamErrors": self.upstream_errors,
            "operations": [op.to_dict() for _, op in sorted(self.operations.items())],
        }


@dataclass(frozen=True)
class _Decision:
    kind: FaultKind | None
    delay_seconds: float = 0.0


class _FaultState:
    """Plan, counters and the fault log, behind one lock (the server answers on many threads)."""

    def __init__(self, plan: FaultPlan) -> None:
        self.lock = threading.Lock()
        self.plan = plan
        self._reset()

    def _reset(self) -> None:
        self.operations: dict[tuple[str, str], OperationStats] = {}
        self.rule_hits: Counter[int] = Counter()  # matching requests per rule
        self.rule_faults: Counter[int] = Counter()
        self.passthrough = 0
        self.upstream_errors = 0
        self.log: deque[InjectedFault] = deque(maxlen=_FAULT_LOG_SIZE)

    def reset(self) -> None:
        with self.lock:
            self._reset()

    def set_plan(self, plan: FaultPlan) -> None:
        with self.lock:
            self.plan = plan
            self.rule_hits.clear()
            self.rule_faults.clear()

    def decide(self, identity: RequestIdentity) -> _Decision:
        key = (identity.service, identity.operation)
        with self.lock:
            stats = self.operations.setdefault(key, OperationStats(*key))
            ordinal = stats.requests
            stats.requests += 1
            for index, rule in enumerate(self.plan.rules):
                if not rule.matches(*key):
                    continue
                if rule.limit is not None and self.rule_faults[index] >= rule.limit:
                    continue
                self.rule_hits[index] += 1
                if self.rule_hits[index] <= rule.skip:
                    return _Decision(None)
                # One generator per request: the outcome depends on (seed, service, operation,
                # ordinal) only, not on the order in which threads reach this lock.
                rng = random.Random(f"{self.plan.seed}/{key[0]}/{key[1]}/{ordinal}")  # noqa: S311
                if rng.random() >= rule.rate:
                    return _Decision(None)
                kinds = [kind for kind, weight in rule.kinds.items() if weight > 0]
                kind = rng.choices(kinds, [rule.kinds[k] for k in kinds])[0]
                delay = rng.uniform(*rule.delay_seconds) if kind is FaultKind.DELAY else 0.0
                self.rule_faults[index] += 1
                stats.faults[kind] += 1
                self.log.append(InjectedFault(*key, kind, ordinal, round(delay, 6)))
                return _Decision(kind, delay)
            return _Decision(None)

    def forwarded(self, identity: RequestIdentity) -> None:
        with self.lock:
            self.operations[(identity.service, identity.operation)].forwarded += 1

    def count_passthrough(self) -> None:
        with self.lock:
            self.passthrough += 1

    def count_upstream_error(self) -> None:
        with self.lock:
            self.upstream_errors += 1

    def snapshot(self) -> ProxyStats:
        with self.lock:
            operations = {
                key: OperationStats(
                    op.service, op.operation, op.requests, op.forwarded, Counter(op.faults)
                )
                for key, op in self.operations.items()
            }
            return ProxyStats(operations, self.passthrough, self.upstream_errors)

    def injected(self) -> list[InjectedFault]:
        with self.lock:
            return list(self.log)


# ------------------------------------------------------------------------------------ server


class _DropConnection(Exception):
    """Close the client's connection without an answer."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    timeout = _IDLE_CONNECTION_SECONDS
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def _handle(self) -> None:
        proxy = self.server.proxy
        try:
            body = self._read_body()
        except ValueError as error:
            self._reply(400, [("Content-Type", "application/json")], _message(str(error)))
            self.close_connection = True
            return
        split = urlsplit(self.path)
        target = split.path + (f"?{split.query}" if split.query else "")
        path = split.path
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            self._control(path.removeprefix(CONTROL_PREFIX), body)
            return
        if any(path == p or path.startswith(p + "/") for p in PASSTHROUGH_PREFIXES):
            proxy._state.count_passthrough()
            self._forward(target, body)
            return
        identity = proxy.identifier.identify(self.command, target, dict(self.headers), body)
        decision = proxy._state.decide(identity)
        try:
            self._apply(decision, identity, target, body)
        except _DropConnection:
            self.close_connection = True  # nothing was written: the client sees EOF

    def _apply(
        self, decision: _Decision, identity: RequestIdentity, target: str, body: bytes
    ) -> None:
        proxy = self.server.proxy
        match decision.kind:
            case None:
                proxy._state.forwarded(identity)
                self._forward(target, body)
            case FaultKind.DELAY:
                time.sleep(decision.delay_seconds)
                proxy._state.forwarded(identity)
                self._forward(target, body)
            case FaultKind.DROP_BEFORE:
                raise _DropConnection
            case FaultKind.DROP_AFTER:
                proxy._state.forwarded(identity)
                try:
                    self._upstream(target, body)  # the service acts; its answer is lost
                except OSError:
                    proxy._state.count_upstream_error()
                raise _DropConnection
            case _:
                model = proxy.identifier.model(identity.service)
                reply = _error_for(decision.kind, identity, model)
                self._reply(*_render(reply, identity, dict(self.headers)))

    def _read_body(self) -> bytes:
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise ValueError("malformed Content-Length") from None
            if length < 0 or length > _MAX_BODY_BYTES:
                raise ValueError("bad or too large Content-Length")
            return self.rfile.read(length) if length else b""
        chunks: list[bytes] = []
        total = 0
        for _ in range(_MAX_CHUNKS):
            try:
                size = int(self.rfile.readline(1024).split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ValueError("malformed chunked body") from None
            if size < 0 or total + size > _MAX_BODY_BYTES:
                raise ValueError("bad or too large chunk")
            if size == 0:
                for _ in range(_MAX_CHUNKS):  # trailers, up to the blank line
                    if not self.rfile.readline(1024).strip():
                        return b"".join(chunks)
                raise ValueError("too many trailers")
            total += size
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after the chunk
        raise ValueError("too many chunks")

    def _upstream(self, target: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        proxy = self.server.proxy
        headers = {
            name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP
        }
        connection = http.client.HTTPConnection(
            proxy.upstream_host, proxy.upstream_port, timeout=proxy.upstream_timeout
        )
        try:
            connection.request(self.command, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            reply_headers = [
                (name, value)
                for name, value in response.getheaders()
                if name.lower() not in _HOP_BY_HOP
            ]
            if self.command == "HEAD" and response.getheader("Content-Length") is not None:
                reply_headers.append(("Content-Length", str(response.getheader("Content-Length"))))
            return response.status, reply_headers, data
        finally:
            connection.close()

    def _forward(self, target: str, body: bytes) -> None:
        try:
            status, headers, data = self._upstream(target, body)
        except OSError as error:
            self.server.proxy._state.count_upstream_error()
            message = _message(
                f"fault proxy: upstream {self.server.proxy.upstream} failed: {error}"
            )
            self._reply(502, [("Content-Type", "application/json")], message)
            return
        self._reply(status, headers, data)

    def _reply(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if self.command != "HEAD" or not any(n.lower() == "content-length" for n, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _control(self, route: str, body: bytes) -> None:
        proxy = self.server.proxy
        routes = {"/stats", "/stats/reset", "/faults", "/plan"}
        status, payload = 200, None
        if (self.command, route) == ("GET", "/stats"):
            payload = proxy.stats().to_dict()
        elif (self.command, route) == ("POST", "/stats/reset"):
            proxy.reset_stats()
            payload = proxy.stats().to_dict()
        elif (self.command, route) == ("GET", "/faults"):
            payload = {"faults": [fault.to_dict() for fault in proxy.injected()]}
        elif (self.command, route) == ("GET", "/plan"):
            payload = proxy.plan.to_dict()
        elif self.command in {"PUT", "POST"} and route == "/plan":
            try:
                proxy.plan = FaultPlan.from_dict(json.loads(body or b"{}"))
                payload = proxy.plan.to_dict()
            except (ValueError, TypeError) as error:  # JSONDecodeError is a ValueError
                status, payload = 400, {"message": str(error)}
        elif route in routes:
            status, payload = 405, {"message": f"{self.command} is not allowed on {route}"}
        else:
            status, payload = 404, {"message": f"no fault proxy endpoint {CONTROL_PREFIX}{route}"}
        self._reply(status, [("Content-Type", "application/json")], json.dumps(payload).encode())


def _message(text: str) -> bytes:
    return json.dumps({"message": text}).encode()


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR (HTTPServer's default) lets a restart bind despite TIME_WAIT; a port another
    # process listens on still fails loudly.
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        self.proxy = proxy
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that goes away mid-answer is routine here; anything else is reported."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake the threads that wait on idle keep-alive connections, so they end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class FaultProxy:
    """The proxy: `start()`, `endpoint_url`, `stats()`, `plan` (settable), `stop()`."""

    def __init__(
        self,
        upstream: str,
        plan: FaultPlan | None = None,
        *,
        port: int = 0,
        upstream_timeout: float = _UPSTREAM_TIMEOUT_SECONDS,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http://host:port URL, not {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_timeout = upstream_timeout
        self.identifier = RequestIdentifier()
        self._state = _FaultState(plan or FaultPlan.none())
        self._host, self._port = "127.0.0.1", port  # never reachable from other machines
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fault proxy is not running")
        return f"http://{self._host}:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self.endpoint_url.rsplit(":", 1)[1])

    @property
    def plan(self) -> FaultPlan:
        return self._state.plan

    @plan.setter
    def plan(self, plan: FaultPlan) -> None:
        """Replace the plan (rule skip/limit budgets start over; counters are kept)."""
        self._state.set_plan(plan)

    def stats(self) -> ProxyStats:
        return self._state.snapshot()

    def injected(self) -> list[InjectedFault]:
        """The injected faults, oldest first (the last 10,000)."""
        return self._state.injected()

    def reset_stats(self) -> None:
        self._state.reset()

    def start(self) -> FaultProxy:
        if self._server is not None:
            raise RuntimeError("the fault proxy is already running")
        self._server = _ProxyServer((self._host, self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name=f"fault-proxy-{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextlib.contextmanager
def fault_proxy(
    upstream: str, plan: FaultPlan | None = None, *, port: int = 0
) -> Iterator[FaultProxy]:
    """Serve a fault proxy in front of `upstream` on 127.0.0.1 for the duration of the block."""
    proxy = FaultProxy(upstream, plan, port=port).start()
    try:
        yield proxy
    finally:
        proxy.stop()


# --------------------------------------------------------------------------------------- CLI


def _plan_from_args(args: argparse.Namespace) -> FaultPlan:
    if args.plan:
        try:
            document = json.loads(Path(args.plan).read_text(encoding="utf-8"))
        except OSError as error:
            raise ValueError(f"cannot read plan file {args.plan}: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"plan file {args.plan} is not valid JSON: {error}") from None
        return FaultPlan.from_dict(document)
    kinds = [_kind(name.strip()) for name in args.kinds.split(",") if name.strip()]
    low, _, high = args.delay.partition(":")
    try:
        delay = (float(low), float(high or low))
    except ValueError:
        raise ValueError(f"--delay must be SECONDS or MIN:MAX, not {args.delay!r}") from None
    return FaultPlan.mixed(
        args.rate,
        seed=args.seed,
        kinds=kinds,
        service=args.service,
        operation=args.operation,
        delay_seconds=delay,
    )


def _run(args: argparse.Namespace) -> int:
    import signal  # noqa: PLC0415

    try:
        plan = _plan_from_args(args)
        proxy = FaultProxy(args.upstream, plan, port=args.port).start()
    except (ValueError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: cannot serve on 127.0.0.1:{args.port}: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        print(f"upstream {proxy.upstream}", flush=True)
        print(f"plan {json.dumps(plan.to_dict())}", flush=True)
        print(f"ready {proxy.endpoint_url}", flush=True)
        stop.wait()
    finally:
        stats = proxy.stats()
        proxy.stop()
    print(json.dumps(stats.to_dict(), indent=2), flush=True)
    print("stopped", flush=True)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "fault-proxy",
        help="serve a proxy on 127.0.0.1 that injects AWS faults in front of local-aws",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--upstream", default=DEFAULT_UPSTREAM, help="default %(default)s")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    parser.add_argument("--rate", type=float, default=0.2, help="fault rate 0-1 (default 0.2)")
    parser.add_argument(
        "--kinds",
        default=",".join(kind.value for kind in FaultKind),
        help="comma-separated fault kinds, equally likely (default: all)",
    )
    parser.add_argument("--service", default="*", help="service pattern, e.g. kafka (default *)")
    parser.add_argument("--operation", default="*", help="operation pattern, e.g. 'Update*'")
    parser.add_argument("--seed", type=int, default=0, help="default %(default)s")
    parser.add_argument("--delay", default="0.05:0.25", help="delay SECONDS or MIN:MAX")
    parser.add_argument("--plan", help="JSON plan file (overrides the rule options)")
    parser.set_defaults(func=_run)
