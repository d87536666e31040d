"""Records per second of the MSK record consumer against powertools, and its peak memory.

One process decodes the same Lambda MSK event (8,000 records, ~5.7 MB, JSON values of ~450
bytes validated against bench/order.schema.json) with:

  A     powertools BatchProcessor(EventType.Kafka); the record handler validates the value
        with an equivalent pydantic model
  B     powertools kafka_consumer with the same pydantic model as value_output_serializer
  ours  msk_autopilot.consume: VALUE_FORMAT=json, VALUE_SCHEMA=order.schema.json, SINK=discard

The three run interleaved (A, B, ours, A, B, ours, ...) so that noise from other processes
hits each alike, and each run is timed in CPU time of this process; the median of the
repetitions is reported. Peak memory is the maximum RSS of
a fresh process that loads a 6 MB event (Lambda's largest batch) and runs ours on it.

    python bench/consumer_bench.py                    # the table
    python bench/consumer_bench.py --enforce-targets  # exit 1 if ours misses a target
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

HERE = Path(__file__).resolve().parent
SCHEMA = HERE / "order.schema.json"
TARGET_VS_A = 2.5
TARGET_VS_B = 6.0
PEAK_RSS_LIMIT_MB = 200
LARGEST_BATCH_BYTES = 6 * 1024 * 1024

# Settings of "ours"; no AWS call is made (discard sink, and every record is valid).
OURS_ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:bench",
    "VALUE_FORMAT": "json",
    "VALUE_SCHEMA": str(SCHEMA),
    "SINK": "discard",
    "FAILURE_BUCKET": "bench-failures",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_NAMESPACE": "MskAutopilotBench",
}


def order(number: int, rng: random.Random) -> bytes:
    items = [
        {
            "sku": f"SKU-{rng.randint(10000, 99999)}",
            "quantity": rng.randint(1, 5),
            "unitPrice": round(rng.uniform(1, 200), 2),
        }
        for _ in range(rng.randint(1, 3))
    ]
    value = {
        "orderId": f"ord-{number:08d}",
        "customerId": f"cust-{rng.randint(1, 99999):05d}",
        "createdAt": "2026-11-24T10:15:30.123Z",
        "status": rng.choice(["CREATED", "PAID", "SHIPPED", "CANCELLED"]),
        "currency": rng.choice(["EUR", "USD", "GBP"]),
        "amount": round(sum(item["quantity"] * item["unitPrice"] for item in items), 2),
        "items": items,
        "shippingAddress": {
            "street": f"{rng.randint(1, 999)} Long Example Street",
            "city": "Amsterdam",
            "postalCode": "1011AB",
            "country": "NL",
        },
        "express": rng.random() < 0.3,
        "notes": "n" * rng.randint(10, 70),
    }
    return json.dumps(value, separators=(",", ":")).encode()


def msk_event(records: int, partitions: int = 4, seed: int = 7) -> dict[str, Any]:
    """A Lambda MSK event as the runtime hands it to a handler (a parsed JSON object)."""
    rng = random.Random(seed)  # noqa: S311  reproducible test data, not secrets
    batches: dict[str, list[dict[str, Any]]] = {}
    for number in range(records):
        partition = number % partitions
        batches.setdefault(f"orders-{partition}", []).append(
            {
                "topic": "orders",
                "partition": partition,
                "offset": 1000 + number // partitions,
                "timestamp": 1795947300000 + number,
                "timestampType": "CREATE_TIME",
                "key": base64.b64encode(f"ord-{number:08d}".encode()).decode(),
                "value": base64.b64encode(order(number, rng)).decode(),
                "headers": [],
            }
        )
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/orders/bench",
        "bootstrapServers": "b-1.orders.kafka.us-east-1.amazonaws.com:9098",
        "records": batches,
    }


def event_bytes(event: dict[str, Any]) -> int:
    return len(json.dumps(event, separators=(",", ":")))


# --- the three consumers --------------------------------------------------------------------


def powertools_consumers(event: dict[str, Any]) -> dict[str, Callable[[], int]]:
    from aws_lambda_powertools.utilities.batch import (  # noqa: PLC0415
        BatchProcessor,
        EventType,
        process_partial_response,
    )
    from aws_lambda_powertools.utilities.kafka import SchemaConfig, kafka_consumer  # noqa: PLC0415
    from pydantic import BaseModel, Field, StringConstraints  # noqa: PLC0415

    class Item(BaseModel):
        # Field names are the JSON names, as in the schema.
        sku: str
        quantity: int = Field(ge=1)
        unitPrice: float = Field(ge=0)

    class Address(BaseModel):
        street: str
        city: str
        postalCode: str
        country: Annotated[str, StringConstraints(min_length=2, max_length=2)]

    class Order(BaseModel):
        orderId: Annotated[str, StringConstraints(pattern=r"^ord-[0-9]{8}$")]
        customerId: Annotated[str, StringConstraints(min_length=1, max_length=64)]
        createdAt: str
        status: Literal["CREATED", "PAID", "SHIPPED", "CANCELLED"]
        currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
        amount: float = Field(ge=0)
        items: list[Item] = Field(min_length=1)
        shippingAddress: Address
        express: bool | None = None
        notes: Annotated[str, StringConstraints(max_length=500)] | None = None

    processor = BatchProcessor(event_type=EventType.Kafka)

    def validate(record: Any) -> None:
        Order.model_validate_json(record.decoded_value)

    def batch_processor() -> int:
        response = process_partial_response(
            event=event, record_handler=validate, processor=processor
        )
        if response["batchItemFailures"]:
            raise AssertionError(f"A rejected records: {response}")
        return sum(len(batch) for batch in event["records"].values())

    config = SchemaConfig(value_schema_type="JSON", value_output_serializer=Order)

    @kafka_consumer(schema_config=config)
    def consume(records: Any, context: Any) -> int:
        return sum(1 for record in records.records if record.value is not None)

    return {"A": batch_processor, "B": lambda: consume(event, None)}


def our_consumer(event: dict[str, Any]) -> Callable[[], int]:
    os.environ.update(OURS_ENVIRONMENT)
    from msk_autopilot.aws import ClientFactory  # noqa: PLC0415
    from msk_autopilot.consume import build_record_consumer, parse_kafka_event  # noqa: PLC0415
    from msk_autopilot.observability import metrics  # noqa: PLC0415
    from msk_autopilot.settings import RecordConsumerSettings, load  # noqa: PLC0415

    settings = load(RecordConsumerSettings)
    pipeline = build_record_consumer(settings, ClientFactory.for_settings(settings))

    def consume() -> int:
        batch = parse_kafka_event(event)
        result = pipeline.process(batch)
        metrics.clear_metrics()  # what the handler's log_metrics flush does after each batch
        if result.redeliver_from:
            raise AssertionError(f"ours rejected records: {result.to_dict()}")
        return batch.record_count

    return consume


# --- measurement ----------------------------------------------------------------------------


def throughput(
    consumers: dict[str, Callable[[], int]], records: int, repetitions: int
) -> dict[str, float]:
    for consume in consumers.values():  # warm up: first-call imports and caches
        if consume() != records:
            raise AssertionError("a consumer did not see every record")
    seconds: dict[str, list[float]] = {name: [] for name in consumers}
    for _ in range(repetitions):
        for name, consume in consumers.items():
            started = time.process_time()  # CPU time: other processes do not count
            consume()
            seconds[name].append(time.process_time() - started)
    return {name: records / statistics.median(runs) for name, runs in seconds.items()}


def peak_rss_mb(records: int) -> tuple[float, int]:
    """Peak RSS of a fresh process that parses a ~6 MB event and runs ours on it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "event.json"
        path.write_text(json.dumps(msk_event(records), separators=(",", ":")), encoding="utf-8")
        size = path.stat().st_size
        child = subprocess.run(  # noqa: S603  this script, by absolute path
            [sys.executable, __file__, "--peak-rss-child", str(path)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **OURS_ENVIRONMENT},
        )
    return float(child.stdout.strip().splitlines()[-1]), size


