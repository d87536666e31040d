"""Bad input and bad luck: clear messages, the right exit status, and committed offsets never
ahead of what the handler processed."""

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from esm_kit import Recorder, Sent, committed, create_topic, produce

from msk_autopilot_local.broker import free_port
from msk_autopilot_local.cli import main
from msk_autopilot_local.deploy import deploy_to_empty_account
from msk_autopilot_local.esm import EsmError, PollerConfig, run_poller

ROOT = Path(__file__).resolve().parents[3]
PYTHONPATH = os.pathsep.join([str(ROOT / "tools"), str(ROOT / "layers" / "autopilot")])

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      Handler: app.lambda_handler
      Runtime: python3.13
      Environment:
        Variables:
          OUT_FILE: /nonexistent/out.jsonl
  BrokenFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/broken/
      Handler: app.lambda_handler
      Runtime: python3.13
"""
ECHO = """\
import json
import os

OUT_FILE = os.environ["OUT_FILE"]


def lambda_handler(event, context):
    with open(OUT_FILE, "a") as out:
        for group in event["records"].values():
            for record in group:
                out.write(json.dumps([record["partition"], record["offset"]]) + "\\n")
    return {"batchItemFailures": []}
"""
BROKEN = """\
raise ValueError("BATCH_MODE='sometimes' is not one of: strict, lenient")
"""


@pytest.fixture
def tiny_stack(tmp_path, msk_emulator, monkeypatch) -> Path:
    """A two-function template, deployed into the emulated account (the poller reads each
    function from the deployed stack)."""
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    for name, code in (("echo", ECHO), ("broken", BROKEN)):
        (tmp_path / "functions" / name).mkdir(parents=True)
        (tmp_path / "functions" / name / "app.py").write_text(code)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    deploy_to_empty_account(tmp_path / "template.yaml", boto3.Session(region_name="us-east-1"))
    return tmp_path / "template.yaml"


def cli(argv: list[str]) -> int:
    return main(["esm", *argv])


def test_kafka_down_at_start_is_a_clear_error(capsys):
    port = free_port()  # nothing listens there
    config = PollerConfig(
        bootstrap_servers=f"127.0.0.1:{port}",
        topics=("orders",),
        function=Recorder(),
        broker_timeout=1.5,
    )
    with pytest.raises(EsmError, match=rf"cannot reach Kafka at 127.0.0.1:{port} within 1.5 s"):
        run_poller(config, status_stream=io.StringIO())
    code = cli(
        [
            "--bootstrap-servers",
            f"127.0.0.1:{port}",
            "--topic",
            "orders",
            "--function",
            "json:dumps",
            "--broker-timeout",
            "1",
        ]
    )
    assert code == 2
    assert "error: cannot reach Kafka at" in capsys.readouterr().err


def test_kafka_going_away_mid_run_never_leaves_offsets_ahead_of_the_handler(own_kafka):
    topic = create_topic(own_kafka.bootstrap_servers)
    produce(own_kafka.bootstrap_servers, [Sent(topic, 0, None, b"%d" % i) for i in range(100)])

    def answer(event):
        if len(handler.events) == 3:
            own_kafka.stop()  # the broker dies while the third batch is being handled
        return {"batchItemFailures": []}

    handler = Recorder(answer)
    config = PollerConfig(
        bootstrap_servers=own_kafka.bootstrap_servers,
        topics=(topic,),
        function=handler,
        group_id="gone-away",
        batch_size=10,
        batching_window=0.2,
        until_idle=5,
        broker_timeout=10,  # so that the commit's own time limit is what ends the run
        commit_timeout=2,
        kafka_config={"session.timeout.ms": 6000},
    )
    status = io.StringIO()
    summary = run_poller(config, status_stream=status)

    assert summary.exit_code == 1
    assert "could not commit offsets" in summary.error
    assert summary.uncommitted_handled == 10
    assert "10 records were handled but not committed" in status.getvalue()
    own_kafka.start()
    handled = handler.offsets(f"{topic}-0")
    assert handled == list(range(30))
    assert committed(own_kafka.bootstrap_servers, "gone-away", topic, 1) == {0: 20}


def test_kafka_going_away_while_idle_ends_the_run(own_kafka):
    topic = create_topic(own_kafka.bootstrap_servers)
    produce(own_kafka.bootstrap_servers, [Sent(topic, 0, None, b"x") for _ in range(5)])
    handler = Recorder()
    config = PollerConfig(
        bootstrap_servers=own_kafka.bootstrap_servers,
        topics=(topic,),
        function=handler,
        group_id="lost-idle",
        batching_window=0.1,
        broker_timeout=1.5,
        kafka_config={"session.timeout.ms": 6000},
    )
    result = {}
    runner = threading.Thread(
        target=lambda: result.update(summary=run_poller(config, status_stream=io.StringIO()))
    )
    runner.start()
    try:
        deadline = time.monotonic() + 15
        while len(handler.records()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # let the commit finish
        own_kafka.stop()
    finally:
        runner.join(timeout=30)
    assert not runner.is_alive()
    summary = result["summary"]
    assert summary.exit_code == 1
    assert "lost Kafka at" in summary.error
    assert summary.committed == {f"{topic}-0": 5}


def test_a_topic_that_does_not_exist_is_named(kafka, capsys):
    existing = create_topic(kafka.bootstrap_servers)
    config = PollerConfig(
        bootstrap_servers=kafka.bootstrap_servers,
        topics=(existing, "no-such-topic"),
        function=Recorder(),
    )
    with pytest.raises(EsmError, match=r"topic 'no-such-topic' does not exist on 127\.0\.0\.1"):
        run_poller(config, status_stream=io.StringIO())
    code = cli(
        ["-b", kafka.bootstrap_servers, "--topic", "no-such-topic", "--function", "json:dumps"]
    )
    assert code == 2
    assert "error: topic 'no-such-topic' does not exist" in capsys.readouterr().err


def test_a_handler_that_always_raises_stops_with_nothing_committed(kafka, config_for):
    topic = create_topic(kafka.bootstrap_servers)
    produce(kafka.bootstrap_servers, [Sent(topic, 0, None, b"%d" % i) for i in range(10)])

    def answer(event):
        raise KeyError("customerId")

    handler = Recorder(answer)
    config = config_for(topic, handler, retry_backoff=0.2, until_idle=1.0)  # retries forever
    status = io.StringIO()
    summary = run_poller(config, status_stream=status)

    assert summary.exit_code == 1
    assert summary.stop_reason == "idle"
    assert "still failing" in summary.error
    assert summary.invocations >= 2
    assert summary.committed == {}
    assert committed(kafka.bootstrap_servers, config.consumer_group, topic, 1) == {}
    text = status.getvalue()
    assert text.count("Traceback") == 1  # the first failure in full, then one line each
    assert text.count("KeyError: 'customerId'") >= summary.invocations


def test_a_function_that_does_not_exist_is_refused_before_polling(capsys):
    config = PollerConfig(
        bootstrap_servers="127.0.0.1:1",
        topics=("orders",),
        function="nope",
        template=ROOT / "template.yaml",
    )
    with pytest.raises(EsmError, match=r"unknown function 'nope'; known: .*record_consumer"):
        run_poller(config)
    for target, message in (
        ("no_such_module:handler", "cannot import no_such_module: ModuleNotFoundError"),
        ("json:nope", "json has no function 'nope'"),
        ("missing/app.py:handler", "no handler module at"),
    ):
        with pytest.raises(EsmError, match=message):
            run_poller(PollerConfig("127.0.0.1:1", ("orders",), function=target))
    code = cli(
        [
            "-b",
            "127.0.0.1:1",
            "--topic",
            "t",
            "--function",
            "nope",
            "-t",
            str(ROOT / "template.yaml"),
        ]
    )
    assert code == 2
    assert "error: --function: unknown function 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"batch_size": 0}, "--batch-size: expected `int` >= 1, not 0"),
        ({"batch_size": 10_001}, "--batch-size: expected `int` <= 10000, not 10001"),
        ({"batching_window": 301}, "--batching-window: expected `float` <= 300.0, not 301"),
        ({"max_retries": -2}, "--max-retries: expected `int` >= -1, not -2"),
        ({"topics": ("a b",)}, "--topic: expected `str` matching regex"),
        ({"cluster_arn": "arn:aws:kafka:us-east-1:123:nope"}, "--cluster-arn 'arn:aws:kafka"),
        ({"on_failure": "ftp://elsewhere"}, "--on-failure 'ftp://elsewhere': give s3://bucket"),
    ],
)
def test_a_bad_setting_is_refused_naming_its_option(setting, message):
    settings = {"bootstrap_servers": "127.0.0.1:1", "topics": ("orders",), **setting}
    config = PollerConfig(**settings, function=Recorder())
    with pytest.raises(EsmError) as error:
        run_poller(config)
    assert message in str(error.value)


def test_a_cluster_arn_with_a_trailing_newline_is_refused():
    arn = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/abc-1\n"
    with pytest.raises(EsmError, match="--cluster-arn"):
        run_poller(PollerConfig("127.0.0.1:1", ("t",), function=Recorder(), cluster_arn=arn))


def test_a_bad_option_on_the_command_line_is_one_line_and_exit_2(capsys):
    code = cli(
        ["-b", "127.0.0.1:1", "--topic", "t", "--function", "json:dumps", "--batch-size", "0"]
    )
    assert code == 2
    assert capsys.readouterr().err == "error: --batch-size: expected `int` >= 1, not 0\n"


def test_a_template_function_runs_with_its_environment_and_env_vars_file(
    kafka, tiny_stack, tmp_path, capsys
):
    topic = create_topic(kafka.bootstrap_servers, partitions=2)
    produce(kafka.bootstrap_servers, [Sent(topic, i % 2, None, b"x") for i in range(40)])
    out = tmp_path / "out.jsonl"
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"EchoFunction": {"OUT_FILE": str(out)}}))
    code = cli(
        [
            "-b",
            kafka.bootstrap_servers,
            "--topic",
            topic,
            "--function",
            "echo",
            "--template",
            str(tiny_stack),
            "--env-vars",
            str(env_vars),
            "--batch-size",
            "15",
            "--batching-window",
            "0.2",
            "--until-idle",
            "1",
            "--kafka-config",
            "session.timeout.ms=6000",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "stopped: idle" in captured.out
    seen = sorted(tuple(json.loads(line)) for line in out.read_text().splitlines())
    assert seen == sorted((p, o) for p in (0, 1) for o in range(20))


def test_a_cold_start_failure_stops_the_run_with_nothing_committed(kafka, tiny_stack):
    topic = create_topic(kafka.bootstrap_servers)
    produce(kafka.bootstrap_servers, [Sent(topic, 0, None, b"x")])
    config = PollerConfig(
        bootstrap_servers=kafka.bootstrap_servers,
        topics=(topic,),
        function="broken",
        template=tiny_stack,
        group_id="cold-start",
        batching_window=0.1,
        until_idle=2,
        kafka_config={"session.timeout.ms": 6000},
    )
    summary = run_poller(config, status_stream=io.StringIO())
    assert summary.exit_code == 2
    assert "BrokenFunction failed its cold start" in summary.error
    assert "BATCH_MODE='sometimes'" in summary.error
    assert committed(kafka.bootstrap_servers, "cold-start", topic, 1) == {}


def test_the_command_exits_130_after_ctrl_c_with_a_summary(kafka, tmp_path):
    topic = create_topic(kafka.bootstrap_servers)
    produce(kafka.bootstrap_servers, [Sent(topic, 0, None, b"x") for _ in range(7)])
    handler = tmp_path / "handler.py"
    handler.write_text("def handle(event, context):\n    return None\n")
    group = "ctrl-c"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "msk_autopilot_local.cli",
            "esm",
            "-b",
            kafka.bootstrap_servers,
            "--topic",
            topic,
            "--group",
            group,
            "--function",
            f"{handler}:handle",
            "--batching-window",
            "0.1",
            "--kafka-config",
            "session.timeout.ms=6000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": PYTHONPATH},
    )
    try:
        deadline = time.monotonic() + 20
        while committed(kafka.bootstrap_servers, group, topic, 1) != {0: 7}:
            assert time.monotonic() < deadline, "the poller did not commit in time"
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert "stopping after the current invocation" in err
    assert "stopped: stopped" in out
    assert f"committed {topic}-0=7" in out
