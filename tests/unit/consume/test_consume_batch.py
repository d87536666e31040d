"""Only a broken envelope rejects a Kafka event; broken records are the pipeline's business."""

import pytest
from consume_support import event, record

from msk_autopilot.consume import parse_kafka_event
from msk_autopilot.consume.batch import split_partition_key
from msk_autopilot.events import EventValidationError, UnsupportedEventError


def test_msk_and_self_managed_events_are_batches():
    batch = parse_kafka_event(event(record(1), record(2, partition=1)))
    assert batch.event_source == "aws:kafka"
    assert batch.record_count == 2
    assert list(batch.partitions) == ["orders-0", "orders-1"]
    self_managed = {"eventSource": "SelfManagedKafka", "records": {"t-0": []}}
    assert parse_kafka_event(self_managed).event_source_arn is None


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        ({"detail-type": "Scheduled Event"}, UnsupportedEventError, "accepted: kafka"),
        ([1, 2], EventValidationError, "must be a JSON object"),
        ({"eventSource": "aws:kafka"}, EventValidationError, "records must be an object"),
        ({"eventSource": "aws:kafka", "records": {"t-0": {}}}, EventValidationError, "list"),
        (
            {"eventSource": "aws:kafka", "records": {"no-partition": []}},
            EventValidationError,
            "<topic>",
        ),
    ],
)
def test_events_that_are_not_kafka_batches_are_rejected_clearly(raw, error, message):
    with pytest.raises(error, match=message):
        parse_kafka_event(raw)


def test_partition_keys_split_on_the_last_dash():
    assert split_partition_key("orders-eu-12") == ("orders-eu", 12)
    with pytest.raises(ValueError, match="is not <topic>-<partition>"):
        split_partition_key("orders")
    with pytest.raises(ValueError, match="is not <topic>-<partition>"):
        split_partition_key("orders-0\n")


def test_a_partition_key_with_a_trailing_newline_is_refused():
    raw = event(record(1))
    raw["records"]["orders-0\n"] = raw["records"].pop("orders-0")
    with pytest.raises(EventValidationError, match="is not <topic>-<partition>"):
        parse_kafka_event(raw)