def run_child(path: Path) -> None:
    event = json.loads(path.read_bytes())  # as the Lambda runtime does
    our_consumer(event)()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux


def records_for(target_bytes: int) -> int:
    per_record = event_bytes(msk_event(200)) / 200
    return int(target_bytes / per_record)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=8000)
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--memory-records", type=int, help="records in the peak-RSS event")
    parser.add_argument("--enforce-targets", action="store_true")
    parser.add_argument("--peak-rss-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_rss_child:
        run_child(args.peak_rss_child)
        return 0

    event = msk_event(args.records)
    consumers = {**powertools_consumers(event), "ours": our_consumer(event)}
    rates = throughput(consumers, args.records, args.repetitions)
    memory_records = args.memory_records or records_for(LARGEST_BATCH_BYTES)
    peak, peak_event_size = peak_rss_mb(memory_records)

    vs_a, vs_b = rates["ours"] / rates["A"], rates["ours"] / rates["B"]
    size_mb = event_bytes(event) / 1e6
    print(
        f"{args.records:,} records, {size_mb:.1f} MB event, median of {args.repetitions} "
        f"interleaved runs, Python {sys.version.split()[0]}\n"
    )
    print("| consumer | records/s | ours is |")
    print("| --- | ---: | ---: |")
    print(f"| A: powertools BatchProcessor + pydantic | {rates['A']:,.0f} | {vs_a:.2f}x |")
    print(f"| B: powertools kafka_consumer + pydantic | {rates['B']:,.0f} | {vs_b:.2f}x |")
    print(f"| ours: json + JSON Schema, SINK=discard | {rates['ours']:,.0f} | 1.00x |")
    print(
        f"\nPeak RSS, fresh process, ours on a {peak_event_size / 1e6:.1f} MB event "
        f"({memory_records:,} records): {peak:.0f} MB (limit {PEAK_RSS_LIMIT_MB} MB)"
    )
    verdicts = {
        f"ours >= {TARGET_VS_A}x A": vs_a >= TARGET_VS_A,
        f"ours >= {TARGET_VS_B}x B": vs_b >= TARGET_VS_B,
        f"peak RSS < {PEAK_RSS_LIMIT_MB} MB": peak < PEAK_RSS_LIMIT_MB,
    }
    print("\n" + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in verdicts.items()))
    return 1 if args.enforce_targets and not all(verdicts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
