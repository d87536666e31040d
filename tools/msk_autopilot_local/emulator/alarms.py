"""CloudWatch's alarm evaluation, which moto leaves out: moto keeps metric alarms and their data
but never moves an alarm out of its initial state.

``evaluate_alarms(account_id=..., region=...)`` plays one evaluation of the account's metric
alarms at the emulator's time, as CloudWatch does every period: for each alarm it takes the
latest ``EvaluationPeriods`` values of what the alarm watches per period (looking one period
further back, as CloudWatch does when the current period has no data yet), counts those
that breach ``Threshold`` under ``ComparisonOperator``, and the alarm is ALARM when at least
``DatapointsToAlarm`` (default: all of them) breach, OK otherwise. With no value at all,
``TreatMissingData`` decides: ``missing`` (the default) gives INSUFFICIENT_DATA, ``ignore``
keeps the state, ``breaching`` and ``notBreaching`` count the missing periods as such. Each
change of state is applied to moto's alarm and returned as an ``AlarmTransition``, whose
``event()`` is the "CloudWatch Alarm State Change" EventBridge would deliver.

What an alarm watches is its metric's statistic per period or, for a metric-math alarm
(``Metrics=[...]``), the query with ``ReturnData``: each ``MetricStat`` query is read per period
(periods end at the evaluation's time, so every query's periods line up) and expressions are
computed over them (``metric_math``: arithmetic, ``ABS``, ``MAX``/``MIN``/``SUM``/``AVG`` of a
list). An alarm whose expression is outside that subset is left as it is, with the reason
logged; composite alarms are left as they are.
"""

from __future__ import annotations

import json
import logging
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, Statistics, cloudwatch_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from .events import alarm_state_change, alarm_timestamp, metric_stat_entry
from .metric_index import INDEXED_NAMESPACE, metric_series
from .metric_math import MathExpression, Series, UnsupportedExpression
from .state import emulator_state

__all__ = ["AlarmTransition", "ExpressionQuery", "MetricStatQuery", "evaluate_alarms"]

_log = logging.getLogger(__name__)

# ComparisonOperator -> (does a value breach?, how CloudWatch words it in the state reason)
_COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}


@dataclass(frozen=True)
class MetricStatQuery:
    """A metric's statistic per period: a single-metric alarm's metric (no id: CloudWatch
    makes one up for its events) or one of a metric-math alarm's queries."""

    id: str | None
    namespace: str
    metric_name: str
    dimensions: dict[str, str]
    period: int
    statistic: str
    return_data: bool = True

    def event_entry(self) -> dict[str, Any]:
        """The query as the state-change event's configuration lists it."""
        return metric_stat_entry(
            namespace=self.namespace,
            metric_name=self.metric_name,
            dimensions=self.dimensions,
            period=self.period,
            statistic=self.statistic,
            query_id=self.id,
            return_data=self.return_data,
        )

    def trigger_entry(self) -> dict[str, Any]:
        """The query as the SNS notification's Trigger lists a metric-math alarm's."""
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Dimensions": [
                        {"value": value, "name": name} for name, value in self.dimensions.items()
                    ],
                    "MetricName": self.metric_name,
                    "Namespace": self.namespace,
                },
                "Period": self.period,
                "Stat": self.statistic,
            },
            "ReturnData": self.return_data,
        }


@dataclass(frozen=True)
class ExpressionQuery:
    """A metric-math alarm's expression over its other queries."""

    id: str
    expression: str
    label: str | None
    return_data: bool

    def event_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self.id, "expression": self.expression}
        if self.label is not None:
            entry["label"] = self.label
        return {**entry, "returnData": self.return_data}

    def trigger_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"Expression": self.expression, "Id": self.id}
        if self.label is not None:
            entry["Label"] = self.label
        return {**entry, "ReturnData": self.return_data}


