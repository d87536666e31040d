"""Topic durability read from the MSK emulator's topic APIs: what is collected, the verdicts, and
the API calls per cluster at 100 and 1,000 topics."""

import base64
import json
import math

import boto3
import pytest

from msk_autopilot.audit.collect import AuditTarget, counting_api_calls, list_clusters
from msk_autopilot.audit.controls import DataUnavailable, Status
from msk_autopilot.audit.durability import (
    ClusterTopics,
    ListedTopic,
    TopicSettings,
    read_cluster_topics,
    topic_apis_unavailable,
    topic_durability,
)
from msk_autopilot.aws import ClientFactory
from msk_autopilot_local.emulator import health, seed_fleet
from msk_autopilot_local.emulator.state import emulator_state

REGION = "us-east-1"
SAFE = {"min.insync.replicas": "2", "unclean.leader.election.enable": "false"}


def configs(values: dict[str, str]) -> str:
    return base64.b64encode(json.dumps(values).encode()).decode()


@pytest.fixture
def kafka(msk_emulator):
    return boto3.client("kafka", region_name=REGION)


def seed(**clusters: dict) -> dict[str, str]:
    spec = {"clusters": [{"name": name, **cluster} for name, cluster in clusters.items()]}
    return seed_fleet(boto3.Session(region_name=REGION), spec).clusters


def create(kafka, arn: str, name: str, rf: int = 3, **settings: str) -> None:
    kafka.create_topic(
        ClusterArn=arn,
        TopicName=name,
        PartitionCount=3,
        ReplicationFactor=rf,
        Configs=configs(settings),
    )


def drop_from_isr(arn: str, topic: str, broker_count: int) -> None:
    """Followers fall behind: the emulator has no API for it, so its state is changed."""
    with emulator_state.lock:
        _, cluster = health.locate(arn)
        partition = cluster.topics[topic].partitions[0]
        partition.isr = partition.replicas[: len(partition.replicas) - broker_count]


def snapshots() -> dict:
    target = AuditTarget("123456789012", REGION, ClientFactory(REGION))
    return {c.cluster_name: c for c in list_clusters(target).clusters}


def test_durable_and_fragile_topics(kafka):
    arns = seed(durable={"kafkaVersion": "3.8.x"}, fragile={"kafkaVersion": "3.8.x"})
    create(kafka, arns["durable"], "orders", **SAFE)
    create(kafka, arns["durable"], "__consumer_offsets", **SAFE)
    create(kafka, arns["fragile"], "scratch", rf=1)
    create(kafka, arns["fragile"], "payments", **{**SAFE, "min.insync.replicas": "1"})
    create(kafka, arns["fragile"], "audit", **{**SAFE, "unclean.leader.election.enable": "true"})
    create(kafka, arns["fragile"], "clicks", **SAFE)
    drop_from_isr(arns["fragile"], "clicks", 2)
    clusters = snapshots()

    durable = topic_durability(clusters["durable"], read_cluster_topics(kafka, arns["durable"]))
    fragile = topic_durability(clusters["fragile"], read_cluster_topics(kafka, arns["fragile"]))

    assert durable.status is Status.PASSED
    assert (fragile.status, fragile.detail) == (
        Status.FAILED,
        "4 of 4 topics are not durable (wanted: replication factor >= 3; "
        "replication factor too low: 1, min.insync.replicas outside 2..RF-1: 2, "
        "unclean leader election on: 1, out-of-sync replicas: 1): "
        "audit (unclean leader election on); clicks (2 out-of-sync replicas); "
        "payments (min.insync.replicas=1); "
        "scratch (replication factor 1, no min.insync.replicas fits RF 1)",
    )


def test_what_is_collected(kafka):
    arn = seed(c={"kafkaVersion": "3.8.x"})["c"]
    create(kafka, arn, "low", rf=2)
    create(kafka, arn, "high", **SAFE)

    assert read_cluster_topics(kafka, arn) == ClusterTopics(
        topics=[ListedTopic("high", 3, 3, 0), ListedTopic("low", 2, 3, 0)],
        settings={"high": TopicSettings(2, False)},  # RF 2 fails without its settings
    )


def test_clusters_the_topic_apis_do_not_answer(kafka):
    seed(old={"kafkaVersion": "3.5.1"}, stream={"serverless": True})
    clusters = snapshots()

    old = topic_apis_unavailable(clusters["old"])
    stream = topic_apis_unavailable(clusters["stream"])

    assert old is not None
    assert old.status is Status.NOT_AVAILABLE
    assert stream is not None
    assert stream.status is Status.NOT_APPLICABLE


def test_a_refusal_is_data_unavailable_not_a_verdict(kafka):
    arn = seed(old={"kafkaVersion": "3.5.1"})["old"]

    with pytest.raises(DataUnavailable, match=r"ListTopics failed: BadRequestException: .*3\.6"):
        read_cluster_topics(kafka, arn)


@pytest.mark.parametrize("topics", [100, pytest.param(1000, marks=pytest.mark.slow)])
def test_calls_per_cluster_stay_within_the_bound(kafka, topics):
    """ceil(N/100) ListTopics pages and one DescribeTopic per topic of RF >= 3 (half here)."""
    arn = seed(big={"kafkaVersion": "3.8.x", "brokers": 3})["big"]
    for n in range(topics):
        create(kafka, arn, f"t{n:04d}", rf=3 if n % 2 else 2, **SAFE)
    target = AuditTarget("123456789012", REGION, ClientFactory(REGION))

    with counting_api_calls() as calls:
        collected = read_cluster_topics(target.client("kafka"), arn)

    assert len(collected.topics) == topics
    assert dict(calls) == {
        "kafka.ListTopics": math.ceil(topics / 100),
        "kafka.DescribeTopic": topics // 2,
    }
    print(f"\n{topics} topics: {sum(calls.values())} calls per cluster ({dict(calls)})")
