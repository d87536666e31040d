"""The event factories build what AWS delivers: every event passes the core's parsers with the
values it was built from."""

from datetime import UTC, datetime

from msk_autopilot.events import (
    AlarmStateChange,
    EventParser,
    ParameterStoreChange,
    ScheduledEvent,
    SecretRotationStep,
)
from msk_autopilot_local.emulator.events import (
    alarm_state_change,
    metric_stat_entry,
    parameter_store_change,
    scheduled_event,
    secret_rotation_step,
)

AT = datetime(2026, 11, 24, 10, 15, 0, 112_000, tzinfo=UTC)
ACCOUNT, REGION = "123456789012", "eu-west-1"


def test_an_alarm_state_change():
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:disk-orders-broker-2"
    raw = alarm_state_change(
        alarm_arn=arn,
        state="ALARM",
        time=AT,
        metrics=[
            metric_stat_entry(
                namespace="AWS/Kafka",
                metric_name="KafkaDataLogsDiskUsed",
                dimensions={"Cluster Name": "orders", "Broker ID": "2"},
                period=300,
                statistic="Maximum",
            )
        ],
        description="disk of broker 2",
        reason="Threshold Crossed",
        reason_data={"recentDatapoints": [72.4]},
    )

    event = EventParser(AlarmStateChange)(raw)

    assert (event.account, event.region, event.alarm_arn) == (ACCOUNT, REGION, arn)
    assert event.detail.alarm_name == "disk-orders-broker-2"
    assert event.detail.state.value == "ALARM"
    assert event.detail.state.timestamp == "2026-11-24T10:15:00.112+0000"
    assert event.detail.state.reason_data == '{"recentDatapoints": [72.4]}'
    assert event.detail.previous_state is not None
    assert event.detail.previous_state.value == "OK"
    assert event.detail.configuration.description == "disk of broker 2"
    stat = event.detail.configuration.metrics[0].metric_stat
    assert stat is not None
    assert (stat.metric.name, stat.period, stat.stat) == ("KafkaDataLogsDiskUsed", 300, "Maximum")
    assert event.time == AT.replace(microsecond=0)


def test_events_get_their_own_ids():
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/sweep"
    assert (
        scheduled_event(rule_arn=arn, time=AT)["id"] != scheduled_event(rule_arn=arn, time=AT)["id"]
    )


def test_a_scheduled_event():
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/sweep"

    event = EventParser(ScheduledEvent)(scheduled_event(rule_arn=arn, time=AT))

    assert (event.account, event.region, event.resources) == (ACCOUNT, REGION, [arn])
    assert event.detail == {}


def test_a_parameter_store_change():
    name = "/msk-autopilot/configurations/orders"
    raw = parameter_store_change(name=name, time=AT, account=ACCOUNT, region=REGION)

    event = EventParser(ParameterStoreChange)(raw)

    assert (event.detail.name, event.detail.operation, event.detail.type) == (
        name,
        "Update",
        "String",
    )
    assert event.resources == [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"]


def test_a_secret_rotation_step():
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:AmazonMSK_orders_app-Ab12Cd"

    step = EventParser(SecretRotationStep)(
        secret_rotation_step("testSecret", secret_id=secret, token="token-1")
    )

    assert (step.step, step.secret_id, step.client_request_token) == (
        "testSecret",
        secret,
        "token-1",
    )
