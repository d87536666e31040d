"""`msk-autopilot schema-registry`: serves confluent-kafka's registry client until stopped."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "autopilot"), str(ROOT / "tools")]),
}
ORDER = {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}]}


def serve(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "msk_autopilot_local.cli", "schema-registry", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def test_it_serves_registrations_and_lookups_until_interrupted():
    process = serve()
    try:
        line = process.stdout.readline()
        assert line.startswith("ready http://127.0.0.1:"), (line, process.stderr.read())
        client = SchemaRegistryClient({"url": line.split()[1]})
        schema_id = client.register_schema("orders-value", Schema(json.dumps(ORDER), "AVRO"))
        assert json.loads(client.get_schema(schema_id).schema_str) == ORDER
        assert client.get_subjects() == ["orders-value"]
        assert client.get_latest_version("orders-value").schema_id == schema_id
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (process.returncode, out, err) == (0, "stopped\n", "")


def test_a_port_in_use_is_one_line_of_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = serve("--port", str(taken.getsockname()[1]))
        out, err = process.communicate(timeout=30)
    assert (process.returncode, out) == (2, "")
    assert err.startswith("error: cannot listen on 127.0.0.1:")
    assert err.count("\n") == 1
