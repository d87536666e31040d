"""Topic durability, read through MSK's topic APIs without any network path to the brokers.

A topic is durable when losing a broker loses no acknowledged write and leaves it writable:

- replication factor at least 3 and at least the cluster's zone count (a zone outage then
  leaves a copy in another zone);
- ``min.insync.replicas`` at least 2 (acks=all then means two copies) and at most RF-1 (one
  replica down still accepts writes);
- ``unclean.leader.election.enable`` off (an out-of-sync replica never becomes leader);
- no out-of-sync replicas now.

Cost, per cluster of N topics: ListTopics pages of 100 (ceil(N/100) calls) carry each topic's
replication factor, partition count and OutOfSyncReplicaCount, so RF and ISR need nothing more.
The two settings need DescribeTopic, one call per topic (MSK has no batch form), and only for
topics with RF >= 3: below that min.insync.replicas cannot be both >= 2 and <= RF-1, so the topic
fails whatever its settings. Bound: ceil(N/100) + N calls; DescribeTopicPartitions is never
needed. A topic deleted between the listing and its description is skipped.

MSK serves the topic APIs only on provisioned clusters on Apache Kafka 3.6 or later while ACTIVE
(msk-topic-operations-information.html); they are authorized by kafka-cluster:Connect and
DescribeTopic (ListTopics) plus DescribeTopicDynamicConfiguration (DescribeTopic).

Kafka's own internal topics (``__consumer_offsets``, ``__transaction_state``) are judged like any
other: they hold committed offsets and transaction state, their RF is a cluster setting
(offsets.topic.replication.factor...) the customer chooses, and losing them loses consumer
positions. MSK's canary topics (``__amazon_msk_canary*``) are MSK's, not the customer's to
change, and are left out.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from typing import Any

import msgspec
from botocore.exceptions import BotoCoreError, ClientError

from msk_autopilot.audit.controls import (
    PROVISIONED_KINDS,
    Category,
    DataSource,
    DataUnavailable,
    Evidence,
    FindingSeverity,
    Status,
    Verdict,
    provisioned_control,
)
from msk_autopilot.aws import error_code, error_message, pages
from msk_autopilot.msk import ClusterSnapshot, Provisioned
from msk_autopilot.versions.catalogue import version_key

__all__ = [
    "MIN_REPLICATION_FACTOR",
    "TOPICS",
    "ClusterTopics",
    "ListedTopic",
    "TopicSettings",
    "read_cluster_topics",
    "topic_apis_unavailable",
    "topic_durability",
]

TOPICS = DataSource(
    "topics",
    (
        "kafka-cluster:Connect",
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:DescribeTopicDynamicConfiguration",
    ),
)
MIN_REPLICATION_FACTOR = 3
_MIN_ISR = 2
_TOPIC_APIS_SINCE = "3.6.0"
_MSK_CANARY_PREFIX = "__amazon_msk_canary"
# Offending topics named in a finding's detail; the counts cover the rest.
_LISTED_TOPICS = 20
_MIN_ISR_KEY = "min.insync.replicas"
_UNCLEAN_KEY = "unclean.leader.election.enable"


class ListedTopic(msgspec.Struct, frozen=True, rename="pascal"):
    """One topic as ListTopics reports it."""

    topic_name: str
    replication_factor: int
    partition_count: int
    out_of_sync_replica_count: int = 0


class TopicSettings(msgspec.Struct, frozen=True):
    """The durability settings DescribeTopic reports for a topic (None when not reported)."""

    min_insync_replicas: int | None
    unclean_leader_election: bool | None


class ClusterTopics(msgspec.Struct, frozen=True):
    topics: list[ListedTopic]
    settings: dict[str, TopicSettings]  # by topic name; only topics with RF >= 3 are described


def topic_apis_unavailable(cluster: ClusterSnapshot) -> Verdict | None:
    """Why the topic APIs cannot answer for this cluster (a verdict to report), or None."""
    if cluster.provisioned is None:
        return Verdict(
            Status.NOT_APPLICABLE,
            f"{cluster.cluster_type.lower()} clusters have no topic APIs, and MSK sets their "
            "replication itself",
        )
    version = cluster.provisioned.current_broker_software_info.kafka_version
    if version is None:
        return Verdict(Status.NOT_AVAILABLE, "the cluster does not report its Kafka version")
    if version_key(version) < version_key(_TOPIC_APIS_SINCE):
        return Verdict(
            Status.NOT_AVAILABLE,
            f"MSK's topic APIs need Apache Kafka {_TOPIC_APIS_SINCE} or later; the cluster runs "
            f"{version}",
        )
    if cluster.state != "ACTIVE":
        return Verdict(
            Status.NOT_AVAILABLE,
            f"the cluster is {cluster.state}: MSK answers the topic APIs only while it is ACTIVE",
        )
    return None


def read_cluster_topics(kafka: Any, cluster_arn: str) -> ClusterTopics:
    """The cluster's topics and, for those with RF >= 3, their settings (see the module's
    docstring for the calls); raises DataUnavailable when MSK does not answer."""
    try:
        listed = [
            msgspec.convert(topic, type=ListedTopic)
            for page in pages(kafka.list_topics, ClusterArn=cluster_arn, MaxResults=100)
            for topic in page.get("Topics", [])
            if not topic.get("TopicName", "").startswith(_MSK_CANARY_PREFIX)
        ]
        settings: dict[str, TopicSettings] = {}
        for topic in listed:
            if topic.replication_factor < MIN_REPLICATION_FACTOR:
                continue
            described = _settings(kafka, cluster_arn, topic.topic_name)
            if described is not None:
                settings[topic.topic_name] = described
    except ClientError as error:
        raise DataUnavailable(
            f"{error.operation_name} failed: {error_code(error)}: {error_message(error)}"
        ) from None
    except BotoCoreError as error:
        raise DataUnavailable(f"the topic APIs did not answer: {error}") from None
    except msgspec.ValidationError as error:
        raise DataUnavailable(f"ListTopics returned a topic that cannot be read: {error}") from None
    return ClusterTopics([t for t in listed if _still_there(t, settings)], settings)


def _still_there(topic: ListedTopic, settings: dict[str, TopicSettings]) -> bool:
    return topic.replication_factor < MIN_REPLICATION_FACTOR or topic.topic_name in settings


def _settings(kafka: Any, cluster_arn: str, name: str) -> TopicSettings | None:
    """The topic's settings; None for a topic deleted since it was listed."""
    try:
        described = kafka.describe_topic(ClusterArn=cluster_arn, TopicName=name)
    except ClientError as error:
        if error_code(error) == "NotFoundException":
            return None
        raise
    configs = _decode_configs(name, described.get("Configs"))
    min_isr = configs.get(_MIN_ISR_KEY)
    unclean = configs.get(_UNCLEAN_KEY)
    try:
        return TopicSettings(
            min_insync_replicas=int(min_isr) if min_isr is not None else None,
            unclean_leader_election=unclean.strip().lower() == "true"
            if unclean is not None
            else None,
        )
    except ValueError:
        raise DataUnavailable(f"topic {name}: {_MIN_ISR_KEY} is not a number: {min_isr}") from None


