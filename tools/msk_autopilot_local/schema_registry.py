"""A Confluent-compatible schema registry on 127.0.0.1, served from a thread.

The subset confluent-kafka's `SchemaRegistryClient` uses to register and look up schemas, and
the record consumer uses to read them:

  POST /subjects/{subject}/versions          register (the same schema keeps its id)
  POST /subjects/{subject}                   look a schema up under a subject
  GET  /schemas/ids/{id}                     a schema by id (`format` is accepted and ignored)
  GET  /subjects                             the subjects
  GET  /subjects/{subject}/versions          a subject's versions
  GET  /subjects/{subject}/versions/{v}      one version, or `latest`

Schemas are kept as registered: confluent-kafka's ProtobufSerializer registers the base64
FileDescriptorProto, which is what a real registry answers for `?format=serialized` (the only
form the consumer asks for). Every request's path is kept in `requests`; `failing` set to an
HTTP status makes the registry answer every request with it (a registry in trouble).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import msgspec

__all__ = ["LocalSchemaRegistry"]

_JSON = "application/vnd.schemaregistry.v1+json"


class _Reference(msgspec.Struct, frozen=True):
    name: str
    subject: str
    version: int


class _Registration(msgspec.Struct, frozen=True, rename="camel"):
    schema: str
    schema_type: str = "AVRO"
    references: tuple[_Reference, ...] = ()


class _NotFoundError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class LocalSchemaRegistry:
    """The registry's state and its HTTP server; a context manager that serves while open."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[str] = []
        self.failing: int | None = None
        self._lock = threading.Lock()
        self._schemas: list[_Registration] = []  # id n is self._schemas[n - 1]
        self._subjects: dict[str, list[int]] = {}  # subject -> schema id of each version
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _register(self, subject: str, registration: _Registration) -> dict[str, Any]:
        with self._lock:
            if registration in self._schemas:
                schema_id = self._schemas.index(registration) + 1
            else:
                self._schemas.append(registration)
                schema_id = len(self._schemas)
            versions = self._subjects.setdefault(subject, [])
            if schema_id not in versions:
                versions.append(schema_id)
            return self._version(subject, versions.index(schema_id) + 1)

    def _lookup(self, subject: str, registration: _Registration) -> dict[str, Any]:
        with self._lock:
            versions = self._subjects.get(subject)
            if versions is None:
                raise _NotFoundError(40401, f"Subject '{subject}' not found.")
            for version, schema_id in enumerate(versions, start=1):
                if self._schemas[schema_id - 1] == registration:
                    return self._version(subject, version)
        raise _NotFoundError(40403, "Schema not found")

    def _by_id(self, schema_id: int) -> dict[str, Any]:
        with self._lock:
            if not 0 < schema_id <= len(self._schemas):
                raise _NotFoundError(40403, "Schema not found")
            return _document(self._schemas[schema_id - 1])

    def _subject_versions(self, subject: str) -> list[int]:
        with self._lock:
            if subject not in self._subjects:
                raise _NotFoundError(40401, f"Subject '{subject}' not found.")
            return list(range(1, len(self._subjects[subject]) + 1))

    def _subject_version(self, subject: str, version: str) -> dict[str, Any]:
        versions = self._subject_versions(subject)
        number = versions[-1] if version in ("latest", "-1") else int(version)
        if number not in versions:
            raise _NotFoundError(40402, f"Version {version} not found.")
        with self._lock:
            return self._version(subject, number)

    def _version(self, subject: str, version: int) -> dict[str, Any]:
        schema_id = self._subjects[subject][version - 1]
        return {
            "subject": subject,
            "version": version,
            "id": schema_id,
            **_document(self._schemas[schema_id - 1]),
        }

    def _answer(self, method: str, path: str, body: bytes) -> Any:
        parts = [urllib.parse.unquote(part) for part in path.strip("/").split("/")]
        match method, parts:
            case "POST", ["subjects", subject, "versions"]:
                return self._register(subject, msgspec.json.decode(body, type=_Registration))
            case "POST", ["subjects", subject]:
                return self._lookup(subject, msgspec.json.decode(body, type=_Registration))
            case "GET", ["schemas", "ids", schema_id]:
                return self._by_id(int(schema_id))
            case "GET", ["subjects"]:
                with self._lock:
                    return sorted(self._subjects)
            case "GET", ["subjects", subject, "versions"]:
                return self._subject_versions(subject)
            case "GET", ["subjects", subject, "versions", version]:
                return self._subject_version(subject, version)
        raise _NotFoundError(404, f"{method} {path} is not served by the local registry")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                registry.requests.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, document = 200, None
                if registry.failing is not None:
                    status = registry.failing
                    document = {"error_code": status * 100, "message": "failing on purpose"}
                else:
                    try:
                        document = registry._answer(method, self.path.split("?")[0], body)
                    except _NotFoundError as error:
                        status = 404
                        document = {"error_code": error.code, "message": str(error)}
                    except (ValueError, msgspec.DecodeError) as error:
                        status = 422
                        document = {"error_code": 42201, "message": str(error)}
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", _JSON)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # a test's or terminal's output is not the place for access logs

        return Handler


def _document(registration: _Registration) -> dict[str, Any]:
    document: dict[str, Any] = {"schema": registration.schema}
    if registration.schema_type != "AVRO":  # as Confluent answers: absent means Avro
        document["schemaType"] = registration.schema_type
    if registration.references:
        document["references"] = msgspec.to_builtins(registration.references)
    return document
