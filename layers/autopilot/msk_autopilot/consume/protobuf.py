"""Protobuf messages read with a registry's schema: message classes built at run time from the
serialized FileDescriptorProtos (no generated code), values as dicts.

Imported only when a Protobuf format is configured: the protobuf runtime is a large import.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from google.protobuf import (
    any_pb2,
    api_pb2,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    empty_pb2,
    field_mask_pb2,
    json_format,
    message_factory,
    source_context_pb2,
    struct_pb2,
    timestamp_pb2,
    type_pb2,
    wrappers_pb2,
)
from google.protobuf.message import Message

from msk_autopilot.consume.errors import PoisonRecordError
from msk_autopilot.consume.registry import RegisteredSchema

__all__ = ["ProtobufSchema"]

# The well-known types a schema may import without registering them (confluent-kafka's
# serializers skip them): their descriptors come with the protobuf runtime.
_WELL_KNOWN = {
    module.DESCRIPTOR.name: module.DESCRIPTOR.serialized_pb
    for module in (
        any_pb2,
        api_pb2,
        duration_pb2,
        empty_pb2,
        field_mask_pb2,
        source_context_pb2,
        struct_pb2,
        timestamp_pb2,
        type_pb2,
        wrappers_pb2,
    )
}


class ProtobufSchema:
    """One registered Protobuf file (and its imports) in a pool of its own."""

    def __init__(self, schema: RegisteredSchema) -> None:
        self._pool = descriptor_pool.DescriptorPool()
        self._imports = dict(schema.imports)
        self._added: set[str] = set()
        self._root = _file(schema.definition)
        self._add(self._root)
        self._classes: dict[tuple[int, ...], type[Message]] = {}

    def decode(self, indexes: tuple[int, ...], body: bytes) -> Any:
        """The message at `indexes` (top-level index, then nested ones) as a dict."""
        message = self._class(indexes)()
        try:
            message.ParseFromString(body)
        except Exception as error:  # noqa: BLE001  DecodeError, or upb's errors for bad bytes
            raise PoisonRecordError(
                f"is not Protobuf of its schema: {type(error).__name__}: {error}"
            ) from None
        return json_format.MessageToDict(message, preserving_proto_field_name=True)

    def _class(self, indexes: tuple[int, ...]) -> type[Message]:
        known = self._classes.get(indexes)
        if known is not None:
            return known
        names: list[str] = [self._root.package] if self._root.package else []
        types = self._root.message_type
        for index in indexes:
            if index >= len(types):
                raise PoisonRecordError(
                    f"names Protobuf message {list(indexes)}, not in its schema"
                )
            names.append(types[index].name)
            types = types[index].nested_type
        descriptor = self._pool.FindMessageTypeByName(".".join(names))
        self._classes[indexes] = message_factory.GetMessageClass(descriptor)
        return self._classes[indexes]

    def _add(self, proto: descriptor_pb2.FileDescriptorProto) -> None:
        """Adds a file after the files it imports (the pool refuses it otherwise)."""
        self._added.add(proto.name)
        for dependency in proto.dependency:
            if dependency in self._added:
                continue
            if dependency in self._imports:
                imported = _file(self._imports[dependency])
                imported.name = dependency  # the name the importing file uses
            elif dependency in _WELL_KNOWN:
                imported = descriptor_pb2.FileDescriptorProto.FromString(_WELL_KNOWN[dependency])
            else:
                raise ValueError(f"it imports {dependency}, which the registry did not supply")
            self._add(imported)
        self._pool.AddSerializedFile(proto.SerializeToString())


def _file(definition: str) -> descriptor_pb2.FileDescriptorProto:
    try:
        return descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(definition))
    except binascii.Error as error:
        raise ValueError(f"not a base64 FileDescriptorProto: {error}") from None
