"""A cluster's topics with their configurations, read through MSK's topic APIs.

ListTopics names the topics (with partition count and replication factor); DescribeTopic gives
each one's configuration, base64 of a JSON object of strings. MSK offers these APIs only on
provisioned clusters on Apache Kafka 3.6 or later while ACTIVE, never on serverless ones
(msk-topic-operations-information.html); they need kafka-cluster:Connect, DescribeTopic and
DescribeTopicDynamicConfiguration. Where they cannot answer, `read_topics` raises
`TopicApisUnavailableError` saying why.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec
from botocore.exceptions import ClientError

from msk_autopilot.aws import error_code, error_message, pages

__all__ = ["TopicApisUnavailableError", "TopicInfo", "read_topics"]

# What MSK answers when the cluster cannot serve the topic APIs (version, state, serverless) or
# the caller may not use them.
_UNAVAILABLE = frozenset(
    {"BadRequestException", "ForbiddenException", "UnauthorizedException", "AccessDeniedException"}
)


class TopicApisUnavailableError(RuntimeError):
    """The topic APIs did not answer for this cluster; the message says why."""


class TopicInfo(msgspec.Struct, frozen=True):
    name: str
    partition_count: int
    replication_factor: int
    configs: dict[str, str]  # as DescribeTopic reports them: Kafka's names, string values


def read_topics(kafka: Any, cluster_arn: str) -> list[TopicInfo]:
    """Every topic of the cluster with its configuration; one DescribeTopic per topic."""
    try:
        listed = [
            topic
            for page in pages(kafka.list_topics, ClusterArn=cluster_arn)
            for topic in page.get("Topics", [])
        ]
        topics = []
        for summary in listed:
            described = _describe(kafka, cluster_arn, summary["TopicName"])
            if described is not None:
                topics.append(
                    TopicInfo(
                        name=summary["TopicName"],
                        partition_count=int(summary["PartitionCount"]),
                        replication_factor=int(summary["ReplicationFactor"]),
                        configs=_decode(described.get("Configs")),
                    )
                )
    except ClientError as error:
        if error_code(error) in _UNAVAILABLE:
            raise TopicApisUnavailableError(
                f"{error_code(error)}: {error_message(error)}"
            ) from None
        raise
    return topics


def _describe(kafka: Any, cluster_arn: str, name: str) -> dict[str, Any] | None:
    """DescribeTopic's answer; None for a topic deleted since it was listed."""
    try:
        described: dict[str, Any] = kafka.describe_topic(ClusterArn=cluster_arn, TopicName=name)
    except ClientError as error:
        if error_code(error) == "NotFoundException":
            return None
        raise
    return described


def _decode(configs: str | None) -> dict[str, str]:
    if not configs:
        return {}
    try:
        decoded = msgspec.json.decode(base64.b64decode(configs, validate=True))
    except (binascii.Error, msgspec.DecodeError):
        raise TopicApisUnavailableError(
            "DescribeTopic returned Configs that are not base64 JSON"
        ) from None
    if not isinstance(decoded, dict):
        raise TopicApisUnavailableError("DescribeTopic returned Configs that are not a JSON object")
    return {str(key): str(value) for key, value in decoded.items()}
