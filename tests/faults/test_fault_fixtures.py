"""The fixtures other fault suites build on: a faulty account and the emulator's own count."""

import boto3
import pytest
from botocore.config import Config

from msk_autopilot_local.faults import FaultKind, FaultPlan

FLEET = {"clusters": [{"name": "orders", "brokers": 3, "subnets": ["a", "b", "c"]}]}


@pytest.mark.parametrize("fault_fleet", [FLEET])
def test_faulty_aws_serves_the_fleet_behind_faults_the_emulator_does_not_see(faulty_aws):
    session = boto3.Session(region_name="us-east-1", **_credentials(faulty_aws.environment))
    config = Config(retries={"mode": "standard", "total_max_attempts": 10})
    kafka = session.client(
        "kafka", endpoint_url=faulty_aws.environment["AWS_ENDPOINT_URL"], config=config
    )
    arn = faulty_aws.account.clusters["orders"]
    for _ in range(30):
        assert kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE"
    stats = faulty_aws.proxy.stats()
    assert faulty_aws.proxy.plan == FaultPlan.mixed(0.2, seed=0)
    assert stats.faults_for("kafka", "DescribeClusterV2") > 0
    # The emulator answered exactly the requests the proxy let through (drop_after included).
    forwarded = stats.operations["kafka", "DescribeClusterV2"].forwarded
    assert faulty_aws.emulator.count("DescribeClusterV2") == forwarded
    assert forwarded == 30 + stats.faults_for("kafka", "DescribeClusterV2", FaultKind.DROP_AFTER)
    assert faulty_aws.emulator.mutating() == []


def test_worlds_open_one_after_another_each_from_nothing(open_world):
    first = open_world(None, FLEET)
    first.client("sns").create_topic(Name="left-behind")
    arn = first.account.clusters["orders"]
    first.client("kafka").tag_resource(ResourceArn=arn, Tags={"left": "behind"})
    second = open_world(FaultPlan.none(), FLEET)
    topics = [t["TopicArn"] for t in second.client("sns").list_topics()["Topics"]]
    assert not any(t.endswith(":left-behind") for t in topics)
    assert second.account.clusters == {"orders": arn}, "a fresh account gives the same ARN"
    tags = second.client("kafka").list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert "left" not in tags, "the second world's cluster is a new one"


def _credentials(environment: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": environment["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": environment["AWS_SECRET_ACCESS_KEY"],
    }
