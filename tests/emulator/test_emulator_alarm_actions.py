"""What CloudWatch does after an alarm changes state: SNS actions while actions are enabled, and
the "CloudWatch Alarm State Change" event on the default bus, driven by ``control.tick()``."""

import json

import pytest

from msk_autopilot.events import AlarmStateChange, EventParser

REGION = "eu-west-1"


class Watch:
    """A topic and the default bus, each delivering into a queue the test reads."""

    def __init__(self, kit):
        self.sqs, self.sns, events = kit.client("sqs"), kit.client("sns"), kit.client("events")
        self.cloudwatch = kit.client("cloudwatch")
        self.topic = self.sns.create_topic(Name="alerts")["TopicArn"]
        self.notified = self._queue("notified")
        self.sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=self._arn(self.notified))
        self.evented = self._queue("evented")
        events.put_rule(Name="alarms", EventPattern=json.dumps({"source": ["aws.cloudwatch"]}))
        events.put_targets(Rule="alarms", Targets=[{"Id": "q", "Arn": self._arn(self.evented)}])

    def _queue(self, name):
        return self.sqs.create_queue(QueueName=name)["QueueUrl"]

    def _arn(self, url):
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return attributes["Attributes"]["QueueArn"]

    def drain(self, url):
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

    def cpu_alarm(self, name="orders-cpu-1"):
        self.cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/Kafka",
            MetricName="CpuUser",
            Dimensions=[{"Name": "Cluster Name", "Value": "orders"},
                        {"Name": "Broker ID", "Value": "1"}],
            Statistic="Average",
            Period=60,
            EvaluationPeriods=3,
            Threshold=60.0,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[self.topic],
            OKActions=[self.topic],
        )  # fmt: skip


@pytest.fixture
def watch(kit):
    return Watch(kit)


@pytest.fixture
def orders(kit, msk_emulator):
    arn = kit.create("orders")
    msk_emulator.complete_operations()
    return arn


def test_a_firing_alarm_notifies_its_topic_and_puts_its_event(watch, orders, msk_emulator):
    watch.cpu_alarm()
    msk_emulator.set_cluster_health(orders, cpu_user=80)

    msk_emulator.tick()

    [notification] = watch.drain(watch.notified)
    message = json.loads(notification["Message"])
    assert notification["Subject"] == f'ALARM: "orders-cpu-1" in {REGION}'
    assert (message["AlarmName"], message["OldStateValue"], message["NewStateValue"]) == (
        "orders-cpu-1",
        "OK",
        "ALARM",
    )
    assert message["Trigger"]["MetricName"] == "CpuUser"
    [event] = watch.drain(watch.evented)
    # moto's SQS target drops the envelope's "account"; the rest is what CloudWatch sends.
    parsed = EventParser(AlarmStateChange)({**event, "account": "123456789012"})
    assert (event["source"], event["detail-type"]) == (
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
    )
    assert parsed.detail.alarm_name == "orders-cpu-1"
    assert parsed.detail.state.value == "ALARM"
    assert parsed.detail.previous_state.value == "OK"
    msk_emulator.tick()
    assert watch.drain(watch.notified) == []
    assert watch.drain(watch.evented) == []


def test_a_muted_alarm_changes_state_and_sends_its_event_but_notifies_nobody(
    watch, orders, msk_emulator
):
    watch.cpu_alarm()
    watch.cloudwatch.disable_alarm_actions(AlarmNames=["orders-cpu-1"])
    msk_emulator.set_cluster_health(orders, cpu_user=80)

    msk_emulator.tick()

    [alarm] = watch.cloudwatch.describe_alarms(AlarmNames=["orders-cpu-1"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    assert watch.drain(watch.notified) == []
    assert len(watch.drain(watch.evented)) == 1
    # Unmuted, the next transition (back to OK) notifies again.
    watch.cloudwatch.enable_alarm_actions(AlarmNames=["orders-cpu-1"])
    msk_emulator.set_cluster_health(orders, cpu_user=20)
    msk_emulator.tick()
    [notification] = watch.drain(watch.notified)
    assert json.loads(notification["Message"])["NewStateValue"] == "OK"


def test_clock_advances_do_not_evaluate_alarms_without_a_ticker(watch, orders, msk_emulator):
    watch.cpu_alarm()
    msk_emulator.set_cluster_health(orders, cpu_user=80)

    msk_emulator.clock.advance(120)

    [alarm] = watch.cloudwatch.describe_alarms(AlarmNames=["orders-cpu-1"])["MetricAlarms"]
    assert alarm["StateValue"] == "OK"
