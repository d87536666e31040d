"""Puts records the record consumer archived or quarantined back onto a Kafka topic
(`msk-autopilot replay`, in cli/replay.py, describes it for users).

Reads the gzip JSON Lines objects the consumer writes (msk_autopilot.consume.sinks): archive
lines are the decoded records (topic, partition, offset, timestamp, key, value, headers),
quarantine lines hold the record exactly as Lambda delivered it under `record`. Objects are
read partition by partition in offset order, so each source record is sent once even where
redelivered batches were archived twice, and a target partition gets them in their order.

What was sent is kept in a checkpoint file (the source offsets, per topic-partition), written
only after Kafka acknowledged every record of a chunk (idempotent producer, delivery reports
checked): a second run skips them, an interrupted one resumes. A hard kill between an
acknowledgement and the write can send at most that one chunk again.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec

from msk_autopilot_local.errors import LocalToolError

__all__ = [
    "Checkpoint",
    "ReplayError",
    "ReplayFilter",
    "ReplayOptions",
    "ReplayRecord",
    "ReplaySummary",
    "default_checkpoint",
    "replay",
]

PayloadFormat = Literal["raw", "json"]

_CHUNK = 500  # records acknowledged before the checkpoint moves on
_OBJECT_KEY = re.compile(
    r"topic=(?P<topic>[^/]+)/partition=(?P<partition>\d+)/"
    r"(?:.*/(?P<first>\d{20})-(?P<last>\d{20})|unknown-offsets-[0-9a-f]+)\.jsonl\.gz$"
)


class ReplayError(LocalToolError):
    """The replay cannot run or cannot go on: a missing bucket, topic, Kafka..."""


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int | None  # epoch ms; None: the record had none, the broker stamps it
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, str | bytes | None]]

    @property
    def partition_key(self) -> str:
        return f"{self.topic}-{self.partition}"


@dataclass(frozen=True, slots=True)
class ReplayFilter:
    """Which source records to send; None: any."""

    topics: frozenset[str] | None = None
    partitions: frozenset[int] | None = None
    from_offset: int | None = None
    to_offset: int | None = None  # inclusive
    since_ms: int | None = None
    until_ms: int | None = None  # exclusive

    def may_hold(self, topic: str, partition: int, first: int | None, last: int | None) -> bool:
        """Whether an object of these records can hold one the filter selects."""
        if self.topics is not None and topic not in self.topics:
            return False
        if self.partitions is not None and partition not in self.partitions:
            return False
        if first is None or last is None:
            return True
        too_low = self.from_offset is not None and last < self.from_offset
        return not too_low and not (self.to_offset is not None and first > self.to_offset)

    def selects(self, record: ReplayRecord) -> bool:
        if not self.may_hold(record.topic, record.partition, record.offset, record.offset):
            return False
        if self.since_ms is None and self.until_ms is None:
            return True
        if record.timestamp is None:
            return False
        return (self.since_ms is None or record.timestamp >= self.since_ms) and (
            self.until_ms is None or record.timestamp < self.until_ms
        )


class _CheckpointFile(msgspec.Struct):
    bucket: str
    prefix: str
    topic: str
    sent: dict[str, list[tuple[int, int]]] = msgspec.field(default_factory=dict)


class Checkpoint:
    """The source offsets already sent, per topic-partition, as inclusive ranges."""

    def __init__(self, path: Path, *, bucket: str, prefix: str, topic: str) -> None:
        self.path = path
        self.state = _CheckpointFile(bucket=bucket, prefix=prefix, topic=topic)
        if path.exists():
            try:
                self.state = msgspec.json.decode(path.read_bytes(), type=_CheckpointFile)
            except msgspec.DecodeError as error:
                raise ReplayError(
                    f"checkpoint {path} is not readable ({error}): delete it to start over"
                ) from None
            if (self.state.bucket, self.state.prefix, self.state.topic) != (bucket, prefix, topic):
                raise ReplayError(
                    f"checkpoint {path} belongs to s3://{self.state.bucket}/{self.state.prefix} "
                    f"-> {self.state.topic}: give another --checkpoint"
                )

    def sent(self, record: ReplayRecord) -> bool:
        ranges = self.state.sent.get(record.partition_key, ())
        return any(low <= record.offset <= high for low, high in ranges)

    def add(self, records: Sequence[ReplayRecord]) -> None:
        for record in records:
            ranges = self.state.sent.setdefault(record.partition_key, [])
            if ranges and ranges[-1][1] + 1 == record.offset:
                ranges[-1] = (ranges[-1][0], record.offset)
            else:
                ranges.append((record.offset, record.offset))
                ranges.sort()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_bytes(msgspec.json.format(msgspec.json.encode(self.state)))
        partial.replace(self.path)  # never a half-written checkpoint


def default_checkpoint(bucket: str, prefix: str, topic: str) -> Path:
    """`.msk-autopilot/replay/<bucket>[-<prefix>]-to-<topic>.json` in the working directory."""
    source = f"{bucket}-{prefix.strip('/')}" if prefix.strip("/") else bucket
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{source}-to-{topic}")
    return Path(".msk-autopilot") / "replay" / f"{name}.json"


@dataclass
class ReplayOptions:
    bucket: str
    prefix: str
    topic: str
    bootstrap_servers: str
    checkpoint: Path
    filter: ReplayFilter = field(default_factory=ReplayFilter)
    key_format: PayloadFormat = "raw"
    value_format: PayloadFormat = "raw"
    dry_run: bool = False
    create_topic: bool = False
    max_records: int | None = None
    broker_timeout: float = 10.0


@dataclass
class ReplaySummary:
    sent: int = 0
    already_sent: int = 0  # skipped: the checkpoint has them
    per_partition: dict[str, int] = field(default_factory=dict)  # sent, or would be (dry run)
    unreadable: list[str] = field(default_factory=list)  # "object: line N: why"
    stopped_early: bool = False  # --max-records reached


# --- reading the archive ---------------------------------------------------------------------


class _ArchiveLine(msgspec.Struct, rename="camel"):
    topic: str
    partition: int
    offset: int
    timestamp: int | None
    key: msgspec.Raw
    value: msgspec.Raw
    headers: Any = ()


class _LambdaRecord(msgspec.Struct):
    """A record as Lambda delivered it (a quarantine line's `record`)."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: str | None = None
    value: str | None = None  # absent: a tombstone
    headers: list[dict[str, list[int]]] = msgspec.field(default_factory=list)


class _QuarantineLine(msgspec.Struct):
    record: Any
    reason: str


_any_line = msgspec.json.Decoder(type=dict[str, Any])


def _payload(raw: msgspec.Raw, form: PayloadFormat, what: str) -> bytes | None:
    text = bytes(raw)
    if text == b"null":
        return None
    if form == "json":
        return text  # the validated JSON text, kept verbatim by the consumer
    if not text.startswith(b'"'):
        raise ValueError(f"{what} is decoded JSON or Avro, not bytes (--{what}-format json?)")
    return base64.b64decode(json.loads(text), validate=True)


def _headers(headers: Any) -> list[tuple[str, str | bytes | None]]:
    """The archive's {"key", "value" base64} pairs, or Lambda's one-key {name: [bytes]} objects
    (the consumer may keep its headers in that wire form)."""
    pairs: list[tuple[str, str | bytes | None]] = []
    for entry in headers or ():
        if set(entry) == {"key", "value"} and isinstance(entry["value"], str):
            pairs.append((entry["key"], base64.b64decode(entry["value"], validate=True)))
        else:
            pairs += [(name, bytes(b & 0xFF for b in data)) for name, data in entry.items()]
    return pairs


def _from_lambda(record: Any) -> ReplayRecord:
    delivered = msgspec.convert(record, _LambdaRecord)
    return ReplayRecord(
        topic=delivered.topic,
        partition=delivered.partition,
        offset=delivered.offset,
        timestamp=delivered.timestamp if delivered.timestamp >= 0 else None,
        key=None if delivered.key is None else base64.b64decode(delivered.key, validate=True),
        value=None if delivered.value is None else base64.b64decode(delivered.value, validate=True),
        headers=_headers(delivered.headers),
    )


def parse_line(line: bytes, key_format: PayloadFormat, value_format: PayloadFormat) -> ReplayRecord:
    """One archive or quarantine line as the record to send; ValueError saying why not."""
    try:
        fields = _any_line.decode(line)
        if "record" in fields and "reason" in fields:  # quarantine: the record as delivered
            return _from_lambda(msgspec.json.decode(line, type=_QuarantineLine).record)
        archived = msgspec.json.decode(line, type=_ArchiveLine)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise ValueError(str(error)) from None
    return ReplayRecord(
        topic=archived.topic,
        partition=archived.partition,
        offset=archived.offset,
        timestamp=archived.timestamp
        if archived.timestamp is not None and archived.timestamp >= 0
        else None,
        key=_payload(archived.key, key_format, "key"),
        value=_payload(archived.value, value_format, "value"),
        headers=_headers(archived.headers),
    )


@dataclass(frozen=True, slots=True)
class _Object:
    key: str
    topic: str
    partition: int
    first: int | None
    last: int | None


class _Archive:
    def __init__(self, options: ReplayOptions) -> None:
        import boto3  # noqa: PLC0415  keeps `msk-autopilot --help` fast

        self.options = options
        self.s3 = boto3.client("s3")

    def objects(self) -> list[_Object]:
        """The objects under the prefix that can hold selected records, per partition in
        offset order."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        bucket, prefix = self.options.bucket, self.options.prefix
        try:
            self.s3.head_bucket(Bucket=bucket)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404:
                raise ReplayError(f"bucket {bucket!r} does not exist: check --bucket") from None
            raise ReplayError(f"bucket {bucket!r} cannot be read: {error}") from None
        try:
            pages = list(
                self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            )
        except ClientError as error:
            raise ReplayError(f"cannot list s3://{bucket}/{prefix}: {error}") from None
        found: list[_Object] = []
        for page in pages:
            for item in page.get("Contents", []):
                match = _OBJECT_KEY.search(item["Key"])
                if match is None:  # not an archive object (e.g. the event source's failures)
                    continue
                first, last = match.group("first"), match.group("last")
                found.append(
                    _Object(
                        item["Key"],
                        match.group("topic"),
                        int(match.group("partition")),
                        int(first) if first else None,
                        int(last) if last else None,
                    )
                )
        if not found:
            raise ReplayError(
                f"no archived or quarantined records under s3://{bucket}/{prefix}: check "
                "--prefix (the archive's objects begin topic=..., the quarantine's quarantine/)"
            )
        wanted = [
            o for o in found if self.options.filter.may_hold(o.topic, o.partition, o.first, o.last)
        ]
        return sorted(wanted, key=lambda o: (o.topic, o.partition, o.first or -1, o.key))

    def records(self, item: _Object, unreadable: list[str]) -> Iterator[ReplayRecord]:
        body = self.s3.get_object(Bucket=self.options.bucket, Key=item.key)["Body"].read()
        try:
            lines = gzip.decompress(body).splitlines()
        except (OSError, EOFError) as error:  # not gzip, or cut short
            unreadable.append(f"{item.key}: {error}")
            return
        for number, line in enumerate(lines, start=1):
            try:
                yield parse_line(line, self.options.key_format, self.options.value_format)
            except (ValueError, TypeError, msgspec.ValidationError) as error:
                unreadable.append(f"{item.key}: line {number}: {error}")


# --- sending ---------------------------------------------------------------------------------


class _Sender:
    """An idempotent producer whose every delivery report is checked before a chunk counts."""

    def __init__(self, options: ReplayOptions) -> None:
        from confluent_kafka import KafkaException, Producer  # noqa: PLC0415

        self.options = options
        self.last_error = ""
        self.producer = Producer(
            {
                "bootstrap.servers": options.bootstrap_servers,
                "enable.idempotence": True,  # retries inside librdkafka never duplicate
                "log_level": 0,  # errors come through error_cb
                "error_cb": self._on_error,
            }
        )
        try:
            metadata = self.producer.list_topics(timeout=options.broker_timeout)
        except KafkaException as error:
            raise ReplayError(
                f"cannot reach Kafka at {options.bootstrap_servers} within "
                f"{options.broker_timeout:g} s: {self.last_error or error.args[0].str()} "
                "(is `msk-autopilot broker start` running? else give --bootstrap-servers)"
            ) from None
        self.partitions = self._target_partitions(metadata)

    def _on_error(self, error: Any) -> None:
        self.last_error = error.str()

    def _target_partitions(self, metadata: Any) -> int:
        topic = self.options.topic
        found = metadata.topics.get(topic)
        if found is not None and found.error is None:
            return len(found.partitions)
        if not self.options.create_topic:
            raise ReplayError(
                f"topic {topic!r} does not exist on {self.options.bootstrap_servers}: create it, "
                "or pass --create-topic"
            )
        return 0  # created when the records' partitions are known

    def create(self, partitions: int) -> None:
        from confluent_kafka.admin import AdminClient  # noqa: PLC0415
        from confluent_kafka.cimpl import NewTopic  # noqa: PLC0415

        admin = AdminClient({"bootstrap.servers": self.options.bootstrap_servers, "log_level": 0})
        new_topic = NewTopic(self.options.topic, partitions, 1)
        try:
            admin.create_topics([new_topic])[self.options.topic].result(
                timeout=self.options.broker_timeout
            )
        except Exception as error:  # noqa: BLE001  KafkaException or a timeout
            raise ReplayError(f"could not create topic {self.options.topic!r}: {error}") from None
        self.partitions = partitions

    def send(self, records: Sequence[ReplayRecord]) -> None:
        failures: list[str] = []

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                failures.append(error.str())

        for record in records:
            extra: dict[str, Any] = {}
            if record.partition < self.partitions:  # the source's partition, order and all
                extra["partition"] = record.partition
            if record.timestamp is not None:
                extra["timestamp"] = record.timestamp
            self.producer.produce(
                self.options.topic,
                key=record.key,
                value=record.value,
                headers=record.headers or None,
                on_delivery=delivered,
                **extra,
            )
            self.producer.poll(0)
        left = self.producer.flush(self.options.broker_timeout)
        if failures or left:
            reason = failures[0] if failures else f"{left} records not acknowledged in time"
            raise ReplayError(
                f"Kafka at {self.options.bootstrap_servers} did not take the records: {reason} "
                f"({self.last_error or 'no other error'}); what it took is in the checkpoint: "
                "run again to resume"
            )


def replay(
    options: ReplayOptions, *, progress: Callable[[int, int], None] = lambda _d, _t: None
) -> ReplaySummary:
    """Send (or with `dry_run` count) the selected records not sent before; `progress` is told
    the objects read out of those selected."""
    checkpoint = Checkpoint(
        options.checkpoint, bucket=options.bucket, prefix=options.prefix, topic=options.topic
    )
    archive = _Archive(options)
    objects = archive.objects()
    sender = None if options.dry_run else _Sender(options)
    if sender is not None and sender.partitions == 0:
        sender.create(max(o.partition for o in objects) + 1)
    summary = ReplaySummary()
    chunk: list[ReplayRecord] = []
    newest: dict[str, int] = {}  # per partition, the highest offset taken in this run

    def flush() -> None:
        if sender is not None and chunk:
            sender.send(chunk)
            checkpoint.add(chunk)
            checkpoint.save()
        summary.sent += len(chunk)
        chunk.clear()

    progress(0, len(objects))
    for done, item in enumerate(objects, start=1):
        for record in archive.records(item, summary.unreadable):
            key = record.partition_key
            if not options.filter.selects(record) or record.offset <= newest.get(key, -1):
                continue  # not wanted, or archived twice (a redelivered batch)
            newest[key] = record.offset
            if checkpoint.sent(record):
                summary.already_sent += 1
                continue
            if options.max_records is not None and summary.sent + len(chunk) >= options.max_records:
                summary.stopped_early = True
                break
            chunk.append(record)
            summary.per_partition[key] = summary.per_partition.get(key, 0) + 1
            if len(chunk) >= _CHUNK:
                flush()
        progress(done, len(objects))
        if summary.stopped_early:
            break
    flush()
    return summary