def _decode_configs(name: str, configs: str | None) -> dict[str, str]:
    """DescribeTopic's Configs: base64 of a JSON object of strings."""
    if not configs:
        return {}
    try:
        decoded = msgspec.json.decode(base64.b64decode(configs, validate=True))
    except (binascii.Error, msgspec.DecodeError):
        raise DataUnavailable(
            f"topic {name}: DescribeTopic's Configs are not base64 JSON"
        ) from None
    if not isinstance(decoded, dict):
        raise DataUnavailable(f"topic {name}: DescribeTopic's Configs are not a JSON object")
    return {str(key): str(value) for key, value in decoded.items()}


# What a topic can be faulted for, as the detail counts them.
_LOW_RF = "replication factor too low"
_BAD_MIN_ISR = f"{_MIN_ISR_KEY} outside 2..RF-1"
_UNCLEAN = "unclean leader election on"
_OUT_OF_SYNC = "out-of-sync replicas"


def _topic_problems(
    topic: ListedTopic, settings: TopicSettings | None, wanted_rf: int
) -> dict[str, str]:
    """The topic's faults: {kind: how this topic has it}."""
    rf = topic.replication_factor
    problems: dict[str, str] = {}
    if rf < wanted_rf:
        problems[_LOW_RF] = f"replication factor {rf}"
    if rf < MIN_REPLICATION_FACTOR:
        problems[_BAD_MIN_ISR] = f"no {_MIN_ISR_KEY} fits RF {rf}"
    elif settings is not None:
        min_isr = settings.min_insync_replicas
        if min_isr is not None and not _MIN_ISR <= min_isr <= rf - 1:
            problems[_BAD_MIN_ISR] = f"{_MIN_ISR_KEY}={min_isr}"
        if settings.unclean_leader_election:
            problems[_UNCLEAN] = _UNCLEAN
    if topic.out_of_sync_replica_count > 0:
        problems[_OUT_OF_SYNC] = f"{topic.out_of_sync_replica_count} out-of-sync replicas"
    return problems


