"""Every sample event parses into its typed model; malformed events get typed errors."""

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from msk_autopilot.events import (
    AlarmStateChange,
    CloudTrailApiCall,
    EventParser,
    EventValidationError,
    KafkaEventEnvelope,
    ParameterStoreChange,
    ScaleRequest,
    ScheduledEvent,
    SecretRotationStep,
    UnsupportedEventError,
    event_kind,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"
EVERY_MODEL = EventParser(
    AlarmStateChange,
    ScheduledEvent,
    CloudTrailApiCall,
    ParameterStoreChange,
    SecretRotationStep,
    ScaleRequest,
    KafkaEventEnvelope,
)
# The sample events name clusters of examples/fleet.yaml by the ARNs a fresh local account gives
CLUSTER = (
    "arn:aws:kafka:us-east-1:123456789012:cluster/orders/5c080f22-03e3-5d8f-b9c5-bf8d22cd6cce-8"
)


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("alarm_state_change.json", AlarmStateChange),
        ("scheduled_event.json", ScheduledEvent),
        ("scheduler_event.json", ScheduledEvent),
        ("cloudtrail_update_monitoring.json", CloudTrailApiCall),
        ("cloudtrail_tag_resource.json", CloudTrailApiCall),
        ("cloudtrail_delete_cluster.json", CloudTrailApiCall),
        ("parameter_store_change.json", ParameterStoreChange),
        ("secret_rotation_create.json", SecretRotationStep),
        ("scale_request.json", ScaleRequest),
        ("msk_records.json", KafkaEventEnvelope),
    ],
)
def test_every_sample_event_parses_into_its_model(name, model):
    assert type(EVERY_MODEL(sample(name))) is model


def test_alarm_fields_are_typed():
    alarm = EVERY_MODEL(sample("alarm_state_change.json"))
    assert isinstance(alarm, AlarmStateChange)
    assert alarm.detail.state.value == "ALARM"
    assert alarm.detail.previous_state is not None
    assert alarm.detail.previous_state.value == "OK"
    stat = alarm.detail.configuration.metrics[0].metric_stat
    assert stat is not None
    assert stat.metric.dimensions == {"Cluster Name": "clickstream", "Broker ID": "2"}
    assert alarm.alarm_arn.endswith(":alarm:msk-autopilot-disk-clickstream-broker-2")


def test_first_alarm_transition_has_no_reason_data():
    event = sample("alarm_state_change.json")
    del event["detail"]["state"]["reasonData"]
    del event["detail"]["previousState"]
    alarm = EVERY_MODEL(event)
    assert alarm.detail.state.reason_data is None
    assert alarm.detail.previous_state is None


def test_cloudtrail_cluster_arn_is_url_decoded():
    call = EVERY_MODEL(sample("cloudtrail_update_monitoring.json"))
    assert isinstance(call, CloudTrailApiCall)
    assert call.cluster_arn == CLUSTER
    assert call.succeeded


def test_cloudtrail_create_call_takes_the_arn_from_the_response():
    event = sample("cloudtrail_update_monitoring.json")
    event["detail"]["eventName"] = "CreateClusterV2"
    event["detail"]["requestParameters"] = {"clusterName": "orders"}
    assert EVERY_MODEL(event).cluster_arn == CLUSTER


def test_cloudtrail_tag_call_names_the_cluster_as_its_resource():
    call = EVERY_MODEL(sample("cloudtrail_tag_resource.json"))
    assert isinstance(call, CloudTrailApiCall)
    assert call.cluster_arn == CLUSTER


def test_failed_cloudtrail_call_is_marked():
    event = sample("cloudtrail_update_monitoring.json")
    event["detail"]["errorCode"] = "BadRequestException"
    event["detail"]["responseElements"] = None
    assert not EVERY_MODEL(event).succeeded


def test_scheduler_detail_is_a_string():
    assert EVERY_MODEL(sample("scheduler_event.json")).detail == "{}"


