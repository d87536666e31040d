"""Schema registries: Confluent over HTTP (a local server) and AWS Glue (moto)."""

import io
import json
import struct
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import fastavro
import pytest
from consume_support import REGION, b64

from msk_autopilot.consume import PoisonRecordError, TransientDecodeError
from msk_autopilot.consume.formats import AvroDecoder
from msk_autopilot.consume.registry import ConfluentSchemaRegistry, GlueSchemaRegistry

SCHEMA = {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}]}


def avro_id(value: int) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(SCHEMA), {"id": value})
    return buffer.getvalue()


@pytest.fixture
def confluent_registry():
    """A Confluent-compatible registry on 127.0.0.1: id 1 is Avro, 2 is Protobuf, 5xx on 500."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            documents = {
                "/schemas/ids/1": {"schema": json.dumps(SCHEMA)},
                "/schemas/ids/2": {"schema": "syntax = 'proto3';", "schemaType": "PROTOBUF"},
            }
            if self.path == "/schemas/ids/500":
                self.send_response(503)
                self.end_headers()
                return
            document = documents.get(self.path)
            self.send_response(200 if document else 404)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.end_headers()
            body = document or {"error_code": 40403, "message": "Schema not found"}
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", requests
    finally:
        server.shutdown()
        server.server_close()


def test_confluent_schemas_are_fetched_by_id_once_per_container(confluent_registry):
    url, requests = confluent_registry
    decoder = AvroDecoder(
        wire_format="confluent",
        schema_text=None,
        registry=ConfluentSchemaRegistry(url),
        max_bytes=1024,
    )
    framed = b64(b"\x00" + struct.pack(">I", 1) + avro_id(5))
    assert [decoder(framed) for _ in range(3)] == [{"id": 5}] * 3
    assert requests == ["/schemas/ids/1"]


def test_confluent_unknown_and_non_avro_ids_are_poison_and_5xx_is_transient(confluent_registry):
    url, _ = confluent_registry
    registry = ConfluentSchemaRegistry(url)
    with pytest.raises(PoisonRecordError, match="schema id 7, unknown to the registry"):
        registry.avro_schema("7")
    with pytest.raises(PoisonRecordError, match="a PROTOBUF schema, not Avro"):
        registry.avro_schema("2")
    with pytest.raises(TransientDecodeError, match="HTTP 503"):
        registry.avro_schema("500")


def test_an_unreachable_confluent_registry_is_transient():
    with pytest.raises(TransientDecodeError, match="unreachable"):
        ConfluentSchemaRegistry("http://127.0.0.1:9", timeout_seconds=0.5).avro_schema("1")


def test_glue_schema_versions_come_from_get_schema_version(clients):
    glue = boto3.client("glue", region_name=REGION)
    glue.create_registry(RegistryName="orders")
    version = glue.create_schema(
        RegistryId={"RegistryName": "orders"},
        SchemaName="order",
        DataFormat="AVRO",
        Compatibility="BACKWARD",
        SchemaDefinition=json.dumps(SCHEMA),
    )["SchemaVersionId"]
    decoder = AvroDecoder(
        wire_format="glue", schema_text=None, registry=GlueSchemaRegistry(clients), max_bytes=1024
    )
    framed = bytes([3, 0]) + uuid.UUID(version).bytes + avro_id(9)
    assert decoder(b64(framed)) == {"id": 9}
    unknown = bytes([3, 0]) + uuid.uuid4().bytes + avro_id(9)
    with pytest.raises(PoisonRecordError, match="unknown to Glue"):
        decoder(b64(unknown))
