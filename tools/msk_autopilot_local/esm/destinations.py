"""On-failure destinations as Lambda uses them for Kafka: S3 gets the whole invocation record,
SQS and SNS the metadata only."""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from msk_autopilot_local.esm.config import DEFAULT_REGION
from msk_autopilot_local.esm.errors import EsmError

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

    def send(self, document: dict[str, Any], partition_key: str, esm_uuid: str) -> str:
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

    def send(self, document: dict[str, Any], partition_key: str, esm_uuid: str) -> str:
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

    def send(self, document: dict[str, Any], partition_key: str, esm_uuid: str) -> str:
        answer = self.client.publish(TopicArn=self.arn, Message=json.dumps(document))
        return f"{self.arn}#{answer['MessageId']}"


def open_destination(spec: str) -> Destination:
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
