"""The local broker, a producer and the event source mapping from the command line, as a user
runs them: subprocesses, their output and exit status."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from esm_kit import QUIET

from msk_autopilot_local.broker import free_port

ROOT = Path(__file__).resolve().parents[3]
PYTHONPATH = os.pathsep.join([str(ROOT / "tools"), str(ROOT / "layers" / "autopilot")])
ENV = {**os.environ, "PYTHONPATH": PYTHONPATH}
READY_TIMEOUT = 30


def command(*argv: str, env: dict[str, str] = ENV, timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "msk_autopilot_local.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(result, fragment: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert fragment in result.stderr


def start(*argv: str) -> tuple[subprocess.Popen[str], str]:
    """`broker start`, once it printed `ready HOST:PORT`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "msk_autopilot_local.cli", "broker", "start", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    line = process.stdout.readline()  # the broker answers within seconds, or the process exits
    assert line.startswith("ready 127.0.0.1:"), (line, process.stderr.read())
    return process, line.split()[1]


def stop(process: subprocess.Popen[str], signum: int = signal.SIGINT) -> tuple[str, str]:
    process.send_signal(signum)
    try:
        return process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def cli_broker() -> Iterator[str]:
    process, bootstrap = start("--port", "0")
    try:
        yield bootstrap
    finally:
        out, err = stop(process)
        assert process.returncode == 0, err
        assert out.strip() == "stopped"


def read_all(bootstrap: str, topic: str, count: int) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "check",
            "auto.offset.reset": "earliest",
            **QUIET,
        }
    )
    consumer.subscribe([topic])
    messages = []
    deadline = time.monotonic() + 20
    try:
        while len(messages) < count and time.monotonic() < deadline:
            messages += [m for m in consumer.consume(count, timeout=0.5) if m.error() is None]
    finally:
        consumer.close()
    return messages


def test_produce_then_esm_consumes_everything_with_lag_0(cli_broker, tmp_path):
    produced = command("produce", "-b", cli_broker, "--topic", "orders", "--partitions", "3")
    assert produced.returncode == 0, produced.stderr
    assert produced.stdout == "delivered 100 records to orders\n"
    out = tmp_path / "seen.jsonl"
    handler = tmp_path / "handler.py"
    handler.write_text(
        "import base64, json\n"
        "def handle(event, context):\n"
        f"    with open({str(out)!r}, 'a') as seen:\n"
        "        for group in event['records'].values():\n"
        "            for record in group:\n"
        "                seen.write(base64.b64decode(record['value']).decode() + '\\n')\n"
    )
    consumed = command(
        "esm", "-b", cli_broker, "--topic", "orders", "--function", f"{handler}:handle",
        "--batching-window", "0.1", "--until-idle", "1",
        "--kafka-config", "session.timeout.ms=6000",
    )  # fmt: skip
    assert consumed.returncode == 0, consumed.stderr
    assert "| lag 0 |" in consumed.stdout
    assert "stopped: idle" in consumed.stdout
    values = sorted(json.loads(line)["id"] for line in out.read_text().splitlines())
    assert values == list(range(100))


def test_produce_keys_and_values_from_templates_and_files(cli_broker, tmp_path):
    produced = command(
        "produce", "-b", cli_broker, "--topic", "templated", "--count", "4",
        "--key-prefix", "c-", "--json", '{"n": {n}, "kind": "a"}', "--json", '{"n": {n}}',
    )  # fmt: skip
    assert produced.returncode == 0, produced.stderr
    messages = read_all(cli_broker, "templated", 4)
    assert sorted((m.key(), json.loads(m.value())) for m in messages) == [
        (b"c-0", {"n": 0, "kind": "a"}),
        (b"c-1", {"n": 1}),
        (b"c-2", {"n": 2, "kind": "a"}),
        (b"c-3", {"n": 3}),
    ]
    lines = tmp_path / "values.txt"
    lines.write_text("first\nsecond {n}\n")
    produced = command(
        "produce", "-b", cli_broker, "--topic", "lines", "--count", "3", "--key-prefix", "",
        "--value-file", str(lines),
    )  # fmt: skip
    assert produced.returncode == 0, produced.stderr
    messages = read_all(cli_broker, "lines", 3)
    assert sorted(m.value() for m in messages) == [b"first", b"first", b"second 1"]
    assert {m.key() for m in messages} == {None}


def test_broker_keeps_its_data_dir_across_a_restart_and_stops_on_sigterm(tmp_path):
    data = tmp_path / "kafka"
    process, bootstrap = start("--data-dir", str(data))
    assert command("produce", "-b", bootstrap, "--topic", "kept", "--count", "5").returncode == 0
    out, _err = stop(process, signal.SIGTERM)
    assert process.returncode == 0
    assert out.strip() == "stopped"
    process, bootstrap = start("--data-dir", str(data), "--port", bootstrap.split(":")[1])
    try:
        assert len(read_all(bootstrap, "kept", 5)) == 5
    finally:
        stop(process)


def test_a_taken_port_is_one_line_and_exit_2(cli_broker):
    result = command("broker", "start", "--port", cli_broker.split(":")[1])
    assert_one_line_error(result, f"{cli_broker} is taken: choose another --port")


def test_a_missing_noida_db_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "noida_db").mkdir()
    (tmp_path / "noida_db" / "__init__.py").write_text("")  # the package, without its binary
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(tmp_path), PYTHONPATH])}
    result = command("broker", "start", env=env)
    assert_one_line_error(result, "noida-db is not installed")


def test_an_unreachable_broker_is_one_line_and_exit_2_within_the_timeout():
    bootstrap = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = command("produce", "-b", bootstrap, "--topic", "t", "--timeout", "1.5")
    assert time.monotonic() - started < 15
    assert_one_line_error(result, f"cannot reach Kafka at {bootstrap} within 1.5 s")
    result = command(
        "esm", "-b", bootstrap, "--topic", "t", "--function", "json:dumps", "--broker-timeout", "1"
    )
    assert_one_line_error(result, f"cannot reach Kafka at {bootstrap} within 1 s")


def test_bad_values_are_one_line_and_exit_2(tmp_path):
    result = command("produce", "-b", "127.0.0.1:1", "--topic", "t", "--json", "{n")
    assert_one_line_error(result, "--json '{n' is not JSON")
    result = command("produce", "-b", "127.0.0.1:1", "--topic", "t", "--value-file", "missing")
    assert_one_line_error(result, "cannot read --value-file missing")
    result = command("esm", "-b", "127.0.0.1:1", "--topic", "t", "--batching-window", "301")
    assert_one_line_error(result, "--batching-window: expected `float` <= 300.0, not 301.0")
    result = command("esm", "-b", "127.0.0.1:1", "--topic", "t", "--function", "no_such:handler")
    assert_one_line_error(result, "cannot import no_such")
