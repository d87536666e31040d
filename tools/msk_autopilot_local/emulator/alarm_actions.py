"""What CloudWatch does after an alarm changes state, which moto leaves out: the alarm's actions
and the EventBridge event.

``evaluate_and_act()`` evaluates the metric alarms of every account and Region (``alarms``) and,
for each transition:

- publishes CloudWatch's alarm notification to every SNS topic among the actions of the new
  state (AlarmActions, OKActions, InsufficientDataActions), only while the alarm's
  ActionsEnabled is true (DisableAlarmActions mutes an alarm, EnableAlarmActions unmutes it;
  both are moto's); other kinds of action (Auto Scaling, EC2, Lambda, ...) are not played;
- puts the "CloudWatch Alarm State Change" event (source ``aws.cloudwatch``) on the account and
  Region's default EventBridge bus, whatever ActionsEnabled says, as CloudWatch does.
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.events.models import events_backends
from moto.sns.models import sns_backends

from .alarms import AlarmTransition, MetricStatQuery, evaluate_alarms
from .events import alarm_timestamp
from .state import emulator_state

__all__ = ["evaluate_and_act", "notification"]

_ACTIONS_OF_STATE = {
    "ALARM": "alarm_actions",
    "OK": "ok_actions",
    "INSUFFICIENT_DATA": "insufficient_data_actions",
}
_SUBJECT_LIMIT = 100  # SNS refuses longer subjects


def evaluate_and_act() -> list[AlarmTransition]:
    """One evaluation of every account and Region's metric alarms, with the transitions'
    actions and events; returns the transitions."""
    with emulator_state.lock:
        transitions = []
        for account_id, account_backends in list(cloudwatch_backends.items()):
            for region in list(account_backends.keys()):
                if not account_backends[region].alarms:
                    continue
                changed = evaluate_alarms(region=region, account_id=account_id)
                act(changed, account_id=account_id, region=region)
                transitions += changed
        return transitions


def act(transitions: list[AlarmTransition], *, account_id: str, region: str) -> None:
    """Run the SNS actions and put the EventBridge events of these transitions."""
    backend = cloudwatch_backends[account_id][region]
    for transition in transitions:
        alarm = backend.alarms.get(transition.alarm_name)
        if alarm is not None and alarm.actions_enabled:
            message, subject = notification(transition, alarm, account_id=account_id, region=region)
            for topic_arn in getattr(alarm, _ACTIONS_OF_STATE[transition.state]):
                if topic_arn.startswith("arn:") and topic_arn.split(":")[2] == "sns":
                    sns = sns_backends[topic_arn.split(":")[4]][topic_arn.split(":")[3]]
                    sns.publish(message=message, arn=topic_arn, subject=subject)
        event = transition.event()
        events_backends[account_id][region].put_events(
            [
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event["resources"],
                    "Time": transition.time.timestamp(),  # moto's PutEvents takes epoch seconds
                }
            ]
        )


def notification(
    transition: AlarmTransition, alarm: Any, *, account_id: str, region: str
) -> tuple[str, str]:
    """The message and subject CloudWatch publishes to an alarm's SNS topics."""
    message = {
        "AlarmName": transition.alarm_name,
        "AlarmDescription": transition.description or None,
        "AWSAccountId": account_id,
        "NewStateValue": transition.state,
        "NewStateReason": transition.reason,
        "StateChangeTime": alarm_timestamp(transition.time),
        "Region": region,
        "AlarmArn": transition.alarm_arn,
        "OldStateValue": transition.previous_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": _trigger(transition, alarm),
    }
    subject = f'{transition.state}: "{transition.alarm_name}" in {region}'
    return json.dumps(message), subject[:_SUBJECT_LIMIT]


def _trigger(transition: AlarmTransition, alarm: Any) -> dict[str, Any]:
    """What the alarm watches and how, as the notification's Trigger says it: a single-metric
    alarm's metric, or a metric-math alarm's queries."""
    evaluation = {
        "Period": transition.period,
        "EvaluationPeriods": int(alarm.evaluation_periods),
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": transition.threshold,
        "TreatMissingData": alarm.treat_missing_data or "missing",
    }
    match transition.metrics:
        case (MetricStatQuery(id=None) as metric,):  # a single-metric alarm
            return {
                "MetricName": metric.metric_name,
                "Namespace": metric.namespace,
                "StatisticType": "Statistic",
                "Statistic": metric.statistic.upper(),
                "Unit": alarm.unit,
                "Dimensions": [
                    {"value": value, "name": name} for name, value in metric.dimensions.items()
                ],
                **evaluation,
            }
        case queries:
            return {**evaluation, "Metrics": [query.trigger_entry() for query in queries]}
