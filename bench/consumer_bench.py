"""Records per second of the MSK record consumer against powertools, and its peak memory.

One process decodes Lambda MSK events of several shapes (SHAPES: no headers, one to three
headers on every record, a mix with more null keys), each a full batch of about 6 MB (Lambda's
largest), with JSON values of 50 B to 10 KB validated against bench/order.schema.json, by:

  A     powertools BatchProcessor(EventType.Kafka) with process_partial_response; the record
        handler validates the value with an equivalent pydantic model
  B     powertools kafka_consumer with the same pydantic model as value_output_serializer
  ours  msk_autopilot.consume: VALUE_FORMAT=json, VALUE_SCHEMA=order.schema.json, SINK=discard

Headers are in the event as Lambda delivers them (a list of byte values per header value);
none of the three reads them. Per shape the three run interleaved (A, B, ours, A, B, ours,
...) so that noise from other processes hits each alike, and each run is timed in CPU time of
this process; the median of the repetitions is reported, and the targets hold for the smallest
ratio over the shapes. Peak memory is the maximum RSS of a fresh process that loads a 6 MB
event of the shape with headers and runs ours on it.

    python bench/consumer_bench.py                    # the tables
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
from typing import Annotated, Any, Literal, NamedTuple

HERE = Path(__file__).resolve().parent
SCHEMA = HERE / "order.schema.json"
TARGET_VS_A = 3.0
TARGET_VS_B = 8.0
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


# Value sizes: most orders of a few hundred bytes, some tiny, a few up to 10 KB (many items).
_SIZES = ((0.15, 50, 150), (0.80, 150, 600), (0.05, 1024, 10 * 1024))
_ITEM_BYTES = 51  # one item of an order, encoded


class Shape(NamedTuple):
    """How a bench event's records look: the share carrying headers, the share of null keys."""

    with_headers: float
    null_keys: float


SHAPES = {
    "no headers": Shape(with_headers=0.0, null_keys=0.1),
    "headers": Shape(with_headers=1.0, null_keys=0.1),
    "mixed": Shape(with_headers=0.5, null_keys=0.3),
}
MEMORY_SHAPE = "headers"  # the most bytes per record


def value_size(rng: random.Random) -> int:
    pick = rng.random()
    for share, low, high in _SIZES:
        if pick < share:
            return rng.randint(low, high)
        pick -= share
    return _SIZES[-1][2]


