"""Metric-math alarms evaluated as CloudWatch does: the health monitor's own alarms (built by
msk_autopilot.health.alarms) fire on an unhealthy emulated cluster, a period missing in one
operand is missing in the result, and an expression outside the subset leaves its alarm alone."""

import json
import logging
from datetime import timedelta

import pytest

from msk_autopilot.events import AlarmStateChange, EventParser
from msk_autopilot.health.alarms import AlarmThresholds, health_alarm_requests
from msk_autopilot.msk import ClusterSnapshot
from msk_autopilot_local.emulator import evaluate_alarms, put_broker_metrics
from msk_autopilot_local.emulator.metric_math import MathExpression, UnsupportedExpression

REGION = "eu-west-1"
PREFIX = "stack-health-"


@pytest.fixture
def orders(kit, msk_emulator):
    arn = kit.create("orders")
    msk_emulator.complete_operations()
    return arn


def monitor_alarms(kit, arn, topic_arn="arn:aws:sns:eu-west-1:123456789012:alerts"):
    """The PutMetricAlarm requests the health monitor makes for the cluster, by name."""
    snapshot = ClusterSnapshot.from_api(kit.info(arn))
    return health_alarm_requests(snapshot, AlarmThresholds(), prefix=PREFIX, topic_arn=topic_arn)


def put(cloudwatch, requests, *suffixes):
    """Create the requests whose names end with one of `suffixes` (all without any)."""
    for name, request in requests.items():
        if not suffixes or name.endswith(suffixes):
            cloudwatch.put_metric_alarm(**request)