def topic_durability(cluster: ClusterSnapshot, topics: ClusterTopics) -> Verdict:
    """One verdict for all of the cluster's topics: counts by fault, the first few named."""
    if cluster.provisioned is None:  # topic_apis_unavailable() says so before any call
        raise ValueError("topic durability is judged on provisioned clusters only")
    zones = len(set(cluster.provisioned.broker_node_group_info.client_subnets))
    wanted_rf = max(MIN_REPLICATION_FACTOR, zones)
    if not topics.topics:
        return Verdict(Status.PASSED, "the cluster has no topics")
    offenders = {
        topic.topic_name: problems
        for topic in topics.topics
        if (problems := _topic_problems(topic, topics.settings.get(topic.topic_name), wanted_rf))
    }
    # A setting DescribeTopic does not report is not known to be safe: never a pass.
    unreported = sorted(
        name
        for name, settings in topics.settings.items()
        if name not in offenders
        and (settings.min_insync_replicas is None or settings.unclean_leader_election is None)
    )
    if not offenders and unreported:
        return Verdict(
            Status.NOT_AVAILABLE,
            f"DescribeTopic does not report {_MIN_ISR_KEY} or {_UNCLEAN_KEY} for "
            f"{len(unreported)} topics: {', '.join(unreported[:_LISTED_TOPICS])}",
        )
    if not offenders:
        return Verdict(
            Status.PASSED,
            f"all {len(topics.topics)} topics have replication factor >= {wanted_rf}, "
            f"{_MIN_ISR_KEY} between {_MIN_ISR} and RF-1, no unclean leader election and every "
            "replica in sync",
        )
    counts = Counter(kind for problems in offenders.values() for kind in problems)
    summary = ", ".join(f"{kind}: {counts[kind]}" for kind in _KINDS if counts[kind])
    named = sorted(offenders)[:_LISTED_TOPICS]
    listing = "; ".join(f"{name} ({', '.join(offenders[name].values())})" for name in named)
    rest = len(offenders) - len(named)
    more = f"; and {rest} more" if rest else ""
    return Verdict(
        Status.FAILED,
        f"{len(offenders)} of {len(topics.topics)} topics are not durable (wanted: replication "
        f"factor >= {wanted_rf}; {summary}): {listing}{more}",
    )


_KINDS = (_LOW_RF, _BAD_MIN_ISR, _UNCLEAN, _OUT_OF_SYNC)


@provisioned_control(
    "AUTOPILOT.12",
    FindingSeverity.MEDIUM,
    "Topics of MSK clusters should be durable",
    remediation=(
        "Raise each listed topic's replication factor to at least 3 and the cluster's zone "
        "count (a partition reassignment), set min.insync.replicas between 2 and RF-1 and "
        "unclean.leader.election.enable to false (UpdateTopic), and find why replicas fall "
        "out of sync (broker health, disk, network)."
    ),
    kinds=PROVISIONED_KINDS,
    category=Category.RESILIENCE,
    sources=(TOPICS,),
)
def _durable_topics(
    cluster: ClusterSnapshot, provisioned: Provisioned, evidence: Evidence
) -> Verdict:
    unavailable = topic_apis_unavailable(cluster)
    if unavailable is not None:
        return unavailable
    return topic_durability(cluster, evidence.cluster_topics(cluster.cluster_arn))