def test_a_parser_rejects_kinds_it_does_not_accept():
    parse = EventParser(ScheduledEvent)
    with pytest.raises(UnsupportedEventError, match="unsupported event kind 'kafka'"):
        parse(sample("msk_records.json"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e["detail"]["state"].__setitem__("value", "PANIC"), "detail.state.value"),
        (lambda e: e["detail"].pop("alarmName"), "alarmName"),
        (lambda e: e.__setitem__("source", "aws.s3"), "source"),
        (lambda e: e["detail"].__setitem__("state", "ALARM"), "detail.state"),
    ],
)
def test_malformed_alarm_events_name_the_bad_field(mutate, message):
    event = copy.deepcopy(sample("alarm_state_change.json"))
    mutate(event)
    with pytest.raises(EventValidationError, match=message.replace(".", r"\.")):
        EVERY_MODEL(event)


@pytest.mark.parametrize("raw", [None, [], "text", 42])
def test_non_objects_are_rejected(raw):
    with pytest.raises(EventValidationError, match="must be a JSON object"):
        event_kind(raw)


def test_unknown_envelopes_are_unsupported():
    with pytest.raises(UnsupportedEventError, match="'unknown'"):
        EVERY_MODEL({"hello": "world"})


@pytest.mark.parametrize("time", ["", "yesterday", "2026-11-24T10:15:00"])
def test_eventbridge_time_must_be_rfc3339_with_a_zone(time):
    event = sample("scheduled_event.json")
    event["time"] = time
    with pytest.raises(EventValidationError, match=r"\$\.time"):
        EVERY_MODEL(event)


@pytest.mark.parametrize("arn", ["", "arn:aws:kafka:::", "orders", "arn:aws:sqs:us-east-1:1:q"])
def test_scale_requests_need_a_cluster_arn(arn):
    with pytest.raises(EventValidationError, match=r"\$\.clusterArn"):
        EVERY_MODEL({"action": "scale", "clusterArn": arn})


def test_cloudtrail_events_without_a_valid_cluster_arn_name_no_cluster():
    event = sample("cloudtrail_update_monitoring.json")
    event["detail"]["requestParameters"]["clusterArn"] = "not-an-arn"
    event["detail"]["responseElements"] = None
    assert EVERY_MODEL(event).cluster_arn is None


@pytest.mark.parametrize("value", [[], {}, ["aws:kafka"], 3, None])
def test_envelopes_with_odd_values_are_classified_not_crashed(value):
    with pytest.raises(UnsupportedEventError):
        EVERY_MODEL({"eventSource": value, "records": {}})


ACTING_AT_EVENT_TIME = EventParser(AlarmStateChange, ScheduledEvent, acts_at_event_time=True)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# Times relative to now are computed in the test: parameters must be the same in every worker.
@pytest.mark.parametrize(
    "time",
    [
        "0001-01-01T00:00:00Z",  # raised OverflowError in the storage scaler
        "9999-12-31T23:59:59Z",  # made GetMetricData fail, four attempts, then raised
        -timedelta(days=14, minutes=5),
        timedelta(days=1, minutes=5),
    ],
    ids=["year-1", "year-9999", "14-days-ago", "a-day-ahead"],
)
@pytest.mark.parametrize("name", ["alarm_state_change.json", "scheduled_event.json"])
def test_an_event_time_far_from_now_is_invalid_where_the_handler_acts_at_it(name, time):
    if isinstance(time, timedelta):
        time = _stamp(datetime.now(UTC) + time)
    event = sample(name)
    event["time"] = time
    with pytest.raises(EventValidationError, match=r"more than 14 days before .* - at `\$\.time`"):
        ACTING_AT_EVENT_TIME(event)
    assert EVERY_MODEL(event).time.year == int(time[:4])  # elsewhere the time is not acted on


@pytest.mark.parametrize(
    "shift", [timedelta(days=-13, hours=-23), timedelta(0), timedelta(hours=23)]
)
def test_event_times_within_the_bounds_are_accepted(shift):
    event = sample("alarm_state_change.json")
    event["time"] = _stamp(datetime.now(UTC) + shift)
    assert type(ACTING_AT_EVENT_TIME(event)) is AlarmStateChange


def test_a_cluster_arn_with_a_trailing_newline_is_refused():
    with pytest.raises(EventValidationError, match=r"\$\.clusterArn"):
        EVERY_MODEL({"action": "scale", "clusterArn": CLUSTER + "\n"})
    event = sample("cloudtrail_update_monitoring.json")
    event["detail"]["requestParameters"]["clusterArn"] = CLUSTER + "%0A"  # URL-encoded "\n"
    event["detail"]["responseElements"] = None
    assert EVERY_MODEL(event).cluster_arn is None
