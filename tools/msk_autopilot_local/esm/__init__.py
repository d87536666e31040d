"""`msk-autopilot esm`: a local poller that behaves like Lambda's Kafka event source mapping.

Reads one or more topics of any Kafka reachable from this machine as a consumer group, builds
events exactly as Lambda does (records grouped by "topic-partition", base64 key and value, null
keys, headers as byte arrays, the MSK shape with --cluster-arn, else the self-managed one), and
invokes a function's handler in this process: a template function (default record_consumer,
cold-started with its template environment like `msk-autopilot invoke`) or, for tests and
experiments, any `module:function` or `path/to/file.py:function`.

Like Lambda it cuts a batch at --batch-size records, at the end of the batching window or at
6 MB of payload; commits offsets only after the handler succeeded; honours a partial batch
response (`{"batchItemFailures": [{"itemIdentifier": {"partition": "t-0", "offset": 15}}]}`)
by committing what came before each partition's first failed offset and retrying from there;
retries up to --max-retries (default: forever); bisects failing batches with --bisect; sends
what still fails to the --on-failure destination (S3: the whole invocation record, SQS/SNS:
metadata only) and then commits past it. One poller invokes one batch at a time, so a failing
batch holds up every partition, where Lambda holds up only its own.

Stops after --until-idle SECONDS without progress (no new record, nothing committed), after
--max-batches invocations, or on Ctrl-C (after the current invocation). Exit status: 0 done;
1 the run ended with records not handled (discarded, still failing, Kafka lost, commit or
destination failed); 2 it could not start (bad option, unknown function, Kafka unreachable,
missing topic, destination unusable, the function's cold start failed); 130 interrupted.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import importlib.util
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import IO, Any, Literal

from msk_autopilot_local.local_lambda import (
    InvokeError,
    LocalContext,
    environment,
    invoke_function,
    read_env_vars_file,
)
from msk_autopilot_local.template.resolve import (
    LOCAL_ACCOUNT,
    ResolvedTemplate,
    StackError,
    find_template,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "EsmError",
    "KafkaRecord",
    "PollerConfig",
    "PollerSummary",
    "build_event",
    "failure_record",
    "kafka_record",
    "register",
    "run_poller",
]

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
MAX_BATCH_SIZE = 10_000
MAX_BATCHING_WINDOW = 300.0
MAX_RETRY_ATTEMPTS = 10_000
RETRIES_WITH_DESTINATION = 10  # infinite retries plus a destination: Lambda caps at 10
DEFAULT_REGION = "us-east-1"

Handler = Callable[[dict[str, Any], Any], Any]
StartingPosition = Literal["TRIM_HORIZON", "LATEST"]
_TIMESTAMP_TYPES = {1: "CREATE_TIME", 2: "LOG_APPEND_TIME"}  # librdkafka's codes
_CLUSTER_ARN = re.compile(r"^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster/[^/]+/[^/]+$")


class EsmError(Exception):
    """The poller cannot start: a bad option, an unknown function, Kafka unreachable..."""

    exit_code = 2


class _Fatal(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class PollerConfig:
    """What `msk-autopilot esm` is told on its command line, for callers in Python."""

    bootstrap_servers: str
    topics: tuple[str, ...]
    function: str | Handler = "record_consumer"
    group_id: str | None = None  # default: msk-autopilot-esm-<function>
    template: Path | None = None  # default: the nearest template.yaml
    env_vars: Mapping[str, str] = field(default_factory=dict)  # the function's env overrides
    batch_size: int = 100
    batching_window: float = 0.5  # seconds; Lambda's Kafka default is 500 ms
    starting_position: StartingPosition = "TRIM_HORIZON"
    max_retries: int = -1  # -1: until it succeeds (10 when there is a destination)
    bisect: bool = False
    report_batch_item_failures: bool = True
    on_failure: str | None = None  # s3://bucket/prefix, arn:aws:s3:::bucket, SQS URL/ARN, SNS ARN
    cluster_arn: str | None = None  # MSK shape (aws:kafka + eventSourceArn) when given
    until_idle: float | None = None  # stop after this long without progress
    max_batches: int | None = None  # stop after this many invocations
    kafka_config: Mapping[str, Any] = field(default_factory=dict)  # librdkafka properties
    broker_timeout: float = 30.0  # Kafka unreachable this long: give up
    commit_timeout: float = 10.0
    retry_backoff: float = 0.5  # seconds before the first retry, doubled each time
    retry_backoff_max: float = 10.0
    status_interval: float = 5.0  # seconds between status lines when not on a terminal

    @property
    def function_name(self) -> str:
        if isinstance(self.function, str):
            return self.function.rsplit(":", 1)[-1] if ":" in self.function else self.function
        return getattr(self.function, "__name__", "handler")

    @property
    def consumer_group(self) -> str:
        return self.group_id or f"msk-autopilot-esm-{self.function_name}"

    @property
    def effective_max_retries(self) -> int:
        if self.max_retries == -1 and self.on_failure:
            return RETRIES_WITH_DESTINATION
        return self.max_retries

    def validate(self) -> None:  # noqa: PLR0912  one check per option
        problems = []
        if not self.bootstrap_servers.strip():
            problems.append("--bootstrap-servers is empty")
        if not self.topics:
            problems.append("give at least one --topic")
        for topic in self.topics:
            if not re.fullmatch(r"[A-Za-z0-9._-]{1,249}", topic):
                problems.append(f"{topic!r} is not a valid Kafka topic name")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            problems.append(f"--batch-size must be 1-{MAX_BATCH_SIZE}, not {self.batch_size}")
        if not 0 <= self.batching_window <= MAX_BATCHING_WINDOW:
            problems.append(
                f"--batching-window must be 0-{MAX_BATCHING_WINDOW:.0f} s, "
                f"not {self.batching_window}"
            )
        if self.starting_position not in ("TRIM_HORIZON", "LATEST"):
            problems.append(
                f"--starting-position must be TRIM_HORIZON or LATEST, not "
                f"{self.starting_position!r} (AT_TIMESTAMP is not supported locally)"
            )
        if not -1 <= self.max_retries <= MAX_RETRY_ATTEMPTS:
            problems.append(
                f"--max-retries must be -1 (forever) to {MAX_RETRY_ATTEMPTS}, "
                f"not {self.max_retries}"
            )
        if self.cluster_arn is not None and not _CLUSTER_ARN.match(self.cluster_arn):
            problems.append(f"--cluster-arn {self.cluster_arn!r} is not an MSK cluster ARN")
        if self.until_idle is not None and self.until_idle <= 0:
            problems.append("--until-idle must be more than 0 seconds")
        if self.max_batches is not None and self.max_batches < 1:
            problems.append("--max-batches must be at least 1")
        for name in ("broker_timeout", "commit_timeout", "status_interval"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be more than 0")
        if self.retry_backoff < 0 or self.retry_backoff_max < 0:
            problems.append("retry backoff must not be negative")
        if problems:
            raise EsmError("; ".join(problems))


# --- events in Lambda's shape --------------------------------------------------------------


def _compact_json(document: Any) -> str:
    """JSON as Lambda sends it; ASCII only, so its length in characters is its size in bytes."""
    return json.dumps(document, separators=(",", ":"))


@dataclass(slots=True)
class KafkaRecord:
    """One Kafka record, with its part of a Lambda event ready and measured."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    payload: dict[str, Any]
    size: int  # bytes of `payload` in compact JSON
    arrived: float = 0.0  # monotonic time the poller fetched it

    @property
    def partition_key(self) -> str:
        return f"{self.topic}-{self.partition}"


