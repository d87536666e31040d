"""On-failure destinations as Lambda uses them for Kafka: S3 gets the whole invocation record,
SQS and SNS the metadata only, a Kafka topic of the same cluster one message per failed record."""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from msk_autopilot_local.esm.config import DEFAULT_REGION, PollerConfig
from msk_autopilot_local.esm.errors import EsmError
from msk_autopilot_local.esm.records import (
    KafkaRecord,
    build_event,
    compact_json,
    describe,
    iso_millis,
)

__all__ = ["Destination", "open_destination"]


def _boto_client(service: str, region: str | None = None) -> Any:
    import boto3  # noqa: PLC0415  only when a destination is configured

    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.client(service, region_name=region or DEFAULT_REGION)


class Destination:
    description: str
    with_payload = False

    def check(self) -> None:
        raise NotImplementedError

    def send(self, records: Sequence[KafkaRecord], document: dict[str, Any], esm_uuid: str) -> str:
        """Deliver the invocation record `document` of the failed `records`; where it went."""
        raise NotImplementedError


class _S3Destination(Destination):
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

    def send(self, records: Sequence[KafkaRecord], document: dict[str, Any], esm_uuid: str) -> str:
        partition_key = records[0].partition_key
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


class _SqsDestination(Destination):
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

    def send(self, records: Sequence[KafkaRecord], document: dict[str, Any], esm_uuid: str) -> str:
        answer = self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(document))
        return f"{self.queue_url}#{answer['MessageId']}"


class _SnsDestination(Destination):
    def __init__(self, arn: str) -> None:
        self.description = arn
        self.arn = arn
        self.client = _boto_client("sns", arn.split(":")[3])

    def check(self) -> None:
        try:
            self.client.get_topic_attributes(TopicArn=self.arn)
        except Exception as error:  # noqa: BLE001
            raise EsmError(f"--on-failure {self.arn}: topic not usable: {error}") from None

    def send(self, records: Sequence[KafkaRecord], document: dict[str, Any], esm_uuid: str) -> str:
        answer = self.client.publish(TopicArn=self.arn, Message=json.dumps(document))
        return f"{self.arn}#{answer['MessageId']}"


class _KafkaTopicDestination(Destination):
    """`kafka://topic`: Lambda produces each failed record to a topic of the same cluster
    (kafka-on-failure-destination.html): the message's key is the record's own key (no key:
    the default partitioner spreads them), its value the invocation record of that one record:
    `KafkaBatchInfo` with batchSize 1 and `recordInfo` {offset, timestamp} in place of
    `recordsInfo`, and `payload` the event holding just that record, as a JSON object. Lambda
    documents no headers of its own; the record's headers are in the payload. The topic must
    exist already and may not be one of the source topics (Lambda refuses the recursion)."""

    def __init__(self, topic: str, config: PollerConfig) -> None:
        self.topic = topic
        self.description = f"kafka://{topic}"
        self.config = config
        self.producer: Any = None

    def check(self) -> None:
        from confluent_kafka import KafkaException, Producer  # noqa: PLC0415

        if self.topic in self.config.topics:
            raise EsmError(
                f"--on-failure {self.description}: a source topic cannot be its own "
                "dead-letter topic (Lambda refuses the recursion)"
            )
        self.producer = Producer(
            {
                "bootstrap.servers": self.config.bootstrap_servers,
                "enable.idempotence": True,  # a retried send never writes a record twice
                "log_level": 0,
                **self.config.kafka_config,
            }
        )
        try:
            metadata = self.producer.list_topics(timeout=self.config.broker_timeout)
        except KafkaException as error:
            raise EsmError(
                f"--on-failure {self.description}: cannot reach Kafka at "
                f"{self.config.bootstrap_servers}: {error.args[0].str()}"
            ) from None
        found = metadata.topics.get(self.topic)
        if found is None or found.error is not None:
            raise EsmError(
                f"--on-failure {self.description}: the topic does not exist on "
                f"{self.config.bootstrap_servers}; create it first (Lambda does not create it)"
            )

    def send(self, records: Sequence[KafkaRecord], document: dict[str, Any], esm_uuid: str) -> str:
        failures: list[str] = []

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                failures.append(error.str())

        for record in records:
            key = record.payload["key"]
            self.producer.produce(
                self.topic,
                key=base64.b64decode(key) if key is not None else None,
                value=compact_json(self._message(record, document)).encode(),
                on_delivery=delivered,
            )
        left = self.producer.flush(self.config.broker_timeout)
        if left or failures:
            reason = failures[0] if failures else f"{left} messages not acknowledged in time"
            raise EsmError(f"{self.description}: {reason}")
        return f"{self.description} ({describe(records)})"

    def _message(self, record: KafkaRecord, document: dict[str, Any]) -> dict[str, Any]:
        event = build_event(
            [record],
            bootstrap_servers=self.config.bootstrap_servers,
            cluster_arn=self.config.cluster_arn,
        )
        batch_info: dict[str, Any] = {"batchSize": 1}
        if self.config.cluster_arn:
            batch_info["eventSourceArn"] = self.config.cluster_arn
        batch_info.update(
            bootstrapServers=self.config.bootstrap_servers,
            payloadSize=len(compact_json(event)),
            recordInfo={"offset": str(record.offset), "timestamp": iso_millis(record.timestamp)},
        )
        return {
            **{name: value for name, value in document.items() if name != "KafkaBatchInfo"},
            "KafkaBatchInfo": batch_info,
            "payload": event,
        }


def open_destination(spec: str, config: PollerConfig) -> Destination:
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
    if match := re.fullmatch(r"kafka://([A-Za-z0-9._-]{1,249})", spec):
        return _KafkaTopicDestination(match.group(1), config)
    raise EsmError(
        f"--on-failure {spec!r}: give s3://bucket[/prefix], an S3 bucket ARN, an SQS queue URL "
        "or ARN, an SNS topic ARN, or kafka://topic (a topic of the same cluster)"
    )
