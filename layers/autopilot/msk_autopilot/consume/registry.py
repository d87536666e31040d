"""Writer schemas by id, from a Confluent or AWS Glue schema registry, cached per container.

A schema id the registry does not know makes the record poison (it can never be decoded); a
registry that cannot be reached is transient (the record is retried). Both resolvers are
`SchemaSource`s, so another registry is one small class away.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from msk_autopilot.aws import error_code
from msk_autopilot.consume.errors import PoisonRecordError, TransientDecodeError

if TYPE_CHECKING:
    from msk_autopilot.aws import ClientFactory

__all__ = ["ConfluentSchemaRegistry", "GlueSchemaRegistry", "SchemaSource"]

_GLUE_NOT_FOUND = {"EntityNotFoundException", "InvalidInputException"}


class SchemaSource(Protocol):
    def avro_schema(self, schema_id: str) -> str:
        """The Avro schema text registered under `schema_id`.

        Raises PoisonRecordError if the id is unknown or not Avro, TransientDecodeError if the
        registry cannot answer now.
        """
        ...


class ConfluentSchemaRegistry:
    """`GET {url}/schemas/ids/{id}` of a Confluent-compatible schema registry."""

    def __init__(self, url: str, timeout_seconds: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"schema registry URL must be http(s): {url!r}")
        self._url = url.rstrip("/")
        self._timeout = timeout_seconds

    def avro_schema(self, schema_id: str) -> str:
        request = urllib.request.Request(  # noqa: S310  scheme checked in __init__
            f"{self._url}/schemas/ids/{int(schema_id)}",
            headers={"Accept": "application/vnd.schemaregistry.v1+json, application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                document = json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise PoisonRecordError(
                    f"refers to schema id {schema_id}, unknown to the registry"
                ) from None
            raise TransientDecodeError(f"schema registry answered HTTP {error.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise TransientDecodeError(f"schema registry unreachable: {error}") from None
        except json.JSONDecodeError:
            raise TransientDecodeError("schema registry answered with something not JSON") from None
        schema_type = document.get("schemaType", "AVRO")  # absent means Avro
        if schema_type != "AVRO" or not isinstance(document.get("schema"), str):
            raise PoisonRecordError(
                f"refers to schema id {schema_id}, a {schema_type} schema, not Avro"
            )
        schema: str = document["schema"]
        return schema


class GlueSchemaRegistry:
    """`glue:GetSchemaVersion` by SchemaVersionId (the UUID in the Glue wire-format prefix)."""

    def __init__(self, clients: ClientFactory) -> None:
        self._clients = clients

    def avro_schema(self, schema_id: str) -> str:
        try:
            version = self._clients.client("glue").get_schema_version(SchemaVersionId=schema_id)
        except ClientError as error:
            code = error_code(error)
            if code in _GLUE_NOT_FOUND:
                raise PoisonRecordError(
                    f"refers to schema version {schema_id}, unknown to Glue"
                ) from None
            raise TransientDecodeError(f"glue:GetSchemaVersion failed: {code}") from None
        except BotoCoreError as error:
            raise TransientDecodeError(f"glue:GetSchemaVersion failed: {error}") from None
        if version.get("DataFormat") != "AVRO" or not version.get("SchemaDefinition"):
            raise PoisonRecordError(f"refers to schema version {schema_id}, not an Avro schema")
        definition: str = version["SchemaDefinition"]
        return definition
