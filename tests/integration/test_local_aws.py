"""`msk-autopilot local-aws` as a user runs it: a separate process, a port, a fleet, a signal."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import requests
from moto.sqs.models import sqs_backends

from msk_autopilot_local.errors import LocalToolError
from msk_autopilot_local.local_aws import local_aws

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ACCOUNT_ID = "123456789012"  # moto's


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def fleet_file(tmp_path) -> Path:
    path = tmp_path / "fleet.json"
    cluster = {"name": "orders", "brokers": 3, "subnets": ["a", "b", "c"]}
    path.write_text(json.dumps({"clusters": [cluster, {**cluster, "name": "payments"}]}))
    return path


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "msk_autopilot_local.cli", "local-aws", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_serves_the_deployed_stack_and_the_seeded_fleet_until_sigterm(fleet_file):
    port = free_port()
    server = start("--port", str(port), "--seed", str(fleet_file))
    try:
        lines = []
        for line in server.stdout:
            lines.append(line.strip())
            if line.startswith("ready"):
                break
        assert lines[-1] == f"ready http://127.0.0.1:{port}", lines
        assert sum(line.startswith("cluster ") for line in lines) == 2
        session = boto3.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
        )
        endpoint = f"http://127.0.0.1:{port}"
        (stack,) = session.client("cloudformation", endpoint_url=endpoint).describe_stacks(
            StackName="msk-autopilot"
        )["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        functions = session.client("lambda", endpoint_url=endpoint).list_functions()["Functions"]
        assert "msk-autopilot-storage-scaler" in {f["FunctionName"] for f in functions}
        kafka = session.client("kafka", endpoint_url=endpoint)
        clusters = kafka.list_clusters_v2()["ClusterInfoList"]
        assert {c["ClusterName"] for c in clusters} == {"orders", "payments"}
        assert {c["State"] for c in clusters} == {"ACTIVE"}
        topics = session.client("sns", endpoint_url=endpoint).list_topics()["Topics"]
        assert {
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:msk-autopilot-notifications"
        } in topics
        tables = session.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"]
        assert "msk-autopilot-idempotency" in tables
        queues = session.client("sqs", endpoint_url=endpoint).list_queues()["QueueUrls"]
        assert any(url.endswith("/msk-autopilot-storage-scaler-dlq") for url in queues)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
        assert "stopped" in server.stdout.read()
    finally:
        if server.poll() is None:
            server.kill()


def test_a_bad_fleet_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "fleet.yaml"
    bad.write_text("clusters: [unclosed")
    server = start("--port", str(free_port()), "--seed", str(bad))
    assert server.wait(timeout=60) == 2
    assert "is not valid JSON or YAML" in server.stderr.read()


def test_a_taken_port_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = start("--port", str(taken.getsockname()[1]))
        assert server.wait(timeout=60) == 2
        assert "cannot serve on 127.0.0.1" in server.stderr.read()


def test_an_account_resets_to_its_start_and_leaves_nothing_behind():
    fleet = {"clusters": [{"name": "orders", "brokers": 3, "subnets": ["a", "b", "c"]}]}
    with local_aws(TEMPLATE, fleet=fleet) as account:
        kafka, sqs = account.client("kafka"), account.client("sqs")
        first = account.clusters["orders"]
        requests, seconds = account.answered()
        kafka.describe_cluster_v2(ClusterArn=first)
        after_requests, after_seconds = account.answered()
        assert after_requests == requests + 1
        assert after_seconds > seconds, "the server's answer time is counted"
        kafka.create_configuration(Name="stray", ServerProperties=b"auto.create.topics.enable=true")
        sqs.create_queue(QueueName="stray")
        queues = len(sqs.list_queues()["QueueUrls"])

        account.reset()

        assert account.clusters == {"orders": first}, "a fresh account gives the same ARN"
        assert [c["ClusterArn"] for c in kafka.list_clusters_v2()["ClusterInfoList"]] == [
            account.clusters["orders"]
        ]
        assert kafka.list_configurations()["Configurations"] == []
        assert len(sqs.list_queues()["QueueUrls"]) == queues - 1
        assert all(not url.endswith("/stray") for url in sqs.list_queues()["QueueUrls"])

    assert not sqs_backends[ACCOUNT_ID][account.region].queues, "moto's state outlived the account"
    with local_aws(TEMPLATE) as empty:
        assert empty.clusters == {}
        assert empty.client("kafka").list_clusters_v2()["ClusterInfoList"] == []


def test_a_served_account_fires_alarms_when_its_clock_advances():
    fleet = {"clusters": [{"name": "orders", "brokers": 3, "health": {"cpuUser": 85}}]}
    # A tick an hour away: only the clock advance below evaluates the alarms.
    with local_aws(TEMPLATE, fleet=fleet, tick_seconds=3600) as account:
        sqs, sns, events = (account.client(name) for name in ("sqs", "sns", "events"))
        cloudwatch = account.client("cloudwatch")
        queues = {}
        for name in ("notified", "evented"):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            queues[name] = (url, arn["Attributes"]["QueueArn"])
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queues["notified"][1])
        events.put_rule(Name="alarms", EventPattern=json.dumps({"source": ["aws.cloudwatch"]}))
        events.put_targets(Rule="alarms", Targets=[{"Id": "q", "Arn": queues["evented"][1]}])
        for name in ("orders-cpu-loud", "orders-cpu-muted"):
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/Kafka",
                MetricName="CpuUser",
                Dimensions=[
                    {"Name": "Cluster Name", "Value": "orders"},
                    {"Name": "Broker ID", "Value": "2"},
                ],
                Statistic="Average",
                Period=60,
                EvaluationPeriods=15,
                Threshold=60.0,
                ComparisonOperator="GreaterThanThreshold",
                AlarmActions=[topic],
            )
        cloudwatch.disable_alarm_actions(AlarmNames=["orders-cpu-muted"])

        advanced = requests.post(
            f"{account.endpoint_url}/_msk_emulator/clock/advance", json={"seconds": 60}, timeout=10
        )

        assert advanced.status_code == 200
        states = {
            alarm["AlarmName"]: alarm["StateValue"]
            for alarm in cloudwatch.describe_alarms(AlarmNamePrefix="orders-cpu-")["MetricAlarms"]
        }
        assert states == {"orders-cpu-loud": "ALARM", "orders-cpu-muted": "ALARM"}
        notified = sqs.receive_message(QueueUrl=queues["notified"][0], MaxNumberOfMessages=10)
        assert [
            json.loads(json.loads(m["Body"])["Message"])["AlarmName"] for m in notified["Messages"]
        ] == ["orders-cpu-loud"]
        evented = sqs.receive_message(QueueUrl=queues["evented"][0], MaxNumberOfMessages=10)
        assert sorted(
            json.loads(m["Body"])["detail"]["alarmName"] for m in evented["Messages"]
        ) == [
            "orders-cpu-loud",
            "orders-cpu-muted",
        ]


def test_a_fleet_the_emulator_refuses_is_a_clear_error():
    fleet = {"clusters": [{"name": "tiny", "brokers": 3, "volumeSizeGiB": 20000}]}
    with (
        pytest.raises(LocalToolError, match="the fleet cannot be seeded"),
        local_aws(TEMPLATE, fleet=fleet),
    ):
        pass