def kafka_record(
    *,
    topic: str,
    partition: int,
    offset: int,
    timestamp: int,
    timestamp_type: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | str | None]] | None,
) -> KafkaRecord:
    """A record as Lambda puts it in an event.

    Key and value are base64; a null key is `null`; a null value (a tombstone) has no `value`
    field at all, as Lambda sends it (powertools-lambda-typescript#5016). Headers are a list of
    one-key objects whose value is the header's bytes as an array of numbers (a null header
    value becomes an empty array). A record without a timestamp has -1 and NO_TIMESTAMP_TYPE.
    """
    known_type = _TIMESTAMP_TYPES.get(timestamp_type)
    payload: dict[str, Any] = {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "timestamp": timestamp if known_type else -1,
        "timestampType": known_type or "NO_TIMESTAMP_TYPE",
        "key": base64.b64encode(key).decode("ascii") if key is not None else None,
    }
    if value is not None:
        payload["value"] = base64.b64encode(value).decode("ascii")
    payload["headers"] = [
        {name: list(data.encode() if isinstance(data, str) else data or b"")}
        for name, data in headers or ()
    ]
    return KafkaRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=payload["timestamp"],
        payload=payload,
        size=len(_compact_json(payload)),
    )


def _record_from_message(message: Any) -> KafkaRecord:
    timestamp_type, timestamp = message.timestamp()
    key, value = message.key(), message.value()
    return kafka_record(
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        timestamp=timestamp,
        timestamp_type=timestamp_type,
        key=key.encode() if isinstance(key, str) else key,
        value=value.encode() if isinstance(value, str) else value,
        headers=message.headers(),
    )


def _envelope(bootstrap_servers: str, cluster_arn: str | None) -> dict[str, Any]:
    if cluster_arn:
        return {
            "eventSource": "aws:kafka",
            "eventSourceArn": cluster_arn,
            "bootstrapServers": bootstrap_servers,
        }
    return {"eventSource": "SelfManagedKafka", "bootstrapServers": bootstrap_servers}


def build_event(
    records: Sequence[KafkaRecord], *, bootstrap_servers: str, cluster_arn: str | None = None
) -> dict[str, Any]:
    """Lambda's Kafka event for `records`, grouped by "topic-partition" in order of arrival."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record.partition_key, []).append(record.payload)
    return {**_envelope(bootstrap_servers, cluster_arn), "records": groups}


class _EventSizer:
    """The compact-JSON size of an event as records are added, without serializing it."""

    def __init__(self, bootstrap_servers: str, cluster_arn: str | None) -> None:
        self.size = len(_compact_json({**_envelope(bootstrap_servers, cluster_arn), "records": {}}))
        self._groups: set[str] = set()

    def size_with(self, record: KafkaRecord) -> int:
        key = record.partition_key
        if key in self._groups:
            return self.size + 1 + record.size  # ,{record}
        comma = 1 if self._groups else 0
        return self.size + comma + len(_compact_json(key)) + 3 + record.size  # ,"t-0":[{...}]

    def add(self, record: KafkaRecord) -> None:
        self.size = self.size_with(record)
        self._groups.add(record.partition_key)


def _iso_millis(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(max(epoch_ms, 0) / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{max(epoch_ms, 0) % 1000:03d}Z"


def failure_record(
    records: Sequence[KafkaRecord],
    *,
    event_body: str,
    condition: str,
    invoke_count: int,
    function_arn: str,
    function_error: str | None,
    bootstrap_servers: str,
    cluster_arn: str | None,
    with_payload: bool,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Lambda's on-failure invocation record for a Kafka batch (kafka-on-failure.html).

    SQS and SNS get the metadata only; S3 also gets `payload`, the whole event as a JSON string.
    `responseContext` is null when the batch was never invoked (MaximumPayloadSizeExceeded).
    """
    records_info: dict[str, dict[str, str]] = {}
    for record in records:
        info = records_info.setdefault(
            record.partition_key,
            {
                "firstRecordOffset": str(record.offset),
                "lastRecordOffset": str(record.offset),
                "firstRecordTimestamp": _iso_millis(record.timestamp),
                "lastRecordTimestamp": _iso_millis(record.timestamp),
            },
        )
        info["lastRecordOffset"] = str(record.offset)
        info["lastRecordTimestamp"] = _iso_millis(record.timestamp)
    response_context: dict[str, Any] | None = None
    if condition != "MaximumPayloadSizeExceeded":
        response_context = {"statusCode": 200, "executedVersion": "$LATEST"}
        if function_error:
            response_context["functionError"] = function_error
    batch_info: dict[str, Any] = {"batchSize": len(records)}
    if cluster_arn:
        batch_info["eventSourceArn"] = cluster_arn
    batch_info.update(
        bootstrapServers=bootstrap_servers, payloadSize=len(event_body), recordsInfo=records_info
    )
    document: dict[str, Any] = {
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": _iso_millis(int(time.time() * 1000)),
        "KafkaBatchInfo": batch_info,
    }
    if with_payload:
        document["payload"] = event_body
    return document


