"""One CloudWatch dashboard per opted-in cluster, built from the alarm catalogue (pure).

Per cluster rather than one for the fleet: each sweep writes a dashboard whole (PutDashboard
replaces the body), so one per cluster needs no read-modify-write that concurrent sweeps could
interleave, stays far below the widget limit on large fleets, and goes with its cluster by name.
The first widget carries our marker and the cluster's ARN: only a dashboard with it is deleted.
"""

from __future__ import annotations

import json
from typing import Any

from msk_autopilot.health.alarms import (
    ALARMS,
    AlarmThresholds,
    AlarmUnit,
    BrokerKind,
    Scope,
    broker_kind,
)
from msk_autopilot.health.broker_logs import LOG_FILTERS, log_namespace
from msk_autopilot.msk import ClusterSnapshot
from msk_autopilot.storage.metrics import KAFKA_NAMESPACE

__all__ = ["DASHBOARD_MARKER", "dashboard_body", "dashboard_name"]

DASHBOARD_MARKER = "msk-autopilot health dashboard"
_WIDTH, _HEIGHT = 12, 6


def dashboard_name(prefix: str, cluster_name: str) -> str:
    return f"{prefix}{cluster_name}"


def _unit_metrics(unit: AlarmUnit, cluster: ClusterSnapshot) -> list[list[Any]]:
    rows: list[list[Any]] = []
    brokers: list[str | None] = list(cluster.broker_ids) if unit.scope is Scope.BROKER else [None]
    for broker in brokers:
        dimensions = ["Cluster Name", cluster.cluster_name]
        if broker is not None:
            dimensions += ["Broker ID", broker]
        ids = []
        for index, metric in enumerate(unit.metrics, start=1):
            metric_id = f"m{index}b{broker or 0}"
            ids.append(metric_id)
            visible = unit.expression is None
            rows.append(
                [
                    KAFKA_NAMESPACE,
                    metric,
                    *dimensions,
                    {"id": metric_id, "visible": visible, "stat": unit.statistic},
                ]
            )
        if unit.expression is not None:
            expression = unit.expression
            for index, metric_id in enumerate(ids, start=1):
                expression = expression.replace(f"m{index}", metric_id)
            label = unit.id if broker is None else f"broker {broker}"
            rows.append([{"expression": expression, "label": label, "id": f"e{broker or 0}"}])
    return rows


def _widget(title: str, metrics: list[list[Any]], period: int, region: str) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": _WIDTH,
        "height": _HEIGHT,
        "properties": {
            "title": title,
            "region": region,
            "metrics": metrics,
            "period": period,
            "view": "timeSeries",
            "stacked": False,
        },
    }


def _serverless_widgets(cluster: ClusterSnapshot, region: str) -> list[dict[str, Any]]:
    """Serverless clusters publish per-topic metrics only: a search finds every topic's."""
    widgets = []
    for metric in ("BytesInPerSec", "BytesOutPerSec"):
        search = (
            f'SEARCH(\'{{{KAFKA_NAMESPACE},"Cluster Name",Topic}} '
            f'"Cluster Name"="{cluster.cluster_name}" MetricName="{metric}"\', \'Sum\', 300)'
        )
        widgets.append(
            _widget(f"{metric} per topic", [[{"expression": search, "id": "e1"}]], 300, region)
        )
    return widgets


def dashboard_body(
    cluster: ClusterSnapshot, thresholds: AlarmThresholds, *, region: str, log_group: str | None
) -> str:
    """The dashboard's JSON body: one widget per alarm unit that applies, the broker log counts
    when the cluster delivers logs, and a title that marks the dashboard as ours."""
    kind = broker_kind(cluster)
    widgets: list[dict[str, Any]] = [
        {
            "type": "text",
            "width": 24,
            "height": 2,
            "properties": {
                "markdown": f"# {cluster.cluster_name}\n{DASHBOARD_MARKER} ({cluster.cluster_arn})"
            },
        }
    ]
    if kind is BrokerKind.SERVERLESS:
        widgets += _serverless_widgets(cluster, region)
    for unit in ALARMS:
        if kind not in unit.kinds:
            continue
        widget = _widget(unit.summary, _unit_metrics(unit, cluster), unit.period_seconds, region)
        threshold = unit.threshold(thresholds, cluster)
        if threshold is not None:
            widget["properties"]["annotations"] = {
                "horizontal": [{"label": "alarm", "value": threshold}]
            }
        widgets.append(widget)
    if log_group is not None:
        namespace = log_namespace(cluster.cluster_name)
        counts = [[namespace, unit.metric, {"stat": "Sum"}] for unit in LOG_FILTERS]
        widgets.append(_widget(f"Broker log lines ({log_group})", counts, 300, region))
    return json.dumps({"widgets": widgets}, sort_keys=True)
