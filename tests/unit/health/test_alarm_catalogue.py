"""The declared alarm set, broker-log watch and dashboard per cluster (pure), and the README's
tables kept in step with them."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from msk_autopilot.health.alarms import (
    ALARMS,
    DISK_ALARM_MARKER,
    HEALTH_ALARM_MARKER,
    AlarmThresholds,
    AlarmUnit,
    BrokerKind,
    DiskTrigger,
    broker_kind,
    cluster_arn_of_alarm,
    disk_trigger_requests,
    health_alarm_requests,
)
from msk_autopilot.health.broker_logs import (
    LOG_FILTERS,
    LOG_QUERIES,
    LogFilter,
    log_alarm_requests,
    log_filter_requests,
    log_query_requests,
)
from msk_autopilot.health.dashboard import DASHBOARD_MARKER, dashboard_body
from msk_autopilot.msk import ClusterSnapshot

ROOT = Path(__file__).resolve().parents[3]
ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/5c080f22-03e3-5d8f-b9c5-bf8d22cd6cce-8"
TOPIC = "arn:aws:sns:us-east-1:123456789012:msk-autopilot-notifications"
PREFIX = "stack-health-"


def cluster(instance_type: str = "kafka.m5.large", *, iam: bool = False, brokers: int = 3):
    return ClusterSnapshot.from_api(
        {
            "ClusterArn": ARN,
            "ClusterName": "orders",
            "State": "ACTIVE",
            "Provisioned": {
                "BrokerNodeGroupInfo": {"InstanceType": instance_type},
                "NumberOfBrokerNodes": brokers,
                "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": iam}}},
                "LoggingInfo": {
                    "BrokerLogs": {"CloudWatchLogs": {"Enabled": True, "LogGroup": "/msk/orders"}}
                },
            },
        }
    )


SERVERLESS = ClusterSnapshot.from_api(
    {"ClusterArn": ARN, "ClusterName": "orders", "State": "ACTIVE", "ClusterType": "SERVERLESS"}
)


def requests(snapshot: ClusterSnapshot, **thresholds: Any) -> dict[str, dict[str, Any]]:
    return health_alarm_requests(
        snapshot, AlarmThresholds(**thresholds), prefix=PREFIX, topic_arn=TOPIC
    )


def ids(wanted: dict[str, dict[str, Any]]) -> set[str]:
    return {re.sub(r"^broker-\d+-", "", name.removeprefix(f"{PREFIX}orders-")) for name in wanted}


def test_alarm_ids_are_unique_and_every_unit_says_why_and_where_from():
    assert len({unit.id for unit in ALARMS}) == len(ALARMS)
    for unit in ALARMS:
        assert unit.why
        assert unit.source
        assert unit.kinds
        assert BrokerKind.SERVERLESS not in unit.kinds  # Serverless publishes no broker metric
        if len(unit.metrics) > 1:
            assert unit.expression, unit.id


def test_a_standard_cluster_gets_every_standard_unit_per_broker_or_per_cluster():
    wanted = requests(cluster(iam=True))
    per_broker = [u for u in ALARMS if BrokerKind.STANDARD in u.kinds and u.scope.name == "BROKER"]
    per_cluster = [
        u for u in ALARMS if BrokerKind.STANDARD in u.kinds and u.scope.name == "CLUSTER"
    ]
    assert len(wanted) == 3 * len(per_broker) + len(per_cluster)
    assert f"{PREFIX}orders-broker-3-heap" in wanted
    assert f"{PREFIX}orders-offline-partitions" in wanted
    assert not [n for n in wanted if "throttle" in n]  # Express only
    # Standard throughput alarms at the size's guidance (m5.large: 4.8 MB/s in, twice out):
    # they wake the broker scaler where its policy sizes up
    assert wanted[f"{PREFIX}orders-broker-1-bytes-in"]["Threshold"] == 4_800_000.0
    assert wanted[f"{PREFIX}orders-broker-1-bytes-out"]["Threshold"] == 9_600_000.0
    request = wanted[f"{PREFIX}orders-broker-2-disk"]
    assert request["Threshold"] == 85.0
    assert request["Dimensions"] == [
        {"Name": "Cluster Name", "Value": "orders"},
        {"Name": "Broker ID", "Value": "2"},
    ]
    assert request["AlarmActions"] == request["OKActions"] == [TOPIC]
    assert request["AlarmDescription"].startswith(HEALTH_ALARM_MARKER)
    assert cluster_arn_of_alarm(request["AlarmDescription"]) == ARN


def test_thresholds_come_from_settings():
    wanted = requests(
        cluster(iam=True), cpu_percent=70, heap_percent=55, connections_per_broker=2000
    )
    assert wanted[f"{PREFIX}orders-broker-1-cpu"]["Threshold"] == 70.0
    assert wanted[f"{PREFIX}orders-broker-1-heap"]["Threshold"] == 55.0
    assert wanted[f"{PREFIX}orders-broker-1-connections"]["Threshold"] == 2000.0


def test_cpu_is_user_plus_system_and_the_controller_count_is_summed_over_the_cluster():
    wanted = requests(cluster())
    cpu = wanted[f"{PREFIX}orders-broker-1-cpu"]
    assert [m.get("Expression") for m in cpu["Metrics"]] == [None, None, "m1 + m2"]
    assert [m["ReturnData"] for m in cpu["Metrics"]] == [False, False, True]
    controller = wanted[f"{PREFIX}orders-active-controller"]
    stat = controller["Metrics"][0]["MetricStat"]
    assert stat["Stat"] == "Sum"
    assert stat["Period"] == 60
    assert stat["Metric"]["Dimensions"] == [{"Name": "Cluster Name", "Value": "orders"}]
    assert controller["Metrics"][1]["Expression"] == "ABS(m1 - 1)"
    assert controller["ComparisonOperator"] == "GreaterThanThreshold"
    assert controller["Threshold"] == 0


@pytest.mark.parametrize(
    ("instance_type", "recommended"),
    [("kafka.t3.small", 300), ("kafka.m5.large", 1000), ("kafka.m7g.2xlarge", 2000)],
)
def test_the_partition_alarm_is_the_sizes_recommendation(instance_type, recommended):
    wanted = requests(cluster(instance_type))
    assert wanted[f"{PREFIX}orders-broker-1-partitions"]["Threshold"] == recommended


def test_connections_are_watched_only_where_iam_limits_them():
    assert "connections" not in ids(requests(cluster(iam=False)))
    assert "connections" in ids(requests(cluster(iam=True)))


def test_express_gets_throttling_and_quota_alarms_and_nothing_it_does_not_publish():
    express = cluster("express.m7g.xlarge")
    assert broker_kind(express) is BrokerKind.EXPRESS
    wanted = requests(express, express_throughput_percent=50)
    assert ids(wanted) == {
        "cpu",
        "under-min-isr",
        "active-controller",
        "produce-throttle",
        "fetch-throttle",
        "bytes-in",
        "bytes-out",
    }
    assert wanted[f"{PREFIX}orders-broker-1-bytes-in"]["Threshold"] == 15_600_000.0  # 31.2 / 2
    assert wanted[f"{PREFIX}orders-broker-1-bytes-out"]["Threshold"] == 31_200_000.0
    assert (
        disk_trigger_requests(
            express, DiskTrigger(prefix="d-", threshold_percent=75, evaluation_periods=1)
        )
        == {}
    )


def test_serverless_gets_no_alarm_but_a_dashboard_of_its_topics():
    assert broker_kind(SERVERLESS) is BrokerKind.SERVERLESS
    assert requests(SERVERLESS) == {}
    body = json.loads(
        dashboard_body(SERVERLESS, AlarmThresholds(), region="us-east-1", log_group=None)
    )
    searches = [w for w in body["widgets"] if "SEARCH(" in json.dumps(w)]
    assert len(searches) == 2


def test_disk_trigger_alarms_keep_the_scalers_names_marker_and_threshold():
    wanted = disk_trigger_requests(
        cluster(), DiskTrigger(prefix="stack-disk-", threshold_percent=75, evaluation_periods=2)
    )
    assert sorted(wanted) == [f"stack-disk-orders-broker-{b}" for b in (1, 2, 3)]
    request = wanted["stack-disk-orders-broker-2"]
    assert request["AlarmDescription"] == (
        f"{DISK_ALARM_MARKER}: KafkaDataLogsDiskUsed of broker 2 of orders ({ARN})"
    )
    assert request["Threshold"] == 75
    assert request["EvaluationPeriods"] == 2
    assert "AlarmActions" not in request  # EventBridge routes its state changes to the scaler


def test_descriptions_without_our_marker_name_no_cluster():
    assert cluster_arn_of_alarm(f"someone's alarm ({ARN})") is None
    assert cluster_arn_of_alarm(f"{DISK_ALARM_MARKER}: no arn") is None
    assert cluster_arn_of_alarm(None) is None


def test_broker_logs_get_one_filter_per_line_an_alarm_where_it_matters_and_queries():
    snapshot = cluster()
    filters = log_filter_requests(snapshot, "/msk/orders", prefix=PREFIX)
    assert len(filters) == len(LOG_FILTERS)
    assert {f["metricTransformations"][0]["metricNamespace"] for f in filters.values()} == {
        "msk-autopilot/BrokerLogs/orders"
    }
    alarms = log_alarm_requests(snapshot, prefix=PREFIX, topic_arn=TOPIC)
    assert {n.removeprefix(f"{PREFIX}orders-log-") for n in alarms} == {
        f.id for f in LOG_FILTERS if f.alarm_at is not None
    }
    assert all(a["TreatMissingData"] == "notBreaching" for a in alarms.values())
    queries = log_query_requests(snapshot, "/msk/orders", prefix=PREFIX)
    assert sorted(queries) == sorted(f"{PREFIX}orders/{q.id}" for q in LOG_QUERIES)


def test_the_dashboard_is_marked_and_shows_every_unit_that_applies():
    body = dashboard_body(cluster(iam=True), AlarmThresholds(), region="us-east-1", log_group="/g")
    widgets = json.loads(body)["widgets"]
    assert DASHBOARD_MARKER in widgets[0]["properties"]["markdown"]
    assert ARN in widgets[0]["properties"]["markdown"]
    titles = [w["properties"].get("title") for w in widgets[1:]]
    standard = [u.summary for u in ALARMS if BrokerKind.STANDARD in u.kinds]
    assert titles == [*standard, "Broker log lines (/g)"]


# --- the README's tables ---------------------------------------------------------------------


def _alarm_row(unit: AlarmUnit) -> str:
    minutes = unit.period_seconds // 60
    period = f"{unit.evaluation_periods} x {minutes} min"
    kinds = ", ".join(kind.value for kind in BrokerKind if kind in unit.kinds)
    metric = f"`{unit.summary}` ({unit.statistic}, {unit.scope.value})"
    cells = [unit.id, metric, unit.threshold_text, period, kinds, unit.why, unit.source]
    return "| " + " | ".join(cells) + " |"


def _filter_row(unit: LogFilter) -> str:
    alarm = (
        "none" if unit.alarm_at is None else f">= {unit.alarm_at} in {unit.alarm_periods} x 5 min"
    )
    cells = [unit.id, f"`{unit.pattern}`", f"`{unit.metric}`", alarm, unit.why]
    return "| " + " | ".join(cells) + " |"


def _table(readme: str, header: str) -> list[str]:
    rows = []
    for line in readme[readme.index(header) :].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_the_readme_alarm_table_is_the_declared_set():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    header = "| Alarm | Metric | Threshold | Period | Brokers | Why | Source |"
    assert _table(readme, header) == [_alarm_row(unit) for unit in ALARMS]


def test_the_readme_broker_log_table_is_the_declared_set():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    header = "| Filter | Pattern | Metric | Alarm | Why |"
    assert _table(readme, header) == [_filter_row(unit) for unit in LOG_FILTERS]
