"""The health monitor end to end: real handler, MSK emulator, moto CloudWatch/Logs/SNS/DynamoDB."""

import json
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from msk_autopilot.aws import ClientFactory
from msk_autopilot.health.alarms import ALARMS, BrokerKind
from msk_autopilot.health.broker_logs import LOG_FILTERS, LOG_QUERIES
from msk_autopilot.health.monitor import build_health_monitor
from msk_autopilot.settings import HealthMonitorSettings, load
from msk_autopilot_local.emulator import control
from msk_autopilot_local.stack import DeployedStack

ROOT = Path(__file__).resolve().parents[3]
SCHEDULE = json.loads((ROOT / "events/scheduled_event.json").read_text())
TAGGED = json.loads((ROOT / "events/cloudtrail_tag_resource.json").read_text())
HEALTH = "msk-autopilot-health-"
DISK = "msk-autopilot-disk-"
TOPIC_SUFFIX = ":msk-autopilot-notifications"
TAG = "msk-autopilot:managed"
STANDARD_UNITS = [u for u in ALARMS if BrokerKind.STANDARD in u.kinds]
LOG_ALARMS = [f for f in LOG_FILTERS if f.alarm_at is not None]


def sweep_event() -> dict[str, Any]:
    return SCHEDULE


def call_event(name: str, cluster_arn: str) -> dict[str, Any]:
    """A CloudTrail event of MSK call `name` on `cluster_arn`, shaped like the sample."""
    detail = {**TAGGED["detail"], "eventName": name}
    key = "resourceArn" if name.endswith("TagResource") else "clusterArn"
    detail["requestParameters"] = {key: quote(cluster_arn, safe="")}
    return {**TAGGED, "detail": detail}


def alarms(aws, prefix: str = HEALTH) -> dict[str, dict[str, Any]]:
    found = aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
    return {a["AlarmName"]: a for a in found}


def dashboards(aws) -> list[str]:
    entries = aws.client("cloudwatch").list_dashboards(DashboardNamePrefix=HEALTH)
    return sorted(e["DashboardName"] for e in entries["DashboardEntries"])


def metric_filters(aws) -> dict[str, dict[str, Any]]:
    found = aws.client("logs").describe_metric_filters()["metricFilters"]
    return {f["filterName"]: f for f in found}


def start_maintenance(cluster_arn: str) -> None:
    """MSK patching a Standard cluster: state MAINTENANCE, a SECURITY_PATCHING operation."""
    control.start_maintenance(cluster_arn)


