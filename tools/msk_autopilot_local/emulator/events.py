"""The events AWS delivers to the functions, built as AWS builds them, for local runs and tests.

Each factory returns the JSON document (a dict) a Lambda function receives: EventBridge's
envelope (``version``, ``id``, ``detail-type``, ``source``, ``account``, ``time``, ``region``,
``resources``, ``detail``) for CloudWatch alarm state changes, scheduled rules and Parameter
Store changes, and Secrets Manager's direct invocation for a rotation step. The shapes follow
the samples in ``events/``; the core's parsers (``msk_autopilot.events``) accept every one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

__all__ = [
    "alarm_state_change",
    "alarm_timestamp",
    "disk_alarm_state_change",
    "event_time",
    "metric_stat_entry",
    "parameter_store_change",
    "scheduled_event",
    "secret_rotation_step",
]


def event_time(moment: datetime) -> str:
    """EventBridge's `time`: UTC to the second."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def alarm_timestamp(moment: datetime) -> str:
    """CloudWatch's alarm timestamps (state, reasonData's queryDate): milliseconds, +0000."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _envelope(
    detail_type: str, source: str, *, account: str, region: str, time: datetime
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": event_time(time),
        "region": region,
    }


def metric_stat_entry(
    *,
    namespace: str,
    metric_name: str,
    dimensions: Mapping[str, str],
    period: int,
    statistic: str,
    query_id: str | None = None,
    return_data: bool = True,
) -> dict[str, Any]:
    """One metric of an alarm as its state-change event lists it; a single-metric alarm's has
    no id of its own, so CloudWatch makes one up (as here, without `query_id`)."""
    return {
        "id": query_id or uuid.uuid4().hex[:12],
        "metricStat": {
            "metric": {"namespace": namespace, "name": metric_name, "dimensions": dict(dimensions)},
            "period": period,
            "stat": statistic,
        },
        "returnData": return_data,
    }


def alarm_state_change(
    *,
    alarm_arn: str,
    state: str,
    time: datetime,
    metrics: Sequence[Mapping[str, Any]],
    description: str = "",
    reason: str = "",
    reason_data: Mapping[str, Any] | None = None,
    previous_state: str = "OK",
    previous_reason: str = "",
    previous_time: datetime | None = None,
) -> dict[str, Any]:
    """The "CloudWatch Alarm State Change" event of an alarm entering `state` at `time`; its
    `metrics` are the configuration's (``metric_stat_entry`` makes a metric's, a metric-math
    alarm's expression is ``{"id", "expression", "label", "returnData"}``); the alarm's name,
    account and Region are read from `alarm_arn`."""
    _, _, _, region, account, _, alarm_name = alarm_arn.split(":", 6)
    new_state: dict[str, Any] = {
        "value": state,
        "reason": reason,
        "timestamp": alarm_timestamp(time),
    }
    if reason_data is not None:
        new_state["reasonData"] = json.dumps(reason_data)
    return {
        **_envelope(
            "CloudWatch Alarm State Change",
            "aws.cloudwatch",
            account=account,
            region=region,
            time=time,
        ),
        "resources": [alarm_arn],
        "detail": {
            "alarmName": alarm_name,
            "state": new_state,
            "previousState": {
                "value": previous_state,
                "reason": previous_reason,
                "timestamp": alarm_timestamp(previous_time or time),
            },
            "configuration": {
                "description": description,
                "metrics": [dict(metric) for metric in metrics],
            },
        },
    }


def disk_alarm_state_change(
    *,
    cluster_arn: str,
    cluster_name: str,
    broker: str,
    time: datetime,
    state: str = "ALARM",
    prefix: str = "msk-autopilot-disk-",
) -> dict[str, Any]:
    """The state change of the storage scaler's disk alarm of one broker, as it creates it
    (msk_autopilot.health.alarms): name, description and metric."""
    region, account = cluster_arn.split(":")[3:5]
    return alarm_state_change(
        alarm_arn=f"arn:aws:cloudwatch:{region}:{account}:alarm:{prefix}{cluster_name}-broker-{broker}",
        state=state,
        time=time,
        metrics=[
            metric_stat_entry(
                namespace="AWS/Kafka",
                metric_name="KafkaDataLogsDiskUsed",
                dimensions={"Cluster Name": cluster_name, "Broker ID": broker},
                period=300,
                statistic="Maximum",
            )
        ],
        description=(
            f"msk-autopilot disk alarm: KafkaDataLogsDiskUsed of broker {broker} of "
            f"{cluster_name} ({cluster_arn})"
        ),
    )


def scheduled_event(
    *, rule_arn: str, time: datetime, account: str | None = None, region: str | None = None
) -> dict[str, Any]:
    """What an EventBridge schedule rule delivers at `time`; account and Region default to the
    rule's."""
    _, _, _, rule_region, rule_account, _ = rule_arn.split(":", 5)
    return {
        **_envelope(
            "Scheduled Event",
            "aws.events",
            account=account or rule_account,
            region=region or rule_region,
            time=time,
        ),
        "resources": [rule_arn],
        "detail": {},
    }


def parameter_store_change(
    *,
    name: str,
    time: datetime,
    account: str,
    region: str,
    operation: str = "Update",
    parameter_type: str = "String",
    description: str = "",
) -> dict[str, Any]:
    """What Parameter Store sends to EventBridge when parameter `name` (a path) changes."""
    return {
        **_envelope("Parameter Store Change", "aws.ssm", account=account, region=region, time=time),
        "resources": [f"arn:aws:ssm:{region}:{account}:parameter{name}"],
        "detail": {
            "name": name,
            "type": parameter_type,
            "operation": operation,
            "description": description,
        },
    }


def secret_rotation_step(step: str, *, secret_id: str, token: str) -> dict[str, str]:
    """How Secrets Manager invokes a rotation function for one step of rotation `token`."""
    return {"Step": step, "SecretId": secret_id, "ClientRequestToken": token}
