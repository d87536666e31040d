"""Read an MSK (or MSK Connect) request into botocore member names, checking it against
botocore's model of the service.

Clients other than botocore (curl, other SDKs, the server's raw HTTP callers) can send anything,
so every value is type-checked and range-checked here before any handler sees it: a malformed
request gets a BadRequestException naming the parameter, never a crash.
"""

import base64
import binascii
import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape
from moto.core.utils import get_service_model

from .exceptions import BadRequestException


@functools.cache
def service_model(service_name: str) -> ServiceModel:
    return get_service_model(service_name)


def parse_request(
    operation: OperationModel,
    uri_params: Mapping[str, str],
    query: Mapping[str, list[str]],
    body: bytes,
) -> dict[str, Any]:
    """Return the request's input as a dict keyed by botocore member names (PascalCase for MSK,
    camelCase for MSK Connect)."""
    input_shape = operation.input_shape
    if input_shape is None:
        return {}
    document = _json_body(body)
    parsed: dict[str, Any] = {}
    for member_name, member_shape in input_shape.members.items():
        location = member_shape.serialization.get("location")
        wire_name = member_shape.serialization.get("name", member_name)
        if location == "uri":
            raw: Any = uri_params.get(wire_name)
            if raw is not None:
                parsed[member_name] = _from_text(raw, member_shape, wire_name)
        elif location == "querystring":
            values = query.get(wire_name)
            if values:
                raw_value: Any = values if member_shape.type_name == "list" else values[-1]
                parsed[member_name] = _from_text(raw_value, member_shape, wire_name)
        elif wire_name in document and document[wire_name] is not None:
            parsed[member_name] = _from_json(document[wire_name], member_shape, wire_name)
    _check_required(parsed, input_shape, "")
    return parsed


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestException("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise BadRequestException("The request body must be a JSON object.")
    return document


def _from_text(raw: Any, shape: Shape, path: str) -> Any:
    """URI labels and query values arrive as text; convert them to the shape's type."""
    if shape.type_name == "list":
        return [_from_text(item, shape.member, path) for item in raw]
    if shape.type_name in ("integer", "long"):
        text = str(raw).strip()
        if not text.lstrip("-").isdigit():
            raise BadRequestException(f"The value of {path} must be a whole number.", path)
        return _check_range(int(text), shape, path)
    return _check_string(str(raw), shape, path)


def _from_json(value: Any, shape: Shape, path: str) -> Any:
    converter = _JSON_CONVERTERS.get(shape.type_name)
    if converter is None:
        raise BadRequestException(f"The emulator cannot read parameter {path}.", path)
    return converter(value, shape, path)


def _list(value: Any, shape: Shape, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadRequestException(f"The value of {path} must be a list.", path)
    items = [_from_json(item, shape.member, f"{path}[{index}]") for index, item in enumerate(value)]
    return _check_length(items, shape, path)


def _map(value: Any, shape: Shape, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestException(f"The value of {path} must be an object.", path)
    return {
        _from_json(key, shape.key, path): _from_json(item, shape.value, f"{path}.{key}")
        for key, item in value.items()
    }


def _string(value: Any, shape: Shape, path: str) -> str:
    if not isinstance(value, str):
        raise BadRequestException(f"The value of {path} must be a string.", path)
    return _check_string(value, shape, path)


def _boolean(value: Any, shape: Shape, path: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequestException(f"The value of {path} must be true or false.", path)
    return value


def _integer(value: Any, shape: Shape, path: str) -> int:
    # JSON numbers like 100.0 or 100.5 are refused: sizes and counts are whole numbers.
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequestException(f"The value of {path} must be a whole number.", path)
    return _check_range(value, shape, path)


def _double(value: Any, shape: Shape, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequestException(f"The value of {path} must be a number.", path)
    return _check_range(float(value), shape, path)


def _blob(value: Any, shape: Shape, path: str) -> bytes:
    if not isinstance(value, str):
        raise BadRequestException(f"The value of {path} must be base64 text.", path)
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise BadRequestException(f"The value of {path} is not valid base64.", path) from None


def _structure(value: Any, shape: StructureShape, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequestException(f"The value of {path} must be an object.", path)
    parsed: dict[str, Any] = {}
    for member_name, member_shape in shape.members.items():
        wire_name = member_shape.serialization.get("name", member_name)
        if value.get(wire_name) is not None:
            parsed[member_name] = _from_json(value[wire_name], member_shape, f"{path}.{wire_name}")
    _check_required(parsed, shape, path)
    return parsed


def _check_required(parsed: dict[str, Any], shape: StructureShape, path: str) -> None:
    for member_name in shape.required_members:
        if member_name not in parsed:
            wire_name = shape.members[member_name].serialization.get("name", member_name)
            full_path = f"{path}.{wire_name}" if path else wire_name
            raise BadRequestException(f"The request is missing {full_path}.", full_path)


def _check_string(value: str, shape: Shape, path: str) -> str:
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        raise BadRequestException(
            f"The value {value!r} of {path} is not valid. Valid values: {', '.join(enum)}.", path
        )
    return _check_length(value, shape, path)


def _check_length[Sized: (str, list[Any])](value: Sized, shape: Shape, path: str) -> Sized:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        raise BadRequestException(
            f"The length of {path} must be between {low or 0} and {high or 'any'}.", path
        )
    return value


def _check_range[Number: (int, float)](value: Number, shape: Shape, path: str) -> Number:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadRequestException(
            f"The value of {path} must be between {low} and {high if high is not None else 'any'}.",
            path,
        )
    return value


_JSON_CONVERTERS: dict[str, Callable[[Any, Shape, str], Any]] = {
    "structure": _structure,
    "list": _list,
    "map": _map,
    "string": _string,
    "boolean": _boolean,
    "integer": _integer,
    "long": _integer,
    "double": _double,
    "float": _double,
    "blob": _blob,
}
