"""The EventBridge sink on moto: one event per record, chunked, retried, oversize quarantined."""

import json

import boto3
import pytest
from consume_support import (
    FAILURES,
    REGION,
    FaultyClients,
    event,
    failures,
    objects,
    read_lines,
    record,
)

from msk_autopilot.consume import parse_kafka_event
from msk_autopilot.consume.sinks import EVENT_DETAIL_TYPE, EVENT_SOURCE

BUS = "records"


@pytest.fixture
def delivered(aws):
    """The events that reached the bus, read through a rule that targets an SQS queue."""
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name=BUS)
    queue = sqs.create_queue(QueueName="delivered")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": [EVENT_SOURCE]})
    )
    events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}])

    def read() -> list[dict]:
        received = []
        while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return received

    return read


class PartialPutEvents:
    """Moto's events client, except that PutEvents reports chosen entries as failed, as
    EventBridge does (ErrorCode per entry, FailedEntryCount), for the first `times` attempts."""

    def __init__(self, clients, failing_offsets: set[int], times: int) -> None:
        self._clients, self._failing, self._times = clients, failing_offsets, times
        self.batch_sizes: list[int] = []

    def client(self, service, region=None):
        real = self._clients.client(service, region)
        if service != "events":
            return real
        owner = self

        class Events:
            def put_events(self, Entries):  # boto3 names it Entries
                owner.batch_sizes.append(len(Entries))
                failed = [
                    json.loads(entry["Detail"])["offset"] in owner._failing and owner._times > 0
                    for entry in Entries
                ]
                owner._times -= 1
                passed = [entry for entry, fail in zip(Entries, failed, strict=True) if not fail]
                results = iter(real.put_events(Entries=passed)["Entries"] if passed else [])
                return {
                    "FailedEntryCount": sum(failed),
                    "Entries": [
                        {"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}
                        if fail
                        else next(results)
                        for fail in failed
                    ],
                }

        return Events()


def test_each_record_becomes_one_event_with_the_archive_line_as_detail(consumer, delivered):
    pipeline = consumer(SINK="eventbridge", EVENT_BUS_NAME=BUS, VALUE_FORMAT="json")
    raw = event(
        *(record(offset, b'{"n": %d}' % offset) for offset in range(23)),
        record(5, partition=1, key=None),
    )
    result = pipeline.process(parse_kafka_event(raw))

    assert failures(result) == {}
    received = delivered()
    assert len(received) == 24
    assert {item["source"] for item in received} == {EVENT_SOURCE}
    assert {item["detail-type"] for item in received} == {EVENT_DETAIL_TYPE}
    details = sorted((item["detail"]["partition"], item["detail"]["offset"]) for item in received)
    assert details == sorted([(0, offset) for offset in range(23)] + [(1, 5)])
    one = next(item["detail"] for item in received if item["detail"]["partition"] == 1)
    assert one["key"] is None
    assert one["value"] == {"id": 1}


def test_failed_entries_are_retried_then_reported_from_the_first_undelivered_offset(
    consumer, clients, delivered
):
    flaky = PartialPutEvents(clients, failing_offsets={3, 14}, times=1)
    pipeline = consumer(clients_override=flaky, SINK="eventbridge", EVENT_BUS_NAME=BUS)
    result = pipeline.process(parse_kafka_event(event(*(record(offset) for offset in range(20)))))
    assert failures(result) == {}  # the retry delivered them
    assert len(delivered()) == 20
    assert max(flaky.batch_sizes) == 10

    stubborn = PartialPutEvents(clients, failing_offsets={3, 14}, times=100)
    pipeline = consumer(clients_override=stubborn, SINK="eventbridge", EVENT_BUS_NAME=BUS)
    result = pipeline.process(parse_kafka_event(event(*(record(offset) for offset in range(20)))))
    assert failures(result) == {"orders-0": 3}
    assert len(delivered()) == 18  # the rest got through; 3.. is redelivered by Lambda
    assert len(stubborn.batch_sizes) == 2 + 2 * 3  # two chunks, each retried three times


def test_a_whole_put_events_call_failing_reports_every_partition_in_it(
    consumer, clients, delivered
):
    down = FaultyClients(clients, lambda service, operation, params: service == "events")
    pipeline = consumer(clients_override=down, SINK="eventbridge", EVENT_BUS_NAME=BUS)
    raw = event(record(4), record(5), record(9, partition=3))
    assert failures(pipeline.process(parse_kafka_event(raw))) == {"orders-0": 4, "orders-3": 9}


def test_records_over_the_event_size_limit_are_quarantined(consumer, s3, delivered):
    pipeline = consumer(SINK="eventbridge", EVENT_BUS_NAME=BUS)
    raw = event(record(1, b"small"), record(2, b"x" * 300_000), record(3, b"small"))
    assert failures(pipeline.process(parse_kafka_event(raw))) == {}
    assert sorted(item["detail"]["offset"] for item in delivered()) == [1, 3]
    (line,) = read_lines(s3, FAILURES, objects(s3, FAILURES)[0])
    assert line["offset"] == 2
    assert "exceeds EventBridge's 256 KB event limit" in line["reason"]


def test_records_whose_headers_are_malformed_are_quarantined_and_the_rest_carry_theirs(
    consumer, s3, delivered
):
    pipeline = consumer(SINK="eventbridge", EVENT_BUS_NAME=BUS)
    raw = event(
        record(1, headers=[("traceparent", list(b"00-ab-01")), ("bin", [-1, 0])]),
        record(2, headers=[("h", [1, 999])]),
        {**record(3), "headers": [{"h": "text"}]},
    )
    assert failures(pipeline.process(parse_kafka_event(raw))) == {}
    (sent,) = delivered()
    assert sent["detail"]["headers"] == [
        {"key": "traceparent", "value": "MDAtYWItMDE="},
        {"key": "bin", "value": "/wA="},
    ]
    lines = read_lines(s3, FAILURES, objects(s3, FAILURES)[0])
    assert [(line["offset"], line["reason"]) for line in lines] == [
        (2, "header 'h' holds values that are not bytes"),
        (3, "malformed headers: Expected `array`, got `str` - at `$[0][...]`"),
    ]
    assert lines[1]["record"] == raw["records"]["orders-0"][2]  # as delivered
