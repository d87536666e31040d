"""Step 8, records: orders (1 % poison) produced to the local broker, through the local event
source mapping into the record consumer, the S3 archive and quarantine read back and counted."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any, TextIO

from msk_autopilot_local.demo.progress import Progress
from msk_autopilot_local.demo.session import COMPLIANT, QUIET, DemoFailure, DemoSession

__all__ = ["POISON_EVERY", "TOPIC", "records"]

TOPIC = "orders"
POISON_EVERY = 100  # 1 % of the records
ORDER_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Order",
    "type": "object",
    "required": ["orderId", "customer", "amount", "currency"],
    "properties": {
        "orderId": {"type": "string"},
        "customer": {"type": "string"},
        "amount": {"type": "number", "minimum": 0},
        "currency": {"enum": ["EUR", "USD", "GBP"]},
        "items": {"type": "integer", "minimum": 1},
    },
}


def records(session: DemoSession) -> None:
    from msk_autopilot_local.esm import PollerConfig, run_poller  # noqa: PLC0415

    say, tally = session.progress.say, session.result.functions["record_consumer"]
    count = session.record_count
    environment = session.stack.function_environment("RecordConsumerFunction")
    archive, failures = environment["ARCHIVE_BUCKET"], environment["FAILURE_BUCKET"]
    schema = session.workdir / "order.schema.json"
    schema.write_text(json.dumps(ORDER_SCHEMA, indent=1), encoding="utf-8")
    poison = _produce(session.broker.bootstrap_servers, count, session.progress)
    say(
        f"produced {count:,} orders to topic {TOPIC} (3 partitions) on the local "
        f"broker, {poison} of them poison (half not JSON, half against the JSON Schema)"
    )
    config = PollerConfig(
        bootstrap_servers=session.broker.bootstrap_servers,
        topics=(TOPIC,),
        function="record_consumer",
        template=session.stack.template_path,
        env_vars={**QUIET, "VALUE_FORMAT": "json", "VALUE_SCHEMA": str(schema)},
        group_id="msk-autopilot-record-consumer",
        cluster_arn=session.clusters[COMPLIANT],
        batch_size=1000,
        batching_window=0.2,
        until_idle=1.5,
        max_retries=2,
        on_failure=f"s3://{failures}/esm-on-failure",
        kafka_config={"session.timeout.ms": 6000},
    )
    say(
        "the local event source mapping (msk-autopilot esm) invokes record_consumer with "
        "VALUE_FORMAT=json and a JSON Schema, up to 1,000 records a batch"
    )
    status: TextIO = session.progress.out if session.progress.tty else io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()):
        summary = run_poller(config, status_stream=status)
    tally.invocations += summary.invocations
    tally.statuses.update(ok=summary.invocations - summary.failures, failed=summary.failures)
    tally.statuses = +tally.statuses  # no zero counts
    say(f"esm: {summary.status_line().removeprefix('esm: ')}")
    archived, quarantined, reasons = _read_back(session.account.client("s3"), archive, failures)
    say(
        f"read back from S3: {archived:,} lines in s3://{archive}/ + {quarantined:,} in "
        f"s3://{failures}/quarantine/ = {archived + quarantined:,} (produced {count:,})"
    )
    for reason, times in reasons.most_common(2):
        say(f"  quarantined x{times}: {reason[:100]}")
    session.expect(summary.exit_code == 0, f"the event source mapping failed: {summary.error}")
    session.expect(
        summary.records_succeeded == count and summary.records_to_destination == 0,
        f"esm handled {summary.records_succeeded:,} of {count:,} records, "
        f"{summary.records_to_destination} sent to the on-failure destination",
    )
    session.expect(
        archived + quarantined == count and quarantined == poison,
        f"counts do not add up: {archived:,} archived + {quarantined:,} quarantined != "
        f"{count:,} produced (poison {poison})",
    )
    tally.did.append(f"{archived:,} records archived, {quarantined} quarantined as poison")
    session.result.numbers["records"] = {
        "produced": count,
        "poison": poison,
        "archived": archived,
        "quarantined": quarantined,
        "esm_succeeded": summary.records_succeeded,
        "batches": summary.invocations,
    }


def _order_value(index: int) -> bytes:
    if index % POISON_EVERY == POISON_EVERY // 2:
        if (index // POISON_EVERY) % 2:
            return b'{"orderId": "o-%d", "amount": ' % index  # cut short: not JSON
        wrong = {"orderId": f"o-{index}", "customer": "c-1", "amount": -5, "currency": "DOGE"}
        return json.dumps(wrong).encode()  # JSON, but against the schema
    order = {
        "orderId": f"o-{index}",
        "customer": f"c-{index % 97}",
        "amount": round(5 + (index % 500) * 1.37, 2),
        "currency": ("EUR", "USD", "GBP")[index % 3],
        "items": 1 + index % 4,
    }
    return json.dumps(order).encode()


def _produce(bootstrap: str, count: int, progress: Progress) -> int:
    """Create the topic and produce `count` orders; returns how many are poison."""
    from confluent_kafka import Producer  # noqa: PLC0415
    from confluent_kafka.admin import AdminClient  # noqa: PLC0415
    from confluent_kafka.cimpl import NewTopic  # noqa: PLC0415

    quiet: dict[str, str | int | float | bool] = {"bootstrap.servers": bootstrap, "log_level": 0}
    admin = AdminClient(quiet)
    admin.create_topics([NewTopic(TOPIC, 3, 1)])[TOPIC].result(timeout=15)
    producer = Producer({**quiet, "linger.ms": 20, "enable.idempotence": False})
    errors: list[str] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            errors.append(str(error))

    poison = 0
    with progress.activity("producing") as relabel:
        for index in range(count):
            value = _order_value(index)
            poison += index % POISON_EVERY == POISON_EVERY // 2
            producer.produce(
                TOPIC, key=f"c-{index % 97}".encode(), value=value, on_delivery=delivered
            )
            if index % 1000 == 0:
                producer.poll(0)
                relabel(f"producing {index:,}/{count:,}")
        left = producer.flush(30)
    if left or errors:
        raise DemoFailure(f"{left} records not delivered to the broker; errors: {errors[:3]}")
    return poison


def _read_back(s3: Any, archive: str, failures: str) -> tuple[int, int, Counter[str]]:
    """Lines archived, lines quarantined, and the quarantine reasons, read from S3."""

    def lines(bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                for line in gzip.decompress(body).splitlines():
                    yield json.loads(line)

    archived = sum(1 for _ in lines(archive, f"topic={TOPIC}/"))
    reasons: Counter[str] = Counter()
    for line in lines(failures, "quarantine/"):
        reasons[str(line.get("reason", "?"))] += 1
    return archived, sum(reasons.values()), reasons
