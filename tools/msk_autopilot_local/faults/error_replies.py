"""The error a faulted request gets instead of the service's answer, in the request's protocol.

Each reply is shaped so botocore classifies it as the real thing: throttling codes botocore's
retry handler treats as throttling, 500/503 with the service's modelled internal-error and
unavailable shapes where it has them, and the query-compatible `x-amzn-query-error` header for
JSON and CBOR requests of former query services.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from msk_autopilot_local.faults.identify import RequestIdentity
from msk_autopilot_local.faults.plan import FaultKind

__all__ = ["ErrorReply", "error_reply", "render"]

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
class ErrorReply:
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


def error_reply(kind: FaultKind, identity: RequestIdentity, model: Any) -> ErrorReply:
    protocol = identity.protocol
    if kind is FaultKind.THROTTLE:
        if protocol == "rest-xml":
            return ErrorReply(
                503, "SlowDown", "Please reduce your request rate.", "SlowDown", "Receiver"
            )
        if protocol == "ec2":
            return ErrorReply(503, "RequestLimitExceeded", "Request limit exceeded.", "", "")
        if protocol == "query":
            return ErrorReply(400, "Throttling", "Rate exceeded", "Throttling", "Sender")
        found = _modelled(model, _THROTTLING_CODES, codes=_THROTTLING_CODES)
        code = found[0] if found else "ThrottlingException"
        default_status = 429 if protocol == "rest-json" else 400
        status = (found[1] if found else None) or default_status
        return ErrorReply(status, code, "Rate exceeded", "Throttling", "Sender")
    if kind is FaultKind.ERROR_500:
        found = _modelled(model, _INTERNAL_CODES)
        code = (
            "InternalError"
            if protocol == "rest-xml"
            else (found[0] if found else "InternalFailure")
        )
        message = "We encountered an internal error. Please try again."
        return ErrorReply(500, code, message, "InternalFailure", "Receiver")
    found = _modelled(model, _UNAVAILABLE_CODES)
    code = (
        "ServiceUnavailable"
        if protocol in {"rest-xml", "query"}
        else (found[0] if found else "ServiceUnavailable")
    )
    message = "The service is unavailable. Please try again later."
    return ErrorReply(503, code, message, "ServiceUnavailable", "Receiver")


def _cbor_text(value: str) -> bytes:
    data = value.encode()
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    if length < 256:
        return bytes([major << 5 | 24, length])
    return bytes([major << 5 | 25]) + length.to_bytes(2, "big")


def render(
    reply: ErrorReply, identity: RequestIdentity, request_headers: Mapping[str, str]
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