type AlarmQuery = MetricStatQuery | ExpressionQuery


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
    metrics: tuple[AlarmQuery, ...]  # one MetricStatQuery for a single-metric alarm
    period: int
    threshold: float
    datapoints: list[float]  # the evaluated values, oldest first

    def event(self) -> dict[str, Any]:
        """The EventBridge event CloudWatch sends for this transition."""
        return alarm_state_change(
            alarm_arn=self.alarm_arn,
            state=self.state,
            time=self.time,
            metrics=[query.event_entry() for query in self.metrics],
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
        if alarm.rule or alarm.comparison_operator not in _COMPARISONS:
            continue
        try:
            transition = _evaluate(backend, alarm, moment)
        except UnsupportedExpression as error:
            _log.info("Alarm %s is not evaluated: %s.", alarm.name, error)
            continue
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


def _queries(alarm: Any) -> tuple[AlarmQuery, ...]:
    if not alarm.metric_data_queries:
        return (
            MetricStatQuery(
                id=None,
                namespace=str(alarm.namespace),
                metric_name=str(alarm.metric_name),
                dimensions={str(d.name): str(d.value) for d in alarm.dimensions},
                period=int(alarm.period),
                statistic=str(alarm.statistic),
            ),
        )
    queries: list[AlarmQuery] = []
    for query in alarm.metric_data_queries:
        returns = query.return_data is not False  # CloudWatch's default is true
        if query.metric_stat is not None:
            stat = query.metric_stat
            queries.append(
                MetricStatQuery(
                    id=str(query.id),
                    namespace=str(stat.metric.namespace),
                    metric_name=str(stat.metric.metric_name),
                    dimensions={str(d.name): str(d.value) for d in stat.metric.dimensions},
                    period=int(stat.period),
                    statistic=str(stat.stat),
                    return_data=returns,
                )
            )
        elif query.expression:
            label = None if query.label is None else str(query.label)
            queries.append(ExpressionQuery(str(query.id), str(query.expression), label, returns))
        else:
            raise UnsupportedExpression(f"query {query.id} has neither a metric nor an expression")
    return tuple(queries)


def _watched(
    backend: CloudWatchBackend, queries: tuple[AlarmQuery, ...], starts: list[datetime]
) -> Series:
    """The series of the query the alarm watches (the one with ReturnData), per period start."""
    by_id = {query.id: query for query in queries if query.id is not None}
    returned = [query for query in queries if query.return_data]
    if len(returned) != 1:
        raise UnsupportedExpression(f"{len(returned)} queries return data; an alarm needs one")
    expressions = {
        query.id: MathExpression(query.expression)
        for query in queries
        if isinstance(query, ExpressionQuery)
    }
    for expression in expressions.values():
        if unknown := sorted(expression.ids - by_id.keys()):
            raise UnsupportedExpression(f"{expression.text!r} reads {unknown[0]}, no query of it")
    resolving: list[str] = []

    def series(query: AlarmQuery) -> Series:
        if isinstance(query, MetricStatQuery):
            return _read(backend, query, starts)
        if query.id in resolving:
            raise UnsupportedExpression(f"{query.id} refers to itself")
        resolving.append(query.id)
        value = expressions[query.id].evaluate(lambda query_id: series(by_id[query_id]))
        resolving.remove(query.id)
        return value

    return series(returned[0])


def _read(backend: CloudWatchBackend, query: MetricStatQuery, starts: list[datetime]) -> Series:
    """The query's statistic in each period that has data (CloudWatch matches every dimension)."""
    period = timedelta(seconds=query.period)
    first, end = starts[0], starts[-1] + period
    dimensions = set(query.dimensions.items())
    periods: dict[datetime, list[Any]] = {}
    if query.namespace == INDEXED_NAMESPACE:  # the emulator's MSK metrics: read by index
        candidates = metric_series(
            backend, query.namespace, query.metric_name, dimensions, start=first, end=end
        )
    else:
        candidates = backend.get_all_metrics()
    for datum in candidates:
        when = _naive(datum.timestamp)
        if (
            datum.namespace == query.namespace
            and datum.name == query.metric_name
            and first <= when < end
            and {(d.name, d.value) for d in datum.dimensions} == dimensions
        ):
            periods.setdefault(starts[int((when - first) / period)], []).append(datum)
    series: Series = {}
    for start in sorted(periods):
        statistics = Statistics([query.statistic], start)
        statistics.metric_data = periods[start]
        value = statistics.get_statistics_for_type(query.statistic)
        if value is not None:
            series[start] = float(value)
    return series


def _naive(moment: datetime) -> datetime:
    """A time as moto keeps metric times: naive, in UTC."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _evaluate(backend: CloudWatchBackend, alarm: Any, now: datetime) -> AlarmTransition | None:
    periods = int(alarm.evaluation_periods)
    needed = int(alarm.datapoints_to_alarm or periods)
    queries = _queries(alarm)
    lengths = {query.period for query in queries if isinstance(query, MetricStatQuery)}
    if len(lengths) != 1:
        raise UnsupportedExpression("the alarm's metrics do not share one period")
    period = lengths.pop()
    # Periods end at the evaluation, one second on: a datapoint stamped `now` counts.
    end = _naive(now) + timedelta(seconds=1)
    starts = [end - timedelta(seconds=period * back) for back in range(periods + 1, 0, -1)]
    watched = _watched(backend, queries, starts)
    values = [watched[start] for start in starts if start in watched][-periods:]
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
    reason_data: dict[str, Any] = {"version": "1.0", "queryDate": alarm_timestamp(now)}
    if not alarm.metric_data_queries:  # a metric-math alarm's has no single statistic
        reason_data["statistic"] = str(alarm.statistic)
    reason_data |= {
        "period": period,
        "recentDatapoints": [round(value, 2) for value in values],
        "threshold": threshold,
    }
    return AlarmTransition(
        alarm_name=str(alarm.name),
        alarm_arn=str(alarm.alarm_arn),
        previous_state=str(alarm.state_value),
        previous_reason=str(alarm.state_reason),
        previous_time=alarm.state_updated_timestamp,
        state=state,
        reason=reason,
        reason_data=reason_data,
        time=now,
        description=str(alarm.description or ""),
        metrics=queries,
        period=period,
        threshold=threshold,
        datapoints=values,
    )
