"""CloudWatch alarm evaluation, which moto lacks: states set as CloudWatch would, transitions
returned with their events, in process and over the control endpoint."""

from datetime import timedelta

import pytest

from msk_autopilot.events import AlarmStateChange, EventParser
from msk_autopilot_local.emulator import control, evaluate_alarms, put_linear_series

REGION = "eu-west-1"


def alarm(cloudwatch, name, *, broker=1, periods=1, to_alarm=None, operator=None, missing=None):
    request = {
        "AlarmName": name,
        "AlarmDescription": f"disk of broker {broker}",
        "Namespace": "AWS/Kafka",
        "MetricName": "KafkaDataLogsDiskUsed",
        "Dimensions": [
            {"Name": "Cluster Name", "Value": "orders"},
            {"Name": "Broker ID", "Value": str(broker)},
        ],
        "Statistic": "Maximum",
        "Period": 300,
        "EvaluationPeriods": periods,
        "Threshold": 70.0,
        "ComparisonOperator": operator or "GreaterThanOrEqualToThreshold",
    }
    if to_alarm:
        request["DatapointsToAlarm"] = to_alarm
    if missing:
        request["TreatMissingData"] = missing
    cloudwatch.put_metric_alarm(**request)


def disk(cloudwatch, clock, values, broker=1):
    """One datapoint per 5 minutes, the last one now."""
    now = clock.now()
    for age, value in enumerate(reversed(values)):
        at = now - timedelta(seconds=300 * age)
        put_linear_series(
            cloudwatch, "orders", broker_ids=[broker], start=at, end=at, start_value=value,
            end_value=value, period_seconds=300,
        )  # fmt: skip


def state(cloudwatch, name):
    return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]


def test_a_breaching_datapoint_fires_the_alarm_once(kit, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    alarm(cloudwatch, "disk-1")
    disk(cloudwatch, msk_emulator.clock, [40, 55, 78])

    [fired] = evaluate_alarms(region=REGION)

    assert (fired.alarm_name, fired.previous_state, fired.state) == ("disk-1", "OK", "ALARM")
    assert fired.datapoints == [78.0]
    assert fired.reason.startswith("Threshold Crossed: 1 out of the last 1 datapoints [78.0]")
    assert state(cloudwatch, "disk-1") == "ALARM"
    assert evaluate_alarms(region=REGION) == []  # no change, no transition


def test_the_alarm_returns_to_ok_below_the_threshold(kit, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    alarm(cloudwatch, "disk-1")
    disk(cloudwatch, msk_emulator.clock, [78])
    evaluate_alarms(region=REGION)
    msk_emulator.clock.advance(300)
    disk(cloudwatch, msk_emulator.clock, [50])

    [recovered] = evaluate_alarms(region=REGION)

    assert (recovered.previous_state, recovered.state) == ("ALARM", "OK")
    assert "was not greater than or equal to the threshold (70.0)" in recovered.reason
    assert state(cloudwatch, "disk-1") == "OK"


def test_m_out_of_n_datapoints_must_breach(kit, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    alarm(cloudwatch, "two-of-three", periods=3, to_alarm=2)
    alarm(cloudwatch, "all-three", periods=3, broker=2)
    disk(cloudwatch, msk_emulator.clock, [50, 75, 80])
    disk(cloudwatch, msk_emulator.clock, [50, 75, 80], broker=2)

    fired = evaluate_alarms(region=REGION)

    assert [t.alarm_name for t in fired] == ["two-of-three"]
    assert fired[0].datapoints == [50.0, 75.0, 80.0]
    assert state(cloudwatch, "all-three") == "OK"


def test_the_comparison_operator_decides(kit, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    alarm(cloudwatch, "low", operator="LessThanThreshold")
    disk(cloudwatch, msk_emulator.clock, [69.9])

    [fired] = evaluate_alarms(region=REGION)

    assert fired.state == "ALARM"
    assert "was less than the threshold" in fired.reason


@pytest.mark.parametrize(
    ("treatment", "expected"),
    [(None, "INSUFFICIENT_DATA"), ("breaching", "ALARM"), ("ignore", "OK")],
)
def test_missing_data_is_treated_as_the_alarm_says(kit, msk_emulator, treatment, expected):
    cloudwatch = kit.client("cloudwatch")
    alarm(cloudwatch, "silent", missing=treatment)

    evaluate_alarms(region=REGION)

    assert state(cloudwatch, "silent") == expected


def test_only_alarms_with_the_prefix_are_evaluated(kit, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    alarm(cloudwatch, "disk-1")
    alarm(cloudwatch, "other-1")
    disk(cloudwatch, msk_emulator.clock, [90])

    assert [t.alarm_name for t in evaluate_alarms(region=REGION, name_prefix="disk-")] == ["disk-1"]
    assert state(cloudwatch, "other-1") == "OK"


def test_a_transition_s_event_is_one_the_functions_accept(kit, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    alarm(cloudwatch, "disk-1", broker=3)
    disk(cloudwatch, msk_emulator.clock, [90], broker=3)
    [fired] = evaluate_alarms(region=REGION)

    event = EventParser(AlarmStateChange)(fired.event())

    assert event.detail.alarm_name == "disk-1"
    assert event.detail.state.value == "ALARM"
    assert event.detail.previous_state is not None
    assert event.detail.previous_state.value == "OK"
    metric = event.detail.configuration.metrics[0].metric_stat
    assert metric is not None
    assert metric.metric.dimensions == {"Cluster Name": "orders", "Broker ID": "3"}
    assert event.region == REGION
    assert event.time == msk_emulator.clock.now().replace(microsecond=0)


def test_the_control_endpoint_evaluates_and_answers_the_events(http_kit):
    cloudwatch = http_kit.client("cloudwatch")
    alarm(cloudwatch, "disk-1")
    disk(cloudwatch, control.clock, [88])

    response = http_kit.control("POST", "/alarms/evaluate", {"region": REGION})

    assert response.status_code == 200
    [transition] = response.json()["transitions"]
    assert transition["alarmName"] == "disk-1"
    assert (transition["previousState"], transition["state"]) == ("OK", "ALARM")
    assert EventParser(AlarmStateChange)(transition["event"]).detail.alarm_name == "disk-1"
    assert http_kit.control("POST", "/alarms/evaluate", {"region": REGION}).json() == {
        "transitions": []
    }
    cloudwatch.delete_alarms(AlarmNames=["disk-1"])


def test_the_control_endpoint_needs_a_region(http_kit):
    response = http_kit.control("POST", "/alarms/evaluate", {"alarmNamePrefix": 3})

    assert response.status_code == 400
    assert "region" in response.json()["message"]