# --- the function ----------------------------------------------------------------------------


class _ColdStartError(Exception):
    """The function could not be loaded or started (not: its handler failed)."""


@dataclass
class _Function:
    name: str
    arn: str
    call: Callable[[dict[str, Any]], Any]


def _arn(name: str, region: str = DEFAULT_REGION, account: str = LOCAL_ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def _callable_function(handler: Handler, name: str, env: Mapping[str, str]) -> _Function:
    arn = _arn(name)

    def call(event: dict[str, Any]) -> Any:
        context = LocalContext(function_name=name, invoked_function_arn=arn)
        with environment(env):
            return handler(event, context)

    return _Function(name=name, arn=arn, call=call)


def _load_module(spec_text: str) -> ModuleType:
    if spec_text.endswith(".py") or "/" in spec_text:
        path = Path(spec_text).resolve()
        if not path.is_file():
            raise EsmError(f"--function: no handler file at {path}")
        module_name = f"_msk_autopilot_esm_{re.sub(r'\W', '_', path.stem)}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise EsmError(f"--function: cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(spec_text)


def _resolve_function(config: PollerConfig) -> _Function:
    target = config.function
    if callable(target):
        return _callable_function(target, config.function_name, config.env_vars)
    if ":" in target:
        module_text, _, attribute = target.rpartition(":")
        try:
            module = _load_module(module_text)
        except EsmError:
            raise
        except Exception as error:  # noqa: BLE001  any import failure is the user's to see
            raise EsmError(
                f"--function {target}: cannot import {module_text}: {type(error).__name__}: {error}"
            ) from None
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise EsmError(f"--function {target}: {module_text} has no function {attribute!r}")
        return _callable_function(handler, attribute, config.env_vars)
    try:
        stack = ResolvedTemplate(config.template or find_template())
        logical_id = stack.function_logical_id(target)
        code = stack.function_code_dir(logical_id) / "app.py"
        physical = stack.physical_name(logical_id)
    except StackError as error:
        raise EsmError(f"--function: {error}") from None
    if not code.is_file():
        raise EsmError(f"--function {target}: no handler module at {code}")
    env = dict(config.env_vars)

    def call(event: dict[str, Any]) -> Any:
        try:
            return invoke_function(target, event, env_overrides=env, stack=stack)
        except InvokeError as error:
            raise _ColdStartError(str(error)) from None

    return _Function(name=target, arn=_arn(physical, stack.region, stack.account), call=call)


# --- on-failure destinations -----------------------------------------------------------------


def _boto_client(service: str, region: str | None = None) -> Any:
    import boto3  # noqa: PLC0415  only when a destination is configured

    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.client(service, region_name=region or DEFAULT_REGION)


class _Destination:
    description: str
    with_payload = False

    def check(self) -> None:
        raise NotImplementedError

    def send(self, document: dict[str, Any], partition_key: str, esm_uuid: str) -> str:
        raise NotImplementedError


class _S3Destination(_Destination):
    with_payload = True  # S3 gets the whole invocation record

    def __init__(self, bucket: str, prefix: str) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.description = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.client = _boto_client("s3")

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as error:  # noqa: BLE001  botocore's errors are not importable here
            raise EsmError(f"--on-failure {self.description}: bucket not usable: {error}") from None

    def send(self, document: dict[str, Any], partition_key: str, esm_uuid: str) -> str:
        # Lambda's layout: aws/lambda/<ESM UUID>/<shard>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>
        now = datetime.now(UTC)
        key = (
            f"aws/lambda/{esm_uuid}/{partition_key}/{now:%Y/%m/%d}/"
            f"{now:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
        )
        key = f"{self.prefix}/{key}" if self.prefix else key
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(document).encode(),
            ContentType="application/json",
        )
        return f"s3://{self.bucket}/{key}"


class _SqsDestination(_Destination):
    def __init__(self, spec: str) -> None:
        self.description = spec
        if spec.startswith("arn:"):
            _, _, _, region, account, name = spec.split(":", 5)
            self.client = _boto_client("sqs", region)
            self._queue_url: str | None = None
            self._lookup = {"QueueName": name, "QueueOwnerAWSAccountId": account}
        else:
            host = re.match(r"https?://sqs[.-]([a-z0-9-]+)\.amazonaws\.com", spec)
            self.client = _boto_client("sqs", host.group(1) if host else None)
            self._queue_url = spec
            self._lookup = {}

    @property
    def queue_url(self) -> str:
        if self._queue_url is None:
            self._queue_url = str(self.client.get_queue_url(**self._lookup)["QueueUrl"])
        return self._queue_url

    def check(self) -> None:
        try:
            self.client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        except Exception as error:  # noqa: BLE001
            raise EsmError(f"--on-failure {self.description}: queue not usable: {error}") from None

    def send(self, document: dict[str, Any], partition_key: str, esm_uuid: str) -> str:
        answer = self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(document))
        return f"{self.queue_url}#{answer['MessageId']}"


class _SnsDestination(_Destination):
    def __init__(self, arn: str) -> None:
        self.description = arn
        self.arn = arn
        self.client = _boto_client("sns", arn.split(":")[3])

    def check(self) -> None:
        try:
            self.client.get_topic_attributes(TopicArn=self.arn)
        except Exception as error:  # noqa: BLE001
            raise EsmError(f"--on-failure {self.arn}: topic not usable: {error}") from None

    def send(self, document: dict[str, Any], partition_key: str, esm_uuid: str) -> str:
        answer = self.client.publish(TopicArn=self.arn, Message=json.dumps(document))
        return f"{self.arn}#{answer['MessageId']}"


