"""CloudWatch's alarm evaluation, which moto leaves out: moto keeps metric alarms and their data
but never moves an alarm out of its initial state.

``evaluate_alarms(account_id=..., region=...)`` plays one evaluation of the account's metric
alarms at the emulator's time, as CloudWatch does every period: for each alarm it takes the
latest ``EvaluationPeriods`` datapoints of the alarm's statistic per period (looking one period
further back, as CloudWatch does when the current period has no data yet), counts those
that breach ``Threshold`` under ``ComparisonOperator``, and the alarm is ALARM when at least
``DatapointsToAlarm`` (default: all of them) breach, OK otherwise. With no datapoint at all,
``TreatMissingData`` decides: ``missing`` (the default) gives INSUFFICIENT_DATA, ``ignore``
keeps the state, ``breaching`` and ``notBreaching`` count the missing periods as such. Each
change of state is applied to moto's alarm and returned as an ``AlarmTransition``, whose
``event()`` is the "CloudWatch Alarm State Change" EventBridge would deliver.

Only single-metric alarms are evaluated; metric-math and composite alarms are left as they are.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from .events import alarm_state_change, alarm_timestamp
from .state import emulator_state

__all__ = ["AlarmTransition", "evaluate_alarms"]

# ComparisonOperator -> (does a value breach?, how CloudWatch words it in the state reason)
_COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}


@dataclass(frozen=True)
class AlarmTransition:
    """One alarm's change of state at one evaluation, with what its event needs to say."""

    alarm_name: str
    alarm_arn: str
    previous_state: str
    previous_reason: str
    previous_time: datetime
    state: str
    reason: str
    reason_data: dict[str, Any]
    time: datetime
    description: str
    namespace: str
    metric_name: str
    dimensions: dict[str, str]
    period: int
    statistic: str
    threshold: float
    datapoints: list[float]  # the evaluated values, oldest first

    def event(self) -> dict[str, Any]:
        """The EventBridge event CloudWatch sends for this transition."""
        return alarm_state_change(
            alarm_arn=self.alarm_arn,
            state=self.state,
            time=self.time,
            namespace=self.namespace,
            metric_name=self.metric_name,
            dimensions=self.dimensions,
            period=self.period,
            statistic=self.statistic,
            description=self.description,
            reason=self.reason,
            reason_data=self.reason_data,
            previous_state=self.previous_state,
            previous_reason=self.previous_reason,
            previous_time=self.previous_time,
        )

    def to_dict(self) -> dict[str, Any]:
        """The transition as the control endpoint answers it, with its event."""
        return {
            "alarmName": self.alarm_name,
            "previousState": self.previous_state,
            "state": self.state,
            "reason": self.reason,
            "event": self.event(),
        }


def evaluate_alarms(
    *,
    region: str,
    account_id: str = DEFAULT_ACCOUNT_ID,
    name_prefix: str = "",
) -> list[AlarmTransition]:
    """Evaluate the metric alarms of `account_id`/`region` whose names start with
    `name_prefix`, at the emulator's time; set the state of those whose state changes and
    return their transitions, in alarm name order."""
    backend: CloudWatchBackend = cloudwatch_backends[account_id][region]
    moment = emulator_state.clock.now()
    transitions = []
    for alarm in sorted(backend.get_alarms_by_alarm_name_prefix(name_prefix), key=_name):
        if alarm.metric_data_queries or alarm.rule or alarm.comparison_operator not in _COMPARISONS:
            continue
        transition = _evaluate(backend, alarm, moment)
        if transition is not None:
            backend.set_alarm_state(
                transition.alarm_name,
                transition.reason,
                json.dumps(transition.reason_data),
                transition.state,
            )
            transitions.append(transition)
    return transitions


def _name(alarm: Any) -> str:
    return str(alarm.name)


def _evaluate(backend: CloudWatchBackend, alarm: Any, now: datetime) -> AlarmTransition | None:
    periods = int(alarm.evaluation_periods)
    needed = int(alarm.datapoints_to_alarm or periods)
    statistic = str(alarm.statistic)
    dimensions = {str(d.name): str(d.value) for d in alarm.dimensions}
    moto_now = now.astimezone(UTC).replace(tzinfo=None)  # moto keeps metric times naive, in UTC
    # The end is exclusive: one second more, and a datapoint stamped `now` counts.
    buckets = backend.get_metric_statistics(
        namespace=alarm.namespace,
        metric_name=alarm.metric_name,
        start_time=moto_now - timedelta(seconds=alarm.period * (periods + 1)),
        end_time=moto_now + timedelta(seconds=1),
        period=alarm.period,
        stats=[statistic],
        dimensions=[{"Name": name, "Value": value} for name, value in dimensions.items()],
    )
    values = [
        float(value)
        for bucket in buckets
        if (value := bucket.get_statistics_for_type(statistic)) is not None
    ][-periods:]
    breaches, wording = _COMPARISONS[alarm.comparison_operator]
    threshold = float(alarm.threshold)
    breaching = sum(breaches(value, threshold) for value in values)
    missing = periods - len(values)
    treat_missing = alarm.treat_missing_data or "missing"
    if not values and treat_missing in ("missing", "ignore"):
        if treat_missing == "ignore":
            return None
        state = "INSUFFICIENT_DATA"
        reason = f"Insufficient Data: no datapoints were received for {periods} period(s)"
    else:
        breaching += missing if treat_missing == "breaching" else 0
        state = "ALARM" if breaching >= needed else "OK"
        relation = wording if state == "ALARM" else f"not {wording}"
        shown = ", ".join(f"{value:.1f}" for value in values)
        counted = breaching if state == "ALARM" else len(values) - breaching
        reason = (
            f"Threshold Crossed: {counted} out of the last {len(values)} datapoints [{shown}] "
            f"was {relation} the threshold ({threshold:.1f})"
        )
    if state == alarm.state_value:
        return None
    return AlarmTransition(
        alarm_name=str(alarm.name),
        alarm_arn=str(alarm.alarm_arn),
        previous_state=str(alarm.state_value),
        previous_reason=str(alarm.state_reason),
        previous_time=alarm.state_updated_timestamp,
        state=state,
        reason=reason,
        reason_data={
            "version": "1.0",
            "queryDate": alarm_timestamp(now),
            "statistic": statistic,
            "period": alarm.period,
            "recentDatapoints": [round(value, 2) for value in values],
            "threshold": threshold,
        },
        time=now,
        description=str(alarm.description or ""),
        namespace=str(alarm.namespace),
        metric_name=str(alarm.metric_name),
        dimensions=dimensions,
        period=int(alarm.period),
        statistic=statistic,
        threshold=threshold,
        datapoints=values,
    )