def order(number: int, rng: random.Random) -> bytes:
    """An order of about `value_size` bytes: the required fields only when small, else more
    items (and notes) the larger it is."""
    size = value_size(rng)
    value: dict[str, Any] = {
        "orderId": f"ord-{number:08d}",
        "status": rng.choice(["CREATED", "PAID", "SHIPPED", "CANCELLED"]),
        "amount": round(rng.uniform(1, 2000), 2),
    }
    if size >= 150:
        value |= {
            "customerId": f"cust-{rng.randint(1, 99999):05d}",
            "createdAt": "2026-11-24T10:15:30.123Z",
            "currency": rng.choice(["EUR", "USD", "GBP"]),
            "items": [
                {
                    "sku": f"SKU-{rng.randint(10000, 99999)}",
                    "quantity": rng.randint(1, 5),
                    "unitPrice": round(rng.uniform(100, 200), 2),
                }
                for _ in range(max(1, (size - 200) // _ITEM_BYTES))
            ],
            "express": rng.random() < 0.3,
        }
    if size >= 300:
        value["shippingAddress"] = {
            "street": f"{rng.randint(1, 999)} Long Example Street",
            "city": "Amsterdam",
            "postalCode": "1011AB",
            "country": "NL",
        }
    encoded = json.dumps(value, separators=(",", ":")).encode()
    if len(encoded) + 12 < size:  # pad with notes up to the size (the schema allows 500)
        value["notes"] = "n" * min(500, size - len(encoded) - 12)
        encoded = json.dumps(value, separators=(",", ":")).encode()
    return encoded


def headers(rng: random.Random) -> list[dict[str, list[int]]]:
    """One to three headers as real producers set them (trace context, a schema id), each
    value a list of byte values, as Lambda delivers headers."""
    trace = f"00-{rng.randbytes(16).hex()}-{rng.randbytes(8).hex()}-01".encode()
    chosen = [("traceparent", trace)]
    if rng.random() < 0.6:
        chosen.append(("schema-id", str(rng.randint(1, 400)).encode()))
    if rng.random() < 0.3:
        chosen.append(("tracestate", f"vendor={rng.randbytes(6).hex()}".encode()))
    return [{name: list(data)} for name, data in chosen]


def msk_event(records: int, shape: Shape, partitions: int = 4, seed: int = 7) -> dict[str, Any]:
    """A Lambda MSK event as the runtime hands it to a handler (a parsed JSON object)."""
    rng = random.Random(seed)  # noqa: S311  reproducible test data, not secrets
    batches: dict[str, list[dict[str, Any]]] = {}
    for number in range(records):
        partition = number % partitions
        key = None if rng.random() < shape.null_keys else f"ord-{number:08d}".encode()
        batches.setdefault(f"orders-{partition}", []).append(
            {
                "topic": "orders",
                "partition": partition,
                "offset": 1000 + number // partitions,
                "timestamp": 1795947300000 + number,
                "timestampType": "CREATE_TIME",
                "key": None if key is None else base64.b64encode(key).decode(),
                "value": base64.b64encode(order(number, rng)).decode(),
                "headers": headers(rng) if rng.random() < shape.with_headers else [],
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
        status: Literal["CREATED", "PAID", "SHIPPED", "CANCELLED"]
        amount: float = Field(ge=0)
        customerId: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
        createdAt: str | None = None
        currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None
        items: Annotated[list[Item], Field(min_length=1)] | None = None
        shippingAddress: Address | None = None
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
        event = msk_event(records, SHAPES[MEMORY_SHAPE])
        path.write_text(json.dumps(event, separators=(",", ":")), encoding="utf-8")
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


def records_for(target_bytes: int, shape: Shape) -> int:
    """How many records fill an event of `target_bytes` (events of a shape share a prefix)."""
    records = 12_000
    event = msk_event(records, shape)
    total = event_bytes({**event, "records": {key: [] for key in event["records"]}})
    ordered = sorted(
        (record["offset"], record["partition"], record)
        for batch in event["records"].values()
        for record in batch
    )
    for count, (_, _, record) in enumerate(ordered):
        total += len(json.dumps(record, separators=(",", ":"))) + 1
        if total > target_bytes:
            return count
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, help="records per event (default: a 6 MB event)")
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--memory-records", type=int, help="records in the peak-RSS event")
    parser.add_argument("--enforce-targets", action="store_true")
    parser.add_argument("--peak-rss-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_rss_child:
        run_child(args.peak_rss_child)
        return 0

    print(
        f"median of {args.repetitions} interleaved runs per shape, CPU time, "
        f"Python {sys.version.split()[0]}"
    )
    ratios: dict[str, tuple[float, float]] = {}
    for name, shape in SHAPES.items():
        records = args.records or records_for(LARGEST_BATCH_BYTES, shape)
        event = msk_event(records, shape)
        consumers = {**powertools_consumers(event), "ours": our_consumer(event)}
        rates = throughput(consumers, records, args.repetitions)
        vs_a, vs_b = rates["ours"] / rates["A"], rates["ours"] / rates["B"]
        ratios[name] = vs_a, vs_b
        print(
            f"\n{name}: {records:,} records, {event_bytes(event) / 1e6:.1f} MB event, "
            f"{shape.with_headers:.0%} with headers, {shape.null_keys:.0%} null keys\n"
        )
        print("| consumer | records/s | ours is |")
        print("| --- | ---: | ---: |")
        print(f"| A: powertools BatchProcessor + pydantic | {rates['A']:,.0f} | {vs_a:.2f}x |")
        print(f"| B: powertools kafka_consumer + pydantic | {rates['B']:,.0f} | {vs_b:.2f}x |")
        print(f"| ours: json + JSON Schema, SINK=discard | {rates['ours']:,.0f} | 1.00x |")

    memory_records = args.memory_records or records_for(LARGEST_BATCH_BYTES, SHAPES[MEMORY_SHAPE])
    peak, peak_event_size = peak_rss_mb(memory_records)
    least_vs_a = min(vs_a for vs_a, _ in ratios.values())
    least_vs_b = min(vs_b for _, vs_b in ratios.values())
    print(f"\nSmallest ratios over the shapes: {least_vs_a:.2f}x A, {least_vs_b:.2f}x B")
    print(
        f"Peak RSS, fresh process, ours on a {peak_event_size / 1e6:.1f} MB event "
        f"({memory_records:,} records, {MEMORY_SHAPE}): {peak:.0f} MB "
        f"(limit {PEAK_RSS_LIMIT_MB} MB)"
    )
    verdicts = {
        f"ours >= {TARGET_VS_A}x A on every shape": least_vs_a >= TARGET_VS_A,
        f"ours >= {TARGET_VS_B}x B on every shape": least_vs_b >= TARGET_VS_B,
        f"peak RSS < {PEAK_RSS_LIMIT_MB} MB": peak < PEAK_RSS_LIMIT_MB,
    }
    print("\n" + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in verdicts.items()))
    return 1 if args.enforce_targets and not all(verdicts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
