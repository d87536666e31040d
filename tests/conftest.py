"""Fixtures and instrumentation shared by every test suite.

Every AWS call any test makes passes through a recorder that
- remembers every secret value it sees (SecretString, passwords), so that each test can check
  that none of them, in any encoding (escaped by repr or JSON, URL-encoded, base64), ever reached
  a log line, an SNS message, an S3 object or a handler's outcome (the secrets scan), and
- when a function handler is running (AWS_LAMBDA_FUNCTION_NAME is set, as `invoke` sets it),
  appends the IAM action it needed to a call log, from which tests/least_privilege checks each
  function's IAM policy against what the functions really call.
"""

import base64
import contextlib
import json
import logging
import os
import sys
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.client
import pytest

from msk_autopilot.observability import logger, metrics
from msk_autopilot.outcome import Outcome

# The MSK emulator's fixtures (msk_emulator, msk_emulator_server, msk_emulator_http).
pytest_plugins = ["msk_autopilot_local.emulator.testing"]

# tests/least_privilege reads what the whole main run recorded, so it runs after it, alone
# (`make test` sets the variable for that second run).
if not os.environ.get("MSK_AUTOPILOT_LEAST_PRIVILEGE"):
    collect_ignore = ["least_privilege"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with slow tests first. xdist hands out whole modules in collection order
    (`--dist loadscope --no-loadscope-reorder`, in pyproject.toml), so the long ones start at
    once on both workers instead of leaving one running alone at the end, and a module's
    shared fixture (the demo, a fault scenario) is built once."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


# --- the call recorder -----------------------------------------------------------------------

CALL_LOG_DIR = Path(__file__).resolve().parents[1] / ".pytest-calls"
_SECRETS: dict[str, dict[str, str]] = {}  # secret value -> {its encoded form: the encoding}
_OUTPUT: list[tuple[str, str]] = []  # (where, text) of everything output in the current test
_LOCK = threading.Lock()
# botocore signing names whose IAM prefix differs
_IAM_PREFIX = {"monitoring": "cloudwatch"}
# API operations authorised by IAM actions of other names
_IAM_ACTION = {
    "s3:HeadObject": ("s3:GetObject",),
    "s3:HeadBucket": ("s3:ListBucket",),
    "s3:ListObjectsV2": ("s3:ListBucket",),
    # MSK's topic APIs (msk-topic-operations-information.html)
    "kafka:ListTopics": ("kafka-cluster:Connect", "kafka-cluster:DescribeTopic"),
    "kafka:DescribeTopic": (
        "kafka-cluster:Connect",
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:DescribeTopicDynamicConfiguration",
    ),
    "kafka:DescribeTopicPartitions": (
        "kafka-cluster:Connect",
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:DescribeTopicDynamicConfiguration",
    ),
}
_SECRET_KEYS = {"SecretString", "RandomPassword", "password", "Password"}
_SECRET_MIN_LENGTH = 8  # shorter values would match innocent text


def escaped_forms(secret: str) -> dict[str, str]:
    """Every way `secret` can be written in output: {the text: how it was encoded}."""
    forms: dict[str, str] = {}

    def add(text: str, how: str) -> None:
        forms[text] = f"{forms[text]} or {how}" if text in forms else how

    add(secret, "as is")
    add(repr(secret)[1:-1], "repr")
    add(json.dumps(secret)[1:-1], "JSON")
    add(urllib.parse.quote(secret, safe=""), "URL-encoded")
    add(urllib.parse.quote_plus(secret), "URL-encoded form")
    # In a longer base64 text the secret starts at any of three byte offsets; keep the
    # characters that encode its bytes alone.
    raw = secret.encode()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + raw).decode()
        add(encoded[4 * -(-offset // 3) : 4 * ((offset + len(raw)) // 3)], "base64")
    # any of them inside a JSON document (a log line, a message) is escaped once more
    for text, how in list(forms.items()):
        if (escaped := json.dumps(text)[1:-1]) != text:
            add(escaped, f"{how}, in JSON")
    return forms


def _remember_secrets(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _SECRET_KEYS and isinstance(item, str) and len(item) >= _SECRET_MIN_LENGTH:
                if item not in _SECRETS:
                    _SECRETS[item] = escaped_forms(item)
                with contextlib.suppress(ValueError):  # a JSON secret: its password too
                    _remember_secrets(json.loads(item))
            else:
                _remember_secrets(item)
    elif isinstance(value, list):
        for item in value:
            _remember_secrets(item)


def _record_call(client: Any, operation: str) -> None:
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    if not function:
        return
    model = client.meta.service_model
    prefix = _IAM_PREFIX.get(model.signing_name, model.signing_name)
    actions = _IAM_ACTION.get(f"{prefix}:{operation}", (f"{prefix}:{operation}",))
    CALL_LOG_DIR.mkdir(exist_ok=True)
    lines = "".join(
        json.dumps({"function": function, "action": action}) + "\n" for action in actions
    )
    with _LOCK, (CALL_LOG_DIR / f"calls-{os.getpid()}.jsonl").open("a") as log:
        log.write(lines)


_make_api_call = botocore.client.BaseClient._make_api_call


def _record_output(operation: str, params: dict[str, Any]) -> None:
    """What reaches people or storage: SNS messages and S3 objects."""
    if operation == "Publish":
        _OUTPUT.append(("SNS message", f"{params.get('Subject', '')}\n{params['Message']}"))
    elif operation == "PublishBatch":
        for entry in params["PublishBatchRequestEntries"]:
            _OUTPUT.append(("SNS message", f"{entry.get('Subject', '')}\n{entry['Message']}"))
    elif operation == "PutObject" and isinstance(params.get("Body"), str | bytes):
        body = params["Body"]
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        _OUTPUT.append((f"S3 object {params['Key']}", text))


def _recording_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
    _remember_secrets(api_params)
    _record_output(operation_name, api_params)
    _record_call(self, operation_name)
    response = _make_api_call(self, operation_name, api_params)
    _remember_secrets(response)
    return response


botocore.client.BaseClient._make_api_call = _recording_api_call

_outcome_to_dict = Outcome.to_dict


def _recording_to_dict(self: Outcome) -> dict[str, Any]:
    """An outcome as a handler returns it (to Lambda, to Secrets Manager, to the caller)."""
    result = _outcome_to_dict(self)
    _OUTPUT.append(("outcome", json.dumps(result, default=str)))
    return result


Outcome.to_dict = _recording_to_dict  # type: ignore[method-assign]

# --- log capture -----------------------------------------------------------------------------


class _CurrentStdout:
    """Writes to whatever sys.stdout is now (pytest swaps it per test and phase, while
    powertools' log handler keeps the stream it was created with) and keeps a copy."""

    def write(self, text: str) -> int:
        _OUTPUT.append(("log", text))
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


class _KeepRecords(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        _OUTPUT.append(("log", f"{record.getMessage()} {record.__dict__}"))


logger.registered_handler.stream = _CurrentStdout()
logging.getLogger().addHandler(_KeepRecords(level=logging.DEBUG))


def leaks(outputs: list[tuple[str, str]]) -> list[str]:
    """Where and how any secret seen so far appears in `outputs` ((where, text) pairs); never
    the secret itself."""
    texts: dict[str, list[str]] = {}
    for where, text in outputs:
        texts.setdefault(where, []).append(text)
    found = set()
    for where, parts in texts.items():
        joined = "\0".join(parts)
        for forms in _SECRETS.values():
            found |= {f"{where} ({how})" for form, how in forms.items() if form in joined}
    return sorted(found)


@pytest.fixture
def secret_leaks() -> Callable[[list[tuple[str, str]]], list[str]]:
    """The secrets scan on demand: where and how a secret seen so far appears in (where, text)."""
    return leaks


@pytest.fixture(autouse=True)
def _no_secret_in_output():
    """The secrets scan: no secret value seen in any AWS call may appear, in any encoding, in
    any log line, SNS message, S3 object or outcome of the test."""
    _OUTPUT.clear()
    yield
    leaked = leaks(_OUTPUT)
    assert not leaked, f"a secret value appeared in: {', '.join(leaked)}"


@pytest.fixture(autouse=True)
def _fresh_metrics_buffer() -> None:
    """Each test starts with an empty EMF buffer, as each Lambda invocation does (log_metrics
    flushes it). Left to accumulate across a worker's tests, it would flush itself on reaching
    100 values at an unpredictable moment, possibly while a concurrent-delivery test's threads
    are adding to it (one Lambda process never has two)."""
    metrics.clear_metrics()


@pytest.fixture
def emitted(capsys) -> Callable[[], list[dict]]:
    """Returns a reader of the JSON lines (logs and EMF metrics) emitted so far."""

    def read() -> list[dict]:
        lines = capsys.readouterr().out.splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    return read


@pytest.fixture
def notifications(aws) -> Callable[[], list[dict[str, Any]]]:
    """Reads what the functions published to the notification topic, through an SQS queue.

    Needs the suite's `aws` fixture: a boto3 Session on the local account.
    """
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="msk-autopilot-notifications")["TopicArn"]
    queue = sqs.create_queue(QueueName="notifications-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])

    def read() -> list[dict[str, Any]]:
        found = []
        while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                found.append(json.loads(json.loads(message["Body"])["Message"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return found

    return read