def _destination(spec: str) -> _Destination:
    if match := re.fullmatch(r"s3://([^/]+)/?(.*)", spec):
        return _S3Destination(match.group(1), match.group(2))
    if match := re.fullmatch(r"arn:aws[a-z-]*:s3:::([^/]+)/?(.*)", spec):
        return _S3Destination(match.group(1), match.group(2))
    if re.fullmatch(r"arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]+(\.fifo)?", spec):
        return _SqsDestination(spec)
    if re.fullmatch(r"https?://[^/]+/\d{12}/[\w-]+(\.fifo)?", spec):
        return _SqsDestination(spec)
    if re.fullmatch(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+(\.fifo)?", spec):
        return _SnsDestination(spec)
    raise EsmError(
        f"--on-failure {spec!r}: give s3://bucket[/prefix], an S3 bucket ARN, an SQS queue URL "
        "or ARN, or an SNS topic ARN (Kafka topic destinations are not supported locally)"
    )


# --- the summary -------------------------------------------------------------------------------


@dataclass
class PollerSummary:
    """What a run did. `exit_code` is what the command line exits with."""

    invocations: int = 0  # "batches": every invocation, retries and bisected halves included
    records_received: int = 0  # fetched from Kafka
    records_invoked: int = 0  # handed to the handler, counting each retry again
    records_succeeded: int = 0
    records_to_destination: int = 0
    records_discarded: int = 0  # retries exhausted and no destination: lost, like Lambda
    function_errors: int = 0  # invocations that raised or answered malformed
    partial_failures: int = 0  # invocations that answered with batchItemFailures
    retries: int = 0
    bisections: int = 0
    max_event_bytes: int = 0
    destination_locations: list[str] = field(default_factory=list)
    committed: dict[str, int] = field(default_factory=dict)  # "topic-partition" -> next offset
    uncommitted_handled: int = 0  # handled, but the commit did not happen: will be redelivered
    lag: int | None = None
    elapsed: float = 0.0
    stop_reason: str = ""
    exit_code: int = 0
    error: str | None = None

    @property
    def records_per_second(self) -> float:
        handled = self.records_succeeded + self.records_to_destination + self.records_discarded
        return handled / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def failures(self) -> int:
        return self.function_errors + self.partial_failures

    def status_line(self) -> str:
        lag = "?" if self.lag is None else f"{self.lag:,}"
        return (
            f"esm: {self.invocations:,} batches | {self.records_succeeded:,} records ok "
            f"({self.records_per_second:,.0f}/s) | lag {lag} | failures {self.failures:,} "
            f"({self.retries:,} retries, {self.records_to_destination:,} to destination, "
            f"{self.records_discarded:,} discarded)"
        )

    def final_line(self) -> str:
        committed = " ".join(f"{key}={offset}" for key, offset in sorted(self.committed.items()))
        return (
            f"{self.status_line()} | {self.elapsed:.1f} s | stopped: {self.stop_reason}"
            f" | committed {committed or 'nothing'}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "records_per_second": round(self.records_per_second, 1)}


class _Status:
    """A refreshing line on a terminal, periodic lines elsewhere."""

    def __init__(self, stream: IO[str], interval: float) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = 0.5 if self.tty else interval
        self._next = time.monotonic() + self.interval
        self._drawn = False
        self._line = ""

    def due(self) -> bool:
        return time.monotonic() >= self._next

    def tick(self, summary: PollerSummary, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + self.interval
        if self.tty:
            self._line = summary.status_line()
            self.stream.write("\r" + self._line + "\x1b[K")
            self._drawn = True
        else:
            self.stream.write(summary.status_line() + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """A line above the status line, which is drawn again below it."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
        self.stream.write(text.rstrip("\n") + "\n")
        if self._drawn:
            self.stream.write(self._line + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False
            self.stream.flush()


# --- the poller ------------------------------------------------------------------------------


@dataclass
class _Unit:
    """Records invoked together, and how often they have been."""

    records: list[KafkaRecord]
    invocations: int = 0
    after_failure: bool = False  # a bisected half of a batch that failed


@dataclass
class _Outcome:
    kind: Literal["ok", "partial", "error"]
    detail: str = ""
    function_error: str | None = None  # "Unhandled" when the handler raised
    first_failed: dict[str, int] = field(default_factory=dict)
    event_body: str = ""
    request_id: str = ""


def _describe(records: Sequence[KafkaRecord]) -> str:
    spans: dict[str, list[int]] = {}
    for record in records:
        span = spans.setdefault(record.partition_key, [record.offset, record.offset])
        span[0], span[1] = min(span[0], record.offset), max(span[1], record.offset)
    return ", ".join(
        f"{key} offset {low}" if low == high else f"{key} offsets {low}-{high}"
        for key, (low, high) in spans.items()
    )


class _Poller:
    def __init__(
        self,
        config: PollerConfig,
        function: _Function,
        destination: _Destination | None,
        *,
        stop: threading.Event,
        status: _Status,
    ) -> None:
        self.config = config
        self.function = function
        self.destination = destination
        self.stop = stop
        self.status = status
        self.summary = PollerSummary()
        self.esm_uuid = str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"msk-autopilot-esm/{config.consumer_group}")
        )
        self.buffer: deque[KafkaRecord] = deque()
        self.buffered_bytes = 0
        self.inflight: dict[tuple[str, int], set[int]] = {}
        self.resolved_upto: dict[tuple[str, int], int] = {}
        self.committed: dict[tuple[str, int], int] = {}
        self.revoked: set[tuple[str, int]] = set()
        self.handled_uncommitted = 0
        self.last_progress = time.monotonic()
        self.started = time.monotonic()
        self.stuck: str | None = None
        self.assigned = False
        self.down_since: float | None = None
        self.last_kafka_error = ""
        self.fatal_kafka_error: str | None = None
        self.commit_result: tuple[Any, list[Any]] | None = None
        self.first_traceback_shown = False
        self.consumer: Any = None

    # --- Kafka ---------------------------------------------------------------------------------

    def _on_error(self, error: Any) -> None:
        from confluent_kafka import KafkaError  # noqa: PLC0415

        self.last_kafka_error = error.str()
        if error.code() == KafkaError._ALL_BROKERS_DOWN and self.down_since is None:
            self.down_since = time.monotonic()
        if error.fatal():
            self.fatal_kafka_error = error.str()

    def _on_commit(self, error: Any, partitions: list[Any]) -> None:
        self.commit_result = (error, partitions)

    def _on_assign(self, _consumer: Any, partitions: list[Any]) -> None:
        self.last_progress = time.monotonic()  # joining the group is progress
        self.assigned = True
        for partition in partitions:
            self.revoked.discard((partition.topic, partition.partition))

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        gone = {(partition.topic, partition.partition) for partition in partitions}
        self.revoked |= gone
        kept = [r for r in self.buffer if (r.topic, r.partition) not in gone]
        self.buffer = deque(kept)
        self.buffered_bytes = sum(r.size for r in kept)
        for key in gone:
            self.inflight.pop(key, None)
            self.resolved_upto.pop(key, None)

    def connect(self) -> None:
        from confluent_kafka import Consumer, KafkaException  # noqa: PLC0415

        config = self.config
        settings: dict[str, Any] = {
            "bootstrap.servers": config.bootstrap_servers,
            "group.id": config.consumer_group,
            "client.id": f"msk-autopilot-esm-{config.function_name}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest"
            if config.starting_position == "TRIM_HORIZON"
            else "latest",
            "session.timeout.ms": 10_000,  # also bounds how long close() waits for a lost broker
            "max.poll.interval.ms": 86_400_000,  # a handler or a retry loop may take long
            "log_level": 0,  # librdkafka's errors come through error_cb, reported once
            "error_cb": self._on_error,
            "on_commit": self._on_commit,
            **config.kafka_config,
        }
        try:
            self.consumer = Consumer(settings)
        except KafkaException as error:
            raise EsmError(f"--kafka-config: {error.args[0].str()}") from None
        try:
            metadata = self.consumer.list_topics(timeout=config.broker_timeout)
        except KafkaException as error:
            self.consumer.close()
            reason = self.last_kafka_error or error.args[0].str()
            raise EsmError(
                f"cannot reach Kafka at {config.bootstrap_servers} within "
                f"{config.broker_timeout:g} s: {reason}"
            ) from None
        missing = [
            topic
            for topic in config.topics
            if topic not in metadata.topics or metadata.topics[topic].error is not None
        ]
        if missing:
            self.consumer.close()
            existing = sorted(t for t in metadata.topics if not t.startswith("__"))
            raise EsmError(
                f"topic {', '.join(repr(t) for t in missing)} does not exist on "
                f"{config.bootstrap_servers} (topics there: {', '.join(existing) or 'none'})"
            )
        self.down_since = None
        self.consumer.subscribe(
            list(config.topics),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )

    def _fetch(self, timeout: float, max_messages: int) -> int:
        from confluent_kafka import KafkaError  # noqa: PLC0415

        messages = self.consumer.consume(num_messages=max(1, max_messages), timeout=timeout)
        now = time.monotonic()
        added = 0
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise _Fatal(f"{message.topic()}: {error.str()} (was the topic deleted?)", 2)
                if error.code() != KafkaError._PARTITION_EOF:
                    self.last_kafka_error = error.str()
                continue
            key = (message.topic(), message.partition())
            if key in self.revoked:
                continue
            record = _record_from_message(message)
            record.arrived = now
            self.buffer.append(record)
            self.buffered_bytes += record.size
            added += 1
        if added:
            self.summary.records_received += added
            self.last_progress = now
            self.down_since = None
        self._check_kafka()
        self._tick()
        return added

    def _check_kafka(self) -> None:
        from confluent_kafka import KafkaException  # noqa: PLC0415

        if self.fatal_kafka_error:
            raise _Fatal(f"Kafka client failed: {self.fatal_kafka_error}")
        if self.down_since is None:
            return
        down_for = time.monotonic() - self.down_since
        if down_for < self.config.broker_timeout:
            return
        try:
            self.consumer.list_topics(timeout=min(2.0, self.config.broker_timeout))
        except KafkaException:
            raise _Fatal(
                f"lost Kafka at {self.config.bootstrap_servers}: no broker answered for "
                f"{down_for:.0f} s ({self.last_kafka_error or 'all brokers down'})"
            ) from None
        self.down_since = None

    def _commit(self) -> None:
        from confluent_kafka import TopicPartition  # noqa: PLC0415

        targets: dict[tuple[str, int], int] = {}
        for key, upto in self.resolved_upto.items():
            pending = self.inflight.get(key)
            position = min(upto, *pending) if pending else upto
            if position > self.committed.get(key, -1) and key not in self.revoked:
                targets[key] = position
        if not targets:
            return
        self.commit_result = None
        self.consumer.commit(
            offsets=[TopicPartition(t, p, offset) for (t, p), offset in targets.items()],
            asynchronous=True,
        )
        deadline = time.monotonic() + self.config.commit_timeout
        while self.commit_result is None:  # on_commit is served by consume()
            if time.monotonic() > deadline:
                raise _Fatal(
                    f"could not commit offsets to {self.config.bootstrap_servers} within "
                    f"{self.config.commit_timeout:g} s "
                    f"({self.last_kafka_error or 'no answer from the group coordinator'})"
                )
            self._fetch(timeout=0.05, max_messages=1)
        error, partitions = self.commit_result
        failed = [p for p in partitions if p.error is not None]
        if error is not None or failed:
            reason = error.str() if error is not None else failed[0].error.str()
            raise _Fatal(f"Kafka refused the offset commit: {reason}")
        for key, offset in targets.items():
            self.committed[key] = offset
        self.handled_uncommitted = 0

    # --- the loop ------------------------------------------------------------------------------

    def run(self) -> PollerSummary:
        self.started = self.last_progress = time.monotonic()
        try:
            self._loop()
        except _Fatal as fatal:
            self.summary.error = str(fatal)
            self.summary.exit_code = fatal.exit_code
            self.summary.stop_reason = "error"
            self.summary.uncommitted_handled = self.handled_uncommitted
            self.status.message(f"error: {fatal}")
            if self.handled_uncommitted:
                self.status.message(
                    f"  {self.handled_uncommitted} records were handled but not committed: "
                    "they will be delivered again"
                )
        finally:
            self._finish()
        return self.summary

    def _finish(self) -> None:
        summary = self.summary
        summary.elapsed = time.monotonic() - self.started
        summary.committed = {f"{t}-{p}": offset for (t, p), offset in self.committed.items()}
        with contextlib.suppress(Exception):
            summary.lag = self._lag()
        if self.stuck and summary.exit_code == 0:
            summary.exit_code = 1
            summary.error = self.stuck
            self.status.message(f"error: {self.stuck}")
        elif summary.records_discarded and summary.exit_code == 0:
            summary.exit_code = 1
            summary.error = f"{summary.records_discarded} records were discarded"
        self.status.tick(summary, force=True)
        self.status.close()
        if self.consumer is not None:
            self.consumer.close()  # at most session.timeout.ms when Kafka is gone

    def _lag(self) -> int | None:
        from confluent_kafka import TopicPartition  # noqa: PLC0415

        total, known = 0, False
        for assigned in self.consumer.assignment():
            low, high = self.consumer.get_watermark_offsets(
                TopicPartition(assigned.topic, assigned.partition), cached=True
            )
            if high < 0:
                continue
            position = self.committed.get((assigned.topic, assigned.partition))
            if position is None:
                position = low if self.config.starting_position == "TRIM_HORIZON" else high
            total += max(0, high - max(position, low))
            known = True
        return total if known else None

    def _tick(self) -> None:
        if self.status.due():
            self.summary.elapsed = time.monotonic() - self.started
            with contextlib.suppress(Exception):
                self.summary.lag = self._lag()
            self.status.tick(self.summary)

    def _should_stop(self) -> bool:
        if self.stop.is_set():
            self.summary.stop_reason = "stopped"
            return True
        limit = self.config.max_batches
        if limit is not None and self.summary.invocations >= limit:
            self.summary.stop_reason = "max-batches"
            return True
        return False

    def _idle(self) -> bool:
        idle = self.config.until_idle
        if idle is None:
            return False
        if not self.assigned:  # a group join can take seconds: idleness starts after it
            waited = time.monotonic() - self.started
            limit = max(idle, self.config.broker_timeout)
            if waited >= limit:
                raise _Fatal(
                    f"consumer group {self.config.consumer_group} was given no partition of "
                    f"{', '.join(self.config.topics)} within {limit:g} s (do other consumers "
                    "of the group hold them all?)"
                )
            return False
        if time.monotonic() - self.last_progress >= idle:
            self.summary.stop_reason = "idle"
            return True
        return False

    def _loop(self) -> None:
        batch_size = self.config.batch_size
        while not self._should_stop():
            if not self.buffer:
                if not self._fetch(timeout=0.1, max_messages=batch_size) and self._idle():
                    return
                continue
            deadline = self.buffer[0].arrived + self.config.batching_window
            while len(self.buffer) < batch_size and self.buffered_bytes < MAX_PAYLOAD_BYTES:
                remaining = deadline - time.monotonic()
                added = self._fetch(
                    timeout=max(0.0, min(remaining, 0.1)),
                    max_messages=batch_size - len(self.buffer),
                )
                if (remaining <= 0 and not added) or self.stop.is_set():
                    break
            if self.buffer:
                self._process(self._take_batch())
            if self.stuck:
                return

    def _take_batch(self) -> list[KafkaRecord]:
        sizer = _EventSizer(self.config.bootstrap_servers, self.config.cluster_arn)
        batch: list[KafkaRecord] = []
        while self.buffer and len(batch) < self.config.batch_size:
            record = self.buffer[0]
            if sizer.size_with(record) > MAX_PAYLOAD_BYTES:
                if not batch:  # one record too large for any invocation
                    self.buffer.popleft()
                    self.buffered_bytes -= record.size
                    self._oversized(record)
                    continue
                break
            sizer.add(record)
            batch.append(self.buffer.popleft())
            self.buffered_bytes -= record.size
        return batch

    def _process(self, batch: list[KafkaRecord]) -> None:
        for record in batch:
            self.inflight.setdefault((record.topic, record.partition), set()).add(record.offset)
        units = deque([_Unit(batch)])
        while units:
            unit = units[0]
            unit.records = [r for r in unit.records if (r.topic, r.partition) not in self.revoked]
            if not unit.records:
                units.popleft()
                continue
            if unit.invocations:  # a retry: wait, unless told to stop
                self._backoff(unit)
            if self._should_stop() or (unit.invocations and self._idle()):
                if unit.invocations or unit.after_failure:
                    self.stuck = (
                        f"stopped while records were still failing ({_describe(unit.records)}"
                        f", invoked {unit.invocations} times as this batch): not committed, "
                        "they will be delivered again"
                    )
                return
            outcome = self._invoke(unit)
            if outcome.kind == "ok":
                self._resolve(unit.records, "succeeded")
                units.popleft()
                continue
            if outcome.kind == "partial":
                self.summary.partial_failures += 1
                done = [
                    r
                    for r in unit.records
                    if r.offset < outcome.first_failed.get(r.partition_key, r.offset + 1)
                ]
                failed = [
                    r
                    for r in unit.records
                    if r.offset >= outcome.first_failed.get(r.partition_key, r.offset + 1)
                ]
                self._resolve(done, "succeeded")
                self.status.message(
                    f"invocation {self.summary.invocations}: the handler reported failures "
                    f"from {', '.join(f'{k} offset {o}' for k, o in outcome.first_failed.items())}"
                    f"; committed {len(done)} records, retrying {len(failed)}"
                )
                unit.records = failed
            elif self.config.bisect and len(unit.records) > 1:
                half = len(unit.records) // 2
                units.popleft()
                units.appendleft(_Unit(unit.records[half:], after_failure=True))
                units.appendleft(_Unit(unit.records[:half], after_failure=True))
                self.summary.bisections += 1
                continue
            limit = self.config.effective_max_retries
            if limit != -1 and unit.invocations > limit:
                self._give_up(unit, outcome)
                units.popleft()
                continue
            self.summary.retries += 1

    def _backoff(self, unit: _Unit) -> None:
        delay = min(
            self.config.retry_backoff_max, self.config.retry_backoff * 2 ** (unit.invocations - 1)
        )
        if self.config.until_idle is not None:
            delay = min(
                delay, max(0.0, self.last_progress + self.config.until_idle - time.monotonic())
            )
        if delay > 0:
            self.stop.wait(delay)

    def _invoke(self, unit: _Unit) -> _Outcome:
        event = build_event(
            unit.records,
            bootstrap_servers=self.config.bootstrap_servers,
            cluster_arn=self.config.cluster_arn,
        )
        body = _compact_json(event)
        summary = self.summary
        summary.invocations += 1
        summary.records_invoked += len(unit.records)
        summary.max_event_bytes = max(summary.max_event_bytes, len(body))
        unit.invocations += 1
        request_id = str(uuid.uuid4())
        try:
            response = self.function.call(json.loads(body))  # a fresh copy, as Lambda sends
        except _ColdStartError as error:
            raise _Fatal(f"{error}; nothing was committed for the batch it was given", 2) from None
        except (Exception, SystemExit) as error:  # noqa: BLE001  the handler failed, as in Lambda
            summary.function_errors += 1
            detail = f"{type(error).__name__}: {error}"
            self._report_failure(unit, detail, traceback.format_exc())
            return _Outcome("error", detail, "Unhandled", event_body=body, request_id=request_id)
        finally:
            self._tick()
        outcome = self._interpret(response, unit.records)
        outcome.event_body, outcome.request_id = body, request_id
        if outcome.kind == "error":
            summary.function_errors += 1
            self._report_failure(unit, outcome.detail, None)
        return outcome

    def _report_failure(self, unit: _Unit, detail: str, trace: str | None) -> None:
        self.status.message(
            f"invocation {self.summary.invocations} failed (attempt {unit.invocations}, "
            f"{len(unit.records)} records: {_describe(unit.records)}): {detail}"
        )
        if trace and not self.first_traceback_shown:
            self.first_traceback_shown = True
            self.status.message(trace)

    def _interpret(self, response: Any, records: Sequence[KafkaRecord]) -> _Outcome:
        """Lambda's reading of a partial batch response (ReportBatchItemFailures)."""
        if not self.config.report_batch_item_failures or not isinstance(response, dict):
            return _Outcome("ok")
        items = response.get("batchItemFailures")
        if items is None or items == []:
            return _Outcome("ok")
        if not isinstance(items, list):
            return _Outcome("error", f"batchItemFailures is not a list: {items!r}")
        present = {(r.partition_key, r.offset) for r in records}
        first_failed: dict[str, int] = {}
        for item in items:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            partition = identifier.get("partition") if isinstance(identifier, dict) else None
            offset = identifier.get("offset") if isinstance(identifier, dict) else None
            if isinstance(offset, str) and offset.isdigit():
                offset = int(offset)
            if (
                not isinstance(partition, str)
                or not isinstance(offset, int)
                or isinstance(offset, bool)
            ):
                return _Outcome(
                    "error",
                    f"malformed batchItemFailures item {item!r}: Lambda expects "
                    '{"itemIdentifier": {"partition": "<topic>-<partition>", "offset": <n>}}',
                )
            if (partition, offset) not in present:
                return _Outcome(
                    "error",
                    f"batchItemFailures names {partition} offset {offset}, not in the batch",
                )
            first_failed[partition] = min(offset, first_failed.get(partition, offset))
        return _Outcome("partial", first_failed=first_failed)

    def _resolve(self, records: Sequence[KafkaRecord], how: str) -> None:
        if not records:
            return
        for record in records:
            key = (record.topic, record.partition)
            self.inflight.get(key, set()).discard(record.offset)
            self.resolved_upto[key] = max(self.resolved_upto.get(key, 0), record.offset + 1)
        count = len(records)
        if how == "succeeded":
            self.summary.records_succeeded += count
        elif how == "destination":
            self.summary.records_to_destination += count
        else:
            self.summary.records_discarded += count
        self.handled_uncommitted += count
        self.last_progress = time.monotonic()
        self._commit()

    def _give_up(self, unit: _Unit, outcome: _Outcome) -> None:
        self._dead_letter(
            unit.records,
            condition="RetryAttemptsExhausted",
            event_body=outcome.event_body,
            invoke_count=unit.invocations,
            function_error=outcome.function_error,
            request_id=outcome.request_id,
        )

    def _oversized(self, record: KafkaRecord) -> None:
        body = _compact_json(
            build_event(
                [record],
                bootstrap_servers=self.config.bootstrap_servers,
                cluster_arn=self.config.cluster_arn,
            )
        )
        self.inflight.setdefault((record.topic, record.partition), set()).add(record.offset)
        self.status.message(
            f"{record.partition_key} offset {record.offset}: the record alone makes a "
            f"{len(body):,}-byte event, over Lambda's {MAX_PAYLOAD_BYTES:,}-byte limit"
        )
        self._dead_letter(
            [record],
            condition="MaximumPayloadSizeExceeded",
            event_body=body,
            invoke_count=0,
            function_error=None,
            request_id=str(uuid.uuid4()),
        )

    def _dead_letter(
        self,
        records: list[KafkaRecord],
        *,
        condition: str,
        event_body: str,
        invoke_count: int,
        function_error: str | None,
        request_id: str,
    ) -> None:
        what = f"{len(records)} records ({_describe(records)})"
        if self.destination is None:
            self.status.message(f"discarded {what}: {condition} and no --on-failure destination")
            self._resolve(records, "discarded")
            return
        document = failure_record(
            records,
            event_body=event_body,
            condition=condition,
            invoke_count=invoke_count,
            function_arn=self.function.arn,
            function_error=function_error,
            bootstrap_servers=self.config.bootstrap_servers,
            cluster_arn=self.config.cluster_arn,
            with_payload=self.destination.with_payload,
            request_id=request_id,
        )
        try:
            location = self.destination.send(document, records[0].partition_key, self.esm_uuid)
        except Exception as error:  # noqa: BLE001  any AWS error stops the run before a commit
            raise _Fatal(
                f"could not send {what} to {self.destination.description}: {error}; "
                "their offsets were not committed"
            ) from None
        self.summary.destination_locations.append(location)
        self.status.message(f"sent {what} to {location} ({condition})")
        self._resolve(records, "destination")


def run_poller(
    config: PollerConfig,
    *,
    stop: threading.Event | None = None,
    status_stream: IO[str] | None = None,
) -> PollerSummary:
    """Poll until `config` says to stop (or `stop` is set) and return what happened.

    Raises `EsmError` when the poller cannot start; problems during the run end it and are in
    the summary (`error`, `exit_code`), with offsets committed only for handled records.
    """
    config.validate()
    function = _resolve_function(config)
    destination = _destination(config.on_failure) if config.on_failure else None
    if destination is not None:
        destination.check()
    status = _Status(status_stream or sys.stderr, config.status_interval)
    poller = _Poller(config, function, destination, stop=stop or threading.Event(), status=status)
    poller.connect()
    return poller.run()


# --- command line ------------------------------------------------------------------------------


def _kafka_setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def _config_from_args(args: argparse.Namespace) -> PollerConfig:
    function: str = args.function
    env_vars: dict[str, str] = {}
    if args.env_vars:
        logical_id = function.rsplit(":", 1)[-1]
        if ":" not in function:
            try:
                stack = ResolvedTemplate(Path(args.template) if args.template else find_template())
                logical_id = stack.function_logical_id(function)
            except StackError as error:
                raise EsmError(f"--function: {error}") from None
        try:
            env_vars = read_env_vars_file(Path(args.env_vars), logical_id)
        except InvokeError as error:
            raise EsmError(str(error)) from None
    return PollerConfig(
        bootstrap_servers=args.bootstrap_servers,
        topics=tuple(args.topic),
        function=function,
        group_id=args.group,
        template=Path(args.template) if args.template else None,
        env_vars=env_vars,
        batch_size=args.batch_size,
        batching_window=args.batching_window,
        starting_position=args.starting_position,
        max_retries=args.max_retries,
        bisect=args.bisect,
        report_batch_item_failures=not args.no_partial_batch_response,
        on_failure=args.on_failure,
        cluster_arn=args.cluster_arn,
        until_idle=args.until_idle,
        max_batches=args.max_batches,
        kafka_config=dict(args.kafka_config or []),
        broker_timeout=args.broker_timeout,
        status_interval=args.status_interval,
    )


def _run(args: argparse.Namespace) -> int:
    stop = threading.Event()
    interrupted = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():

        def on_sigint(_signum: int, _frame: Any) -> None:
            interrupted.set()
            stop.set()
            print("stopping after the current invocation (Ctrl-C again to abort)", file=sys.stderr)
            signal.signal(signal.SIGINT, signal.default_int_handler)

        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        summary = run_poller(_config_from_args(args), stop=stop)
    except EsmError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(summary.final_line())
    if interrupted.is_set() and summary.exit_code == 0:
        return 130
    return summary.exit_code


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "esm",
        help="poll Kafka and invoke a function like Lambda's event source mapping",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bootstrap-servers", "-b", required=True, metavar="HOST:PORT[,...]")
    parser.add_argument("--topic", action="append", required=True, help="repeat for more topics")
    parser.add_argument("--group", help="consumer group (default: msk-autopilot-esm-FUNCTION)")
    parser.add_argument(
        "--function",
        "-f",
        default="record_consumer",
        help="template function (folder or logical ID), module:function or file.py:function "
        "(default: %(default)s)",
    )
    parser.add_argument("--template", "-t", help="SAM template (default: nearest template.yaml)")
    parser.add_argument("--env-vars", "-n", help="JSON overrides, sam local invoke's format")
    parser.add_argument("--batch-size", type=int, default=100, help="1-10000 (default: 100)")
    parser.add_argument(
        "--batching-window", type=float, default=0.5, metavar="SECONDS", help="0-300 (default 0.5)"
    )
    parser.add_argument(
        "--starting-position", choices=("TRIM_HORIZON", "LATEST"), default="TRIM_HORIZON"
    )
    parser.add_argument(
        "--max-retries", type=int, default=-1, help="-1: until it succeeds (default)"
    )
    parser.add_argument("--bisect", action="store_true", help="split a failing batch in two")
    parser.add_argument(
        "--no-partial-batch-response",
        action="store_true",
        help="ignore batchItemFailures (ReportBatchItemFailures not enabled)",
    )
    parser.add_argument(
        "--on-failure", metavar="DEST", help="s3://bucket/prefix, SQS queue URL/ARN, SNS ARN"
    )
    parser.add_argument("--cluster-arn", help="send the MSK event shape with this ARN")
    stop_group = parser.add_mutually_exclusive_group()
    stop_group.add_argument(
        "--until-idle", type=float, metavar="SECONDS", help="stop after this long without progress"
    )
    stop_group.add_argument("--max-batches", type=int, metavar="N", help="stop after N batches")
    parser.add_argument(
        "--kafka-config",
        action="append",
        type=_kafka_setting,
        metavar="NAME=VALUE",
        help="librdkafka property, e.g. security.protocol=SSL (repeat)",
    )
    parser.add_argument(
        "--broker-timeout", type=float, default=30.0, metavar="SECONDS", help="default 30"
    )
    parser.add_argument(
        "--status-interval", type=float, default=5.0, metavar="SECONDS", help=argparse.SUPPRESS
    )
    parser.add_argument("--json", action="store_true", help="print the final summary as JSON")
    parser.set_defaults(func=_run)


def main(argv: list[str] | None = None) -> int:
    """`python -m msk_autopilot_local.esm ...`: the subcommand on its own."""
    parser = argparse.ArgumentParser(prog="msk-autopilot")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["esm", *(sys.argv[1:] if argv is None else argv)])
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