def states(cloudwatch):
    return {a["AlarmName"]: a["StateValue"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}


def math_alarm(cloudwatch, name, expression, *, periods=3, to_alarm=None, threshold=60.0):
    """CpuUser (m1) and CpuSystem (m2) of broker 1 of orders, per minute, under `expression`."""
    queries = [
        {
            "Id": f"m{index}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Kafka",
                    "MetricName": metric,
                    "Dimensions": [
                        {"Name": "Cluster Name", "Value": "orders"},
                        {"Name": "Broker ID", "Value": "1"},
                    ],
                },
                "Period": 60,
                "Stat": "Average",
            },
            "ReturnData": False,
        }
        for index, metric in enumerate(("CpuUser", "CpuSystem"), start=1)
    ]
    request = {
        "AlarmName": name,
        "Metrics": [*queries, {"Id": "e1", "Expression": expression, "ReturnData": True}],
        "EvaluationPeriods": periods,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    if to_alarm:
        request["DatapointsToAlarm"] = to_alarm
    cloudwatch.put_metric_alarm(**request)


def test_the_cpu_alarm_fires_on_user_plus_system_of_a_hot_broker_only(kit, orders, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    put(cloudwatch, monitor_alarms(kit, orders), "-cpu")
    # Each part is under 60 %; their sum, which the alarm watches, is over it.
    msk_emulator.set_cluster_health(orders, broker=2, cpu_user=45, cpu_system=20)

    [fired] = evaluate_alarms(region=REGION)

    assert (fired.alarm_name, fired.previous_state, fired.state) == (
        f"{PREFIX}orders-broker-2-cpu",
        "OK",
        "ALARM",
    )
    assert fired.datapoints == [65.0, 65.0, 65.0]
    assert fired.reason.startswith("Threshold Crossed: 3 out of the last 3 datapoints [65.0, ")
    assert states(cloudwatch) == {
        f"{PREFIX}orders-broker-1-cpu": "OK",
        f"{PREFIX}orders-broker-2-cpu": "ALARM",
        f"{PREFIX}orders-broker-3-cpu": "OK",
    }
    metrics = EventParser(AlarmStateChange)(fired.event()).detail.configuration.metrics
    assert [(m.id, m.expression) for m in metrics] == [
        ("m1", None),
        ("m2", None),
        ("e1", "m1 + m2"),
    ]
    assert metrics[0].metric_stat is not None
    assert metrics[0].metric_stat.metric.dimensions == {"Cluster Name": "orders", "Broker ID": "2"}


def test_a_cooled_broker_s_cpu_alarm_returns_to_ok(kit, orders, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    put(cloudwatch, monitor_alarms(kit, orders), "broker-2-cpu")
    msk_emulator.set_cluster_health(orders, cpu_user=50, cpu_system=20)
    evaluate_alarms(region=REGION)

    msk_emulator.set_cluster_health(orders, cpu_user=30, cpu_system=10)
    [recovered] = evaluate_alarms(region=REGION)

    assert (recovered.previous_state, recovered.state) == ("ALARM", "OK")
    assert recovered.datapoints == [40.0, 40.0, 40.0]
    assert "was not greater than the threshold (60.0)" in recovered.reason


def test_the_ticker_notifies_a_math_alarm_s_queries(kit, orders, msk_emulator):
    sns, sqs = kit.client("sns"), kit.client("sqs")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="notified")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    put(kit.client("cloudwatch"), monitor_alarms(kit, orders, topic), "broker-1-cpu")
    msk_emulator.set_cluster_health(orders, cpu_user=70)

    msk_emulator.tick()

    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    trigger = json.loads(json.loads(message["Body"])["Message"])["Trigger"]
    assert (trigger["Period"], trigger["EvaluationPeriods"], trigger["Threshold"]) == (300, 3, 60.0)
    assert [(q["Id"], q.get("Expression"), q["ReturnData"]) for q in trigger["Metrics"]] == [
        ("m1", None, False),
        ("m2", None, False),
        ("e1", "m1 + m2", True),
    ]
    assert trigger["Metrics"][1]["MetricStat"]["Metric"]["MetricName"] == "CpuSystem"


def test_the_active_controller_alarm_fires_unless_there_is_exactly_one(kit, orders, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    put(cloudwatch, monitor_alarms(kit, orders), "-active-controller")
    name = f"{PREFIX}orders-active-controller"
    msk_emulator.set_cluster_health(orders, active_controllers=1)
    assert evaluate_alarms(region=REGION) == []  # ABS(1 - 1) is 0: stays OK

    msk_emulator.set_cluster_health(orders, active_controllers=2)
    [split_brain] = evaluate_alarms(region=REGION)
    msk_emulator.set_cluster_health(orders, active_controllers=1)
    [healed] = evaluate_alarms(region=REGION)
    msk_emulator.set_cluster_health(orders, active_controllers=0)
    [headless] = evaluate_alarms(region=REGION)

    assert (split_brain.alarm_name, split_brain.state) == (name, "ALARM")
    assert split_brain.datapoints == [1.0] * 5  # Sum over the brokers is 2 each minute
    assert (healed.state, healed.datapoints) == ("OK", [0.0] * 5)
    assert (headless.state, headless.datapoints) == ("ALARM", [1.0] * 5)


def test_an_unhealthy_profile_fires_the_monitor_s_matching_alarms_and_only_those(
    kit, orders, msk_emulator
):
    cloudwatch = kit.client("cloudwatch")
    wanted = monitor_alarms(kit, orders)
    put(cloudwatch, wanted)
    msk_emulator.set_cluster_health(orders)  # healthy: the defaults
    evaluate_alarms(region=REGION)
    # The profile has no disk metric (the storage scaler's tests write it): no data there.
    no_disk_data = {name for name in wanted if name.endswith("-disk")}
    assert len(no_disk_data) == 3
    assert {n for n, state in states(cloudwatch).items() if state != "OK"} == no_disk_data

    msk_emulator.set_cluster_health(
        orders, active_controllers=0, offline_partitions=2, cpu_user=15, cpu_system=5
    )
    msk_emulator.set_cluster_health(orders, broker=2, cpu_user=50, cpu_system=20)
    msk_emulator.set_cluster_health(orders, broker=3, under_replicated_partitions=4)
    fired = evaluate_alarms(region=REGION)

    expected = {
        f"{PREFIX}orders-active-controller",
        f"{PREFIX}orders-offline-partitions",
        f"{PREFIX}orders-broker-2-cpu",
        f"{PREFIX}orders-broker-3-under-replicated",
    }
    assert {t.alarm_name for t in fired} == expected
    assert {t.state for t in fired} == {"ALARM"}
    assert {n for n, state in states(cloudwatch).items() if state == "ALARM"} == expected
    assert len(states(cloudwatch)) == len(wanted)


def test_a_period_missing_in_one_operand_is_missing_in_the_result(kit, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    math_alarm(cloudwatch, "cpu-sum", "m1 + m2", to_alarm=2)
    math_alarm(cloudwatch, "cpu-sum-all-three", "m1 + m2")
    now = msk_emulator.clock.now()
    for age in (0, 1, 2):
        at = now - timedelta(minutes=age)
        put_broker_metrics(cloudwatch, "orders", 1, {"CpuUser": 50.0}, at)
        if age != 1:  # CpuSystem skips the middle minute
            put_broker_metrics(cloudwatch, "orders", 1, {"CpuSystem": 15.0 + age}, at)

    [fired] = evaluate_alarms(region=REGION)

    assert fired.alarm_name == "cpu-sum"
    assert fired.datapoints == [67.0, 65.0]  # two values for three periods
    assert fired.reason.startswith("Threshold Crossed: 2 out of the last 2 datapoints")
    # Two breaching values are not the three "cpu-sum-all-three" needs.
    assert states(cloudwatch) == {"cpu-sum": "ALARM", "cpu-sum-all-three": "OK"}


def test_an_operand_without_data_leaves_the_alarm_without_data(kit, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    math_alarm(cloudwatch, "cpu-sum", "m1 + m2")
    put_broker_metrics(cloudwatch, "orders", 1, {"CpuUser": 90.0}, msk_emulator.clock.now())

    [transition] = evaluate_alarms(region=REGION)

    assert (transition.state, transition.datapoints) == ("INSUFFICIENT_DATA", [])


def test_an_expression_may_read_another_expression(kit, msk_emulator):
    cloudwatch = kit.client("cloudwatch")
    math_alarm(cloudwatch, "cpu-share", "m1 + m2", periods=1, threshold=0.5)
    [*metrics, total] = cloudwatch.describe_alarms()["MetricAlarms"][0]["Metrics"]
    cloudwatch.put_metric_alarm(
        AlarmName="cpu-share",
        Metrics=[*metrics, {**total, "ReturnData": False}, {"Id": "e2", "Expression": "e1 / 100"}],
        EvaluationPeriods=1,
        Threshold=0.5,
        ComparisonOperator="GreaterThanThreshold",
    )
    put_broker_metrics(cloudwatch, "orders", 1, {"CpuUser": 50.0, "CpuSystem": 10.0})

    [fired] = evaluate_alarms(region=REGION)

    assert (fired.state, fired.datapoints) == ("ALARM", [0.6])


@pytest.mark.parametrize(
    ("expression", "unsupported"),
    [
        ("RATE(m1)", "RATE(m1)"),
        ("m1 ** 2", "m1 ** 2"),
        ("__import__('os').getcwd()", "__import__('os').getcwd()"),
        ("MAX(m1)", "MAX(m1)"),
        ("m1 +", "'m1 +' is not an expression"),
        ("2 * 30", "gives a number, not a time series"),
        ("m1 + m3", "reads m3, no query of it"),
        ("e1 + m1", "e1 refers to itself"),
    ],
)
def test_an_expression_outside_the_subset_leaves_its_alarm_alone_with_a_reason(
    kit, msk_emulator, caplog, expression, unsupported
):
    cloudwatch = kit.client("cloudwatch")
    math_alarm(cloudwatch, "exotic", expression, periods=1)
    math_alarm(cloudwatch, "plain", "m1 + m2", periods=1)
    put_broker_metrics(cloudwatch, "orders", 1, {"CpuUser": 90.0, "CpuSystem": 5.0})

    with caplog.at_level(logging.INFO, logger="msk_autopilot_local.emulator.alarms"):
        fired = evaluate_alarms(region=REGION, name_prefix="")

    assert [t.alarm_name for t in fired] == ["plain"]  # the others are still evaluated
    assert states(cloudwatch)["exotic"] == "OK"
    [record] = caplog.records
    assert record.getMessage().startswith("Alarm exotic is not evaluated: ")
    assert unsupported in record.getMessage()


def test_lists_scalars_and_division_follow_cloudwatch(msk_emulator):
    at = [msk_emulator.clock.now() + timedelta(minutes=minute) for minute in range(3)]
    series = {
        "m1": {at[0]: 10.0, at[1]: 0.0, at[2]: 30.0},
        "m2": {at[0]: 20.0, at[1]: 5.0},
    }

    def value(text):
        return MathExpression(text).evaluate(series.__getitem__)

    assert value("MAX([m1, m2])") == {at[0]: 20.0, at[1]: 5.0}
    assert value("AVG([m1, m2, m1 * 2])") == {at[0]: 50 / 3, at[1]: 5 / 3}
    assert value("-(m1 - 40) / 2") == {at[0]: 15.0, at[1]: 20.0, at[2]: 5.0}
    assert value("m2 / m1") == {at[0]: 2.0}  # no value where it divides by zero
    assert MathExpression("ABS(m1 - 1) + MIN([m1, e1])").ids == {"m1", "e1"}
    with pytest.raises(UnsupportedExpression, match="takes a list of series only"):
        value("SUM([m1, 3])")
