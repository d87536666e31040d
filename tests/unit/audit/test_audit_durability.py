"""Topic durability's judgement, on topics shaped like ListTopics' and DescribeTopic's answers."""

import copy
from typing import Any

import pytest

from msk_autopilot.audit.controls import Status
from msk_autopilot.audit.durability import (
    ClusterTopics,
    ListedTopic,
    TopicSettings,
    topic_apis_unavailable,
    topic_durability,
)
from msk_autopilot.msk import ClusterSnapshot

ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/5c9a6e0a-1c2d-4f7e-9a31-2b8f0d4e6a11-2"
PROVISIONED: dict[str, Any] = {
    "ClusterArn": ARN,
    "ClusterName": "orders",
    "ClusterType": "PROVISIONED",
    "State": "ACTIVE",
    "Provisioned": {
        "BrokerNodeGroupInfo": {
            "InstanceType": "kafka.m5.large",
            "ClientSubnets": ["subnet-a", "subnet-b", "subnet-c"],
            "SecurityGroups": ["sg-1"],
        },
        "NumberOfBrokerNodes": 3,
        "CurrentBrokerSoftwareInfo": {"KafkaVersion": "3.8.x"},
    },
}
SAFE = TopicSettings(min_insync_replicas=2, unclean_leader_election=False)


def cluster(**changes: Any) -> ClusterSnapshot:
    info = copy.deepcopy(PROVISIONED)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = info
        for key in parents:
            node = node[key]
        node[leaf] = value
    return ClusterSnapshot.from_api(info)


def topic(name: str, rf: int = 3, out_of_sync: int = 0) -> ListedTopic:
    return ListedTopic(name, rf, 6, out_of_sync)


def judge(*entries: tuple[ListedTopic, TopicSettings | None], on: ClusterSnapshot | None = None):
    topics = ClusterTopics(
        [listed for listed, _ in entries],
        {listed.topic_name: settings for listed, settings in entries if settings is not None},
    )
    return topic_durability(on or cluster(), topics)


def test_durable_topics_pass():
    result = judge((topic("orders"), SAFE), (topic("__consumer_offsets", rf=4), SAFE))
    assert result.status is Status.PASSED
    assert result.detail.startswith("all 2 topics have replication factor >= 3")


def test_a_cluster_without_topics_passes():
    assert judge().status is Status.PASSED


@pytest.mark.parametrize(
    ("entry", "fault"),
    [
        ((topic("t", rf=1), None), "t (replication factor 1, no min.insync.replicas fits RF 1)"),
        ((topic("t", rf=2), None), "t (replication factor 2, no min.insync.replicas fits RF 2)"),
        ((topic("t"), TopicSettings(1, False)), "t (min.insync.replicas=1)"),
        # acks=all cannot succeed with a replica down when min ISR equals RF
        ((topic("t"), TopicSettings(3, False)), "t (min.insync.replicas=3)"),
        ((topic("t"), TopicSettings(2, True)), "t (unclean leader election on)"),
        ((topic("t", out_of_sync=2), SAFE), "t (2 out-of-sync replicas)"),
    ],
)
def test_each_fault_fails_and_is_named(entry, fault):
    result = judge(entry, (topic("fine"), SAFE))
    assert result.status is Status.FAILED
    assert result.detail.startswith("1 of 2 topics are not durable")
    assert result.detail.endswith(fault)


def test_min_isr_of_rf_minus_one_passes_on_larger_topics():
    assert judge((topic("t", rf=5), TopicSettings(4, False))).status is Status.PASSED


def test_replication_factor_must_reach_the_zone_count():
    four_zones = cluster(Provisioned__BrokerNodeGroupInfo__ClientSubnets=["a", "b", "c", "d"])
    result = judge((topic("t", rf=3), SAFE), on=four_zones)
    assert result.status is Status.FAILED
    assert "replication factor >= 4" in result.detail
    assert result.detail.endswith("t (replication factor 3)")


def test_five_thousand_topics_are_one_finding_with_counts_and_a_capped_list():
    entries = [(topic(f"t{n:04d}", rf=1), None) for n in range(5000)]
    entries += [(topic(f"u{n:04d}"), TopicSettings(2, True)) for n in range(3)]
    result = judge(*entries)
    assert result.status is Status.FAILED
    assert result.detail.startswith(
        "5003 of 5003 topics are not durable (wanted: replication factor >= 3; "
        "replication factor too low: 5000, min.insync.replicas outside 2..RF-1: 5000, "
        "unclean leader election on: 3)"
    )
    assert result.detail.count("(replication factor 1") == 20
    assert result.detail.endswith("; and 4983 more")
    assert len(result.detail) < 2000


def test_unreported_settings_are_not_a_pass():
    result = judge((topic("t"), TopicSettings(None, None)), (topic("fine"), SAFE))
    assert (result.status, result.detail) == (
        Status.NOT_AVAILABLE,
        "DescribeTopic does not report min.insync.replicas or unclean.leader.election.enable "
        "for 1 topics: t",
    )


@pytest.mark.parametrize(
    ("snapshot", "status", "reason"),
    [
        (
            cluster(Provisioned__CurrentBrokerSoftwareInfo__KafkaVersion="3.5.1"),
            "NOT_AVAILABLE",
            "MSK's topic APIs need Apache Kafka 3.6.0 or later; the cluster runs 3.5.1",
        ),
        (
            cluster(State="UPDATING"),
            "NOT_AVAILABLE",
            "the cluster is UPDATING: MSK answers the topic APIs only while it is ACTIVE",
        ),
        (
            ClusterSnapshot.from_api(
                {
                    "ClusterArn": ARN,
                    "ClusterName": "s",
                    "ClusterType": "SERVERLESS",
                    "State": "ACTIVE",
                    "Serverless": {"VpcConfigs": []},
                }
            ),
            "NOT_APPLICABLE",
            "serverless clusters have no topic APIs, and MSK sets their replication itself",
        ),
    ],
)
def test_where_the_topic_apis_do_not_answer_the_verdict_says_why(snapshot, status, reason):
    verdict = topic_apis_unavailable(snapshot)
    assert verdict is not None
    assert (verdict.status, verdict.detail) == (status, reason)


def test_the_topic_apis_answer_active_provisioned_clusters_from_3_6():
    assert topic_apis_unavailable(cluster()) is None
    assert (
        topic_apis_unavailable(
            cluster(Provisioned__CurrentBrokerSoftwareInfo__KafkaVersion="3.6.0")
        )
        is None
    )