def test_sweep_keeps_the_recommended_set_of_a_standard_cluster_once(
    aws, cluster_spec, fleet, invoke
):
    arns = fleet(
        cluster_spec("orders", authentication={"iam": True}),
        cluster_spec("payments", opted_in=False),
    )
    result = invoke(sweep_event())
    assert result["status"] == "acted", result
    kept = alarms(aws)
    per_broker = [u for u in STANDARD_UNITS if u.scope.name == "BROKER"]
    per_cluster = [u for u in STANDARD_UNITS if u.scope.name == "CLUSTER"]
    assert len(kept) == 3 * len(per_broker) + len(per_cluster)
    assert all("payments" not in name for name in kept)
    cpu = kept[f"{HEALTH}orders-broker-2-cpu"]
    assert cpu["Threshold"] == 60.0
    assert cpu["ComparisonOperator"] == "GreaterThanThreshold"
    assert cpu["EvaluationPeriods"] == 3
    (expression,) = [m for m in cpu["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "m1 + m2"
    stats = [m["MetricStat"] for m in cpu["Metrics"] if "MetricStat" in m]
    assert {s["Metric"]["MetricName"] for s in stats} == {"CpuUser", "CpuSystem"}
    assert all(
        {d["Name"]: d["Value"] for d in s["Metric"]["Dimensions"]}
        == {"Cluster Name": "orders", "Broker ID": "2"}
        for s in stats
    )
    assert cpu["AlarmActions"][0].endswith(TOPIC_SUFFIX)
    assert cpu["OKActions"] == cpu["AlarmActions"]
    assert arns["orders"] in cpu["AlarmDescription"]
    offline = kept[f"{HEALTH}orders-offline-partitions"]
    assert offline["Dimensions"] == [{"Name": "Cluster Name", "Value": "orders"}]
    controller = kept[f"{HEALTH}orders-active-controller"]
    (stat,) = [m["MetricStat"] for m in controller["Metrics"] if "MetricStat" in m]
    assert stat["Stat"] == "Sum"
    assert stat["Metric"]["Dimensions"] == [{"Name": "Cluster Name", "Value": "orders"}]
    assert kept[f"{HEALTH}orders-broker-1-partitions"]["Threshold"] == 1000.0  # m5.large
    assert kept[f"{HEALTH}orders-broker-1-disk"]["Threshold"] == 85.0
    assert kept[f"{HEALTH}orders-broker-3-connections"]["Threshold"] == 2700.0
    disk = alarms(aws, DISK)
    assert sorted(disk) == [f"{DISK}orders-broker-{b}" for b in (1, 2, 3)]
    assert disk[f"{DISK}orders-broker-1"]["Threshold"] == 75.0
    assert (
        "AlarmActions" not in disk[f"{DISK}orders-broker-1"]
        or not disk[f"{DISK}orders-broker-1"]["AlarmActions"]
    )
    assert dashboards(aws) == [f"{HEALTH}orders"]

    again = invoke(sweep_event())
    assert again["status"] == "unchanged", again
    assert again["details"]["alarms"]["unchanged"] == len(kept)
    assert len(alarms(aws)) == len(kept)


def test_express_and_serverless_clusters_get_only_what_applies(aws, cluster_spec, fleet, invoke):
    fleet(
        cluster_spec("fast", instanceType="express.m7g.large"),
        {"name": "lite", "serverless": True, "subnets": ["a", "b"], "tags": {TAG: "true"}},
    )
    invoke(sweep_event())
    kept = alarms(aws)
    ids = {re.sub(r"^broker-\d+-", "", name.removeprefix(f"{HEALTH}fast-")) for name in kept}
    assert ids == {
        "cpu",
        "under-min-isr",
        "active-controller",
        "produce-throttle",
        "fetch-throttle",
        "bytes-in",
        "bytes-out",
    }
    assert not [name for name in kept if "lite" in name]  # Serverless: no broker metric to watch
    assert kept[f"{HEALTH}fast-broker-1-bytes-in"]["Threshold"] == 12_480_000.0  # 80 % of 15.6
    assert kept[f"{HEALTH}fast-broker-1-bytes-out"]["Threshold"] == 24_960_000.0  # egress 2x
    assert alarms(aws, DISK) == {}  # Express has no per-broker disk metric
    assert dashboards(aws) == [f"{HEALTH}fast", f"{HEALTH}lite"]
    body = aws.client("cloudwatch").get_dashboard(DashboardName=f"{HEALTH}lite")["DashboardBody"]
    assert "BytesInPerSec" in body


def test_thresholds_follow_settings_and_opt_outs_and_deletions_leave_nothing(
    aws, cluster_spec, fleet, invoke, msk_emulator
):
    arns = fleet(cluster_spec("orders"), cluster_spec("payments"))
    cloudwatch = aws.client("cloudwatch")
    for name in (f"{HEALTH}handmade", f"{DISK}handmade"):  # under our prefixes, not ours
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/Kafka",
            MetricName="CpuUser",
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=90,
            ComparisonOperator="GreaterThanThreshold",
        )
    cloudwatch.put_dashboard(DashboardName=f"{HEALTH}handmade", DashboardBody='{"widgets": []}')
    invoke(sweep_event())
    result = invoke(sweep_event(), CPU_ALARM_PERCENT="70", DISK_ALARM_THRESHOLD_PERCENT="65")
    assert sorted(result["details"]["alarms"]["updated"]) == sorted(
        f"{HEALTH}{c}-broker-{b}-cpu" for c in ("orders", "payments") for b in (1, 2, 3)
    )
    assert len(result["details"]["disk_alarms"]["updated"]) == 6
    assert alarms(aws)[f"{HEALTH}orders-broker-1-cpu"]["Threshold"] == 70.0

    kafka = aws.client("kafka")
    kafka.untag_resource(ResourceArn=arns["payments"], TagKeys=[TAG])
    kafka.delete_cluster(ClusterArn=arns["orders"])
    result = invoke(sweep_event())
    assert result["status"] == "acted"
    assert len(result["details"]["disk_alarms"]["deleted"]) == 6
    assert set(alarms(aws)) == {f"{HEALTH}handmade"}
    assert set(alarms(aws, DISK)) == {f"{DISK}handmade"}
    assert dashboards(aws) == [f"{HEALTH}handmade"]


def test_concurrent_sweeps_leave_no_duplicate_and_no_orphan(
    aws, cluster_spec, fleet, query_definitions
):
    arns = fleet(
        cluster_spec("orders", logging={"cloudWatchLogGroup": "/msk/orders"}),
        cluster_spec("payments"),
    )
    aws.client("logs").create_log_group(logGroupName="/msk/orders")
    stack = DeployedStack.read(aws, ROOT / "template.yaml")
    environment = {
        **stack.function_environment("HealthMonitorFunction"),
        "AWS_REGION": "us-east-1",
    }
    settings = load(HealthMonitorSettings, environment)

    def sweep_together(count: int) -> None:
        start = threading.Barrier(count)
        errors: list[BaseException] = []

        def run() -> None:
            monitor = build_health_monitor(settings, ClientFactory.for_settings(settings))
            start.wait()
            try:
                monitor.sweep(dry_run=False)
            except BaseException as error:  # reported below, in the test thread
                errors.append(error)

        threads = [threading.Thread(target=run) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors

    sweep_together(4)
    # Neither cluster uses IAM, so no connections alarm (the only published connection limit).
    per_cluster = 3 * (len(STANDARD_UNITS) - 3) + 2
    assert len(alarms(aws)) == 2 * per_cluster + len(LOG_ALARMS)
    assert len(alarms(aws, DISK)) == 6
    assert len(metric_filters(aws)) == len(LOG_FILTERS)
    build_health_monitor(settings, ClientFactory.for_settings(settings)).sweep(dry_run=False)
    names = [d["name"] for d in query_definitions().values()]
    assert sorted(names) == sorted(f"{HEALTH}orders/{q.id}" for q in LOG_QUERIES)

    aws.client("kafka").untag_resource(ResourceArn=arns["orders"], TagKeys=[TAG])
    aws.client("kafka").delete_cluster(ClusterArn=arns["payments"])
    sweep_together(4)
    assert alarms(aws) == {}
    assert alarms(aws, DISK) == {}
    assert metric_filters(aws) == {}
    assert query_definitions() == {}
    assert dashboards(aws) == []


def test_maintenance_mutes_the_clusters_alarms_and_unmutes_them_once_each(
    aws, cluster_spec, fleet, invoke, msk_emulator, notifications
):
    arns = fleet(cluster_spec("orders"), cluster_spec("payments"))
    invoke(sweep_event())
    notifications()
    start_maintenance(arns["orders"])

    muted = invoke(sweep_event())
    orders = sorted(n for n in alarms(aws) if n.startswith(f"{HEALTH}orders-"))
    assert muted["details"]["muted"] == orders
    assert all(not alarms(aws)[n]["ActionsEnabled"] for n in orders)
    assert all(a["ActionsEnabled"] for n, a in alarms(aws).items() if n not in orders)
    (notice,) = notifications()
    assert "muted" in notice["subject"]
    assert "orders" in notice["subject"]
    assert invoke(sweep_event())["details"]["muted"] == []
    assert notifications() == []

    msk_emulator.complete_operations()
    unmuted = invoke(sweep_event())
    assert unmuted["details"]["unmuted"] == orders
    assert all(alarms(aws)[n]["ActionsEnabled"] for n in orders)
    (notice,) = notifications()
    assert "unmuted" in notice["subject"]
    assert invoke(sweep_event())["details"]["unmuted"] == []
    assert notifications() == []


def test_broker_log_filters_alarms_and_queries_come_and_go_with_the_cluster(
    aws, cluster_spec, fleet, invoke, query_definitions
):
    arns = fleet(
        cluster_spec("orders", logging={"cloudWatchLogGroup": "/msk/orders"}),
        cluster_spec("quiet"),
    )
    aws.client("logs").create_log_group(logGroupName="/msk/orders")
    invoke(sweep_event())
    filters = metric_filters(aws)
    assert sorted(filters) == sorted(f"{HEALTH}orders-log-{f.id}" for f in LOG_FILTERS)
    shrink = filters[f"{HEALTH}orders-log-isr-shrink"]
    assert shrink["logGroupName"] == "/msk/orders"
    assert shrink["filterPattern"] == '"Shrinking ISR"'
    (transform,) = shrink["metricTransformations"]
    assert transform["metricNamespace"] == "msk-autopilot/BrokerLogs/orders"
    log_alarms = {n for n in alarms(aws) if "-log-" in n}
    assert log_alarms == {f"{HEALTH}orders-log-{f.id}" for f in LOG_ALARMS}
    queries = {d["name"]: d for d in query_definitions().values()}
    assert sorted(queries) == sorted(f"{HEALTH}orders/{q.id}" for q in LOG_QUERIES)
    assert all(d["logGroupNames"] == ["/msk/orders"] for d in queries.values())
    body = aws.client("cloudwatch").get_dashboard(DashboardName=f"{HEALTH}orders")
    assert "IsrShrinks" in body["DashboardBody"]

    aws.client("kafka").untag_resource(ResourceArn=arns["orders"], TagKeys=[TAG])
    result = invoke(call_event("UntagResource", arns["orders"]))
    assert result["status"] == "acted", result
    assert metric_filters(aws) == {}
    assert query_definitions() == {}
    assert not [n for n in alarms(aws) if n.startswith(f"{HEALTH}orders-")]
    assert [n for n in alarms(aws) if n.startswith(f"{HEALTH}quiet-")]  # another cluster's


def test_cluster_events_keep_only_the_cluster_they_name(
    aws, cluster_spec, fleet, invoke, msk_emulator
):
    arns = fleet(cluster_spec("orders"), cluster_spec("payments"))
    created = invoke(call_event("CreateClusterV2", arns["orders"]))
    assert created["status"] == "acted", created
    assert created["details"]["kept"] == ["orders"]
    assert alarms(aws)
    assert all(n.startswith(f"{HEALTH}orders-") for n in alarms(aws))
    invoke(sweep_event())
    aws.client("kafka").delete_cluster(ClusterArn=arns["orders"])
    deleted = invoke(call_event("DeleteCluster", arns["orders"]))
    assert deleted["status"] == "acted", deleted
    assert alarms(aws)
    assert all(n.startswith(f"{HEALTH}payments-") for n in alarms(aws))
    assert dashboards(aws) == [f"{HEALTH}payments"]
    assert invoke(call_event("UpdateMonitoring", arns["payments"]))["status"] == "skipped"
    failed = call_event("TagResource", arns["payments"])
    failed["detail"] = {**failed["detail"], "errorCode": "AccessDeniedException"}
    assert invoke(failed)["status"] == "skipped"


def test_dry_run_reports_and_changes_nothing(aws, cluster_spec, fleet, invoke, query_definitions):
    fleet(cluster_spec("orders", logging={"cloudWatchLogGroup": "/msk/orders"}))
    aws.client("logs").create_log_group(logGroupName="/msk/orders")
    result = invoke(sweep_event(), DRY_RUN="true")
    assert result["status"] == "dry_run", result
    assert result["details"]["alarms"]["created"]
    assert len(result["details"]["disk_alarms"]["created"]) == 3
    assert result["details"]["dashboards"]["created"] == [f"{HEALTH}orders"]
    assert len(result["details"]["log_filters"]["created"]) == len(LOG_FILTERS)
    assert alarms(aws) == {}
    assert alarms(aws, DISK) == {}
    assert dashboards(aws) == []
    assert metric_filters(aws) == {}
    assert query_definitions() == {}


def test_sweeps_publish_each_operation_transition_of_an_opted_in_cluster_once(
    aws, cluster_spec, fleet, invoke
):
    """The monitor's sweep is what publishes operation events: nothing for history, the start
    and the end of a storage update once each across repeated sweeps, nothing in a dry run,
    nothing for a cluster that is not opted in."""
    arns = fleet(cluster_spec("orders"), cluster_spec("payments", opted_in=False))
    sqs, events = aws.client("sqs"), aws.client("events")
    url = sqs.create_queue(QueueName="operation-events")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    events.put_rule(Name="ops", EventPattern=json.dumps({"source": ["msk-autopilot"]}))
    events.put_targets(Rule="ops", Targets=[{"Id": "q", "Arn": queue["QueueArn"]}])

    def delivered() -> list[dict[str, Any]]:
        found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for message in found:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(message["Body"])["detail"] for message in found]

    invoke(sweep_event())  # first sight of the fleet: no history
    assert delivered() == []
    kafka = aws.client("kafka")
    for name in ("orders", "payments"):
        version = kafka.describe_cluster_v2(ClusterArn=arns[name])["ClusterInfo"]["CurrentVersion"]
        kafka.update_broker_storage(
            ClusterArn=arns[name],
            CurrentVersion=version,
            TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "ALL", "VolumeSizeGB": 1100}],
        )
    dry = invoke(sweep_event(), DRY_RUN="true")
    assert dry["details"]["operation_events"]["published"] == []
    assert delivered() == []
    invoke(sweep_event())
    invoke(sweep_event())
    started = delivered()
    assert [(d["clusterName"], d["transition"]) for d in started] == [("orders", "started")]
    control.complete_operations()
    invoke(sweep_event())
    invoke(sweep_event())
    completed = delivered()
    assert [(d["clusterName"], d["transition"], d["operationState"]) for d in completed] == [
        ("orders", "completed", "UPDATE_COMPLETE")
    ]
    assert completed[0]["operationArn"] == started[0]["operationArn"]
