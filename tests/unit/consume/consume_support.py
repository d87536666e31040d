"""Builders of Lambda Kafka events and consumer settings, and AWS faults, for the consumer tests."""

import base64
import gzip
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from msk_autopilot.aws import ClientFactory
from msk_autopilot.settings import RecordConsumerSettings, load

REGION = "us-east-1"
ARCHIVE = "archive-bucket"
FAILURES = "failure-bucket"
BASE_ENV = {
    "AWS_REGION": REGION,
    "NOTIFICATION_TOPIC_ARN": f"arn:aws:sns:{REGION}:123456789012:notifications",
    "FAILURE_BUCKET": FAILURES,
    "ARCHIVE_BUCKET": ARCHIVE,
}
T0 = 1_795_947_300_000  # 2026-11-29T10:15:00Z in epoch milliseconds


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def record(
    offset: int,
    value: bytes | None = b'{"id": 1}',
    *,
    topic: str = "orders",
    partition: int = 0,
    key: bytes | None = b"k",
    headers: list[tuple[str, list[int]]] = (),
    timestamp: int | None = None,
) -> dict[str, Any]:
    """One record as Lambda delivers it (value None: a tombstone, the field is absent)."""
    delivered = {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "timestamp": T0 + offset if timestamp is None else timestamp,
        "timestampType": "CREATE_TIME",
        "key": None if key is None else b64(key),
        "headers": [{name: data} for name, data in headers],
    }
    if value is not None:
        delivered["value"] = b64(value)
    return delivered


def event(*records: dict[str, Any]) -> dict[str, Any]:
    batches: dict[str, list[dict[str, Any]]] = {}
    for delivered in records:
        batches.setdefault(f"{delivered['topic']}-{delivered['partition']}", []).append(delivered)
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": f"arn:aws:kafka:{REGION}:123456789012:cluster/orders/abc",
        "bootstrapServers": "b-1:9098",
        "records": batches,
    }


def failures(result: Any) -> dict[str, int]:
    """{"orders-0": 12}: the partial batch response as partition -> first offset."""
    return {
        item["itemIdentifier"]["partition"]: item["itemIdentifier"]["offset"]
        for item in result.to_dict()["batchItemFailures"]
    }


def read_lines(s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return [json.loads(line) for line in gzip.decompress(body).splitlines()]


def objects(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def settings(**env: str) -> RecordConsumerSettings:
    return load(RecordConsumerSettings, {**BASE_ENV, **env})


class FaultyClients:
    """The moto clients, except that calls `fail(service, operation, params)` picks raise the
    error a failing AWS service would (after botocore's own retries)."""

    def __init__(self, clients: ClientFactory, fail: Callable[[str, str, dict], bool]) -> None:
        self._clients = clients
        self._fail = fail
        self.calls: list[tuple[str, str]] = []

    def client(self, service: str, region: str | None = None) -> Any:
        return _FaultyClient(self, service, self._clients.client(service, region))


class _FaultyClient:
    def __init__(self, owner: FaultyClients, service: str, client: Any) -> None:
        self._owner, self._service, self._client = owner, service, client

    def __getattr__(self, operation: str) -> Any:
        method = getattr(self._client, operation)

        def call(**params: Any) -> Any:
            self._owner.calls.append((self._service, operation))
            if self._owner._fail(self._service, operation, params):
                error = {"Error": {"Code": "InternalError", "Message": "injected failure"}}
                raise ClientError(error, operation)
            return method(**params)

        return call
