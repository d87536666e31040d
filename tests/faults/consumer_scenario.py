"""The record consumer's fault scenario: a generated Kafka batch (500 records over ten partitions,
some poison) archived to S3, with Lambda's event source mapping emulated.

The event source mapping redelivers what a partial batch response names: for each reported
partition, its records from the reported offset on (the other partitions' records count as
processed). `run_consumer_scenario(world)` delivers the batch, then the redeliveries, until none
is asked for (bounded), and returns what can be compared between runs: which (partition, offset)
the archive holds and with which content, which the quarantine holds, and how often each was
written.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fault_world import FaultWorld, Invocation

TOPIC = "orders"
PARTITIONS = 10
RECORDS_PER_PARTITION = 50  # 500 records
FIRST_OFFSET = 1000
TIMESTAMP_MS = 1795947300000
POISON_EVERY = 37  # every 37th record of the batch is not JSON
MAX_DELIVERIES = 12  # the first delivery and up to 11 redeliveries
ENV = {"VALUE_FORMAT": "json"}
SOURCE_ARN = (
    "arn:aws:kafka:us-east-1:123456789012:cluster/orders/5c9a6e0a-1c2d-4f7e-9a31-2b8f0d4e6a11-2"
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def generated_records() -> dict[str, list[dict[str, Any]]]:
    records: dict[str, list[dict[str, Any]]] = {}
    n = 0
    for partition in range(PARTITIONS):
        items = []
        for i in range(RECORDS_PER_PARTITION):
            offset = FIRST_OFFSET + i
            n += 1
            value = (
                b"{oops"
                if n % POISON_EVERY == 0
                else json.dumps({"orderId": f"{partition}-{offset}", "amount": n}).encode()
            )
            items.append(
                {
                    "topic": TOPIC,
                    "partition": partition,
                    "offset": offset,
                    "timestamp": TIMESTAMP_MS + i * 1000,
                    "timestampType": "CREATE_TIME",
                    "key": _b64(f"order-{partition}-{offset}".encode()),
                    "value": _b64(value),
                    "headers": [],
                }
            )
        records[f"{TOPIC}-{partition}"] = items
    return records


ALL = {(p, FIRST_OFFSET + i) for p in range(PARTITIONS) for i in range(RECORDS_PER_PARTITION)}
POISON = {
    (p, FIRST_OFFSET + i)
    for p in range(PARTITIONS)
    for i in range(RECORDS_PER_PARTITION)
    if (p * RECORDS_PER_PARTITION + i + 1) % POISON_EVERY == 0
}


def kafka_event(records: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": SOURCE_ARN,
        "bootstrapServers": "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com:9098",
        "records": records,
    }


def redelivery(
    records: dict[str, list[dict[str, Any]]], failures: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """What the event source mapping delivers again: each reported partition from its offset."""
    again: dict[str, list[dict[str, Any]]] = {}
    for failure in failures:
        identifier = failure["itemIdentifier"]
        key, offset = identifier["partition"], int(identifier["offset"])
        again[key] = [item for item in records[key] if item["offset"] >= offset]
    return again


@dataclass
class ConsumerScenarioResult:
    archived: dict[tuple[int, int], str]  # (partition, offset) -> the archived line's value
    quarantined: set[tuple[int, int]]
    archive_writes: Counter[tuple[int, int]]  # how many archive objects hold each record
    deliveries: list[int]  # records per delivery (the first, then each redelivery)
    unresolved: list[dict[str, Any]]  # what the last delivery still asked for (none expected)
    invocations: list[Invocation] = field(default_factory=list)
    proxy: dict[str, Any] = field(default_factory=dict)


def _lines(world: FaultWorld, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
    s3 = world.client("s3")
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            found.extend(json.loads(line) for line in gzip.decompress(body).splitlines())
    return found


def run_consumer_scenario(
    world: FaultWorld, *, env: dict[str, str] | None = None
) -> ConsumerScenarioResult:
    records = generated_records()
    pending = records
    deliveries: list[int] = []
    failures: list[dict[str, Any]] = []
    for _ in range(MAX_DELIVERIES):
        deliveries.append(sum(len(items) for items in pending.values()))
        invocation = world.invoke(
            "record_consumer", kafka_event(pending), env={**ENV, **(env or {})}
        )
        if invocation.failed:  # the mapping retries the whole batch
            continue
        failures = list(invocation.result["batchItemFailures"])
        if not failures:
            break
        pending = redelivery(records, failures)

    archive = world.account.resources["RecordArchiveBucket"]
    failure_bucket = world.account.resources["RecordFailureBucket"]
    archived: dict[tuple[int, int], str] = {}
    writes: Counter[tuple[int, int]] = Counter()
    for line in _lines(world, archive):
        where = (line["partition"], line["offset"])
        value = json.dumps(line["value"], sort_keys=True)
        assert archived.setdefault(where, value) == value, f"{where} archived twice, differently"
        writes[where] += 1
    quarantined = {
        (int(line["topicPartition"].rpartition("-")[2]), line["offset"])
        for line in _lines(world, failure_bucket, "quarantine/")
    }
    return ConsumerScenarioResult(
        archived=archived,
        quarantined=quarantined,
        archive_writes=writes,
        deliveries=deliveries,
        unresolved=failures,
        invocations=list(world.invocations),
        proxy=world.proxy.stats().to_dict(),
    )
