"""Writer schemas by id, from a Confluent-compatible or the AWS Glue schema registry.

Any failure to get a schema, an unknown id as much as a registry that cannot be reached,
answers 5xx or throttles, raises PoisonRecordError: the record is quarantined with the reason,
never retried against a registry that is down. `RegistryDecoder` (framed.py) caches schemas
per container and does not ask again for an id that failed within a cool-down. Both
resolvers are `SchemaSource`s, so another registry is one small class away.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Literal, Protocol

import msgspec
from botocore.exceptions import BotoCoreError, ClientError

from msk_autopilot.aws import error_code
from msk_autopilot.consume.errors import PoisonRecordError

if TYPE_CHECKING:
    from msk_autopilot.aws import ClientFactory

__all__ = [
    "ConfluentSchemaRegistry",
    "GlueSchemaRegistry",
    "RegisteredSchema",
    "SchemaSource",
    "SchemaType",
]

type SchemaType = Literal["AVRO", "JSON", "PROTOBUF"]

_GLUE_NOT_FOUND = {"EntityNotFoundException", "InvalidInputException"}
# Imports Confluent's serializers never register (skip.known.types): the protobuf runtime has them.
_BUILTIN_PROTO_PREFIXES = ("google/protobuf/", "google/type/", "confluent/")
_MAX_REFERENCES = 64  # a deeper import graph is a registry misconfiguration, not a schema


class _Reference(msgspec.Struct, frozen=True):
    name: str
    subject: str
    version: int


class _SchemaDocument(msgspec.Struct, frozen=True, rename="camel"):
    """What Confluent's registry answers for a schema id or a subject's version."""

    schema: str
    schema_type: str = "AVRO"  # absent means Avro
    references: tuple[_Reference, ...] = ()


_read_document = msgspec.json.Decoder(_SchemaDocument).decode


class RegisteredSchema(msgspec.Struct, frozen=True):
    """A writer schema: Avro or JSON Schema text, or for Protobuf the base64 serialized
    FileDescriptorProto; `imports` are the files it imports (name, base64), dependencies first."""

    schema_type: SchemaType
    definition: str
    imports: tuple[tuple[str, str], ...] = ()


class SchemaSource(Protocol):
    def schema(self, schema_id: str, schema_type: SchemaType) -> RegisteredSchema:
        """The schema registered under `schema_id`, which must be of `schema_type`.

        Raises PoisonRecordError if it cannot be had, with a reason naming the id.
        """
        ...


class ConfluentSchemaRegistry:
    """`GET {url}/schemas/ids/{id}` of a Confluent-compatible schema registry; Protobuf
    schemas (and the files they import) are asked for in their serialized form."""

    def __init__(self, url: str, timeout_seconds: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"schema registry URL must be http(s): {url!r}")
        self._url = url.rstrip("/")
        self._timeout = timeout_seconds

    def schema(self, schema_id: str, schema_type: SchemaType) -> RegisteredSchema:
        query = "?format=serialized" if schema_type == "PROTOBUF" else ""
        document = self._get(f"schemas/ids/{int(schema_id)}{query}", f"schema id {schema_id}")
        if document.schema_type != schema_type:
            raise PoisonRecordError(
                f"refers to schema id {schema_id}, a {document.schema_type} schema, "
                f"not {schema_type}"
            )
        imports: dict[str, str] = {}
        if schema_type == "PROTOBUF":
            self._collect_imports(document, imports, schema_id)
        return RegisteredSchema(schema_type, document.schema, tuple(imports.items()))

    def _collect_imports(
        self, document: _SchemaDocument, imports: dict[str, str], schema_id: str
    ) -> None:
        """Each referenced file after the files it imports itself, each once."""
        for reference in document.references:
            if reference.name.startswith(_BUILTIN_PROTO_PREFIXES) or reference.name in imports:
                continue
            if len(imports) >= _MAX_REFERENCES:
                raise PoisonRecordError(f"refers to schema id {schema_id}, which imports too much")
            subject = urllib.parse.quote(reference.subject, safe="")
            imported = self._get(
                f"subjects/{subject}/versions/{reference.version}?format=serialized",
                f"schema id {schema_id}'s {reference.name}",
            )
            self._collect_imports(imported, imports, schema_id)
            imports[reference.name] = imported.schema

    def _get(self, path: str, what: str) -> _SchemaDocument:
        request = urllib.request.Request(  # noqa: S310  scheme checked in __init__
            f"{self._url}/{path}",
            headers={"Accept": "application/vnd.schemaregistry.v1+json, application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                return _read_document(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise PoisonRecordError(f"refers to {what}, unknown to the registry") from None
            raise PoisonRecordError(
                f"refers to {what}; the schema registry answered HTTP {error.code}"
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise PoisonRecordError(
                f"refers to {what}; the schema registry is unreachable: {error}"
            ) from None
        except msgspec.DecodeError as error:  # ValidationError is one too
            raise PoisonRecordError(
                f"refers to {what}; the schema registry's answer cannot be read: {error}"
            ) from None


class GlueSchemaRegistry:
    """`glue:GetSchemaVersion` by SchemaVersionId (the UUID in the Glue wire-format header)."""

    def __init__(self, clients: ClientFactory) -> None:
        self._clients = clients

    def schema(self, schema_id: str, schema_type: SchemaType) -> RegisteredSchema:
        what = f"refers to schema version {schema_id}"
        try:
            version = self._clients.client("glue").get_schema_version(SchemaVersionId=schema_id)
        except ClientError as error:
            code = error_code(error)
            if code in _GLUE_NOT_FOUND:
                raise PoisonRecordError(f"{what}, unknown to Glue") from None
            raise PoisonRecordError(f"{what}; glue:GetSchemaVersion failed: {code}") from None
        except BotoCoreError as error:
            raise PoisonRecordError(f"{what}; glue:GetSchemaVersion failed: {error}") from None
        found = version.get("DataFormat")
        if found != schema_type or not version.get("SchemaDefinition"):
            raise PoisonRecordError(f"{what}, a {found} schema, not {schema_type}")
        return RegisteredSchema(schema_type, version["SchemaDefinition"])
