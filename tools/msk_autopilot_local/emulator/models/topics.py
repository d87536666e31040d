"""The topic APIs (ListTopics, DescribeTopic, DescribeTopicPartitions, CreateTopic,
UpdateTopic, DeleteTopic) and where a cluster's partition replicas are.

MSK offers them on provisioned clusters on Apache Kafka 3.6 or later while ACTIVE, never on
serverless ones (msk-topic-operations-information.html). Configs travel as base64 of a JSON
object of strings. Replicas are placed as Kafka places them (``placement``). A topic's
retention.ms is its own setting, or the cluster's default: ``log.retention.ms`` or
``log.retention.minutes`` or ``log.retention.hours`` (Kafka's precedence) of the cluster's
configuration revision, else Kafka's 168 hours.
"""

import base64
import binascii
import json
from collections import Counter
from typing import Any

from msk_autopilot.versions.catalogue import version_key

from .. import catalog, placement
from ..exceptions import BadRequestException, NotFoundException, TopicExistsException
from .configurations import ConfigurationsMixin
from .records import MskCluster, Topic

RETENTION_MS = "retention.ms"
KAFKA_DEFAULT_RETENTION_HOURS = 168
HOUR_MS = 3_600_000
# MSK's own topics for health metrics: they may stay on a broker MSK removes
# (msk-remove-broker.html).
CANARY_TOPICS = ("__amazon_msk_canary", "__amazon_msk_canary_state")
# ClusterHealth.partition_count as a broker's overrides name it (camelCase).
PARTITION_COUNT = "partitionCount"


def encode_configs(configs: dict[str, str]) -> str:
    return base64.b64encode(json.dumps(configs, sort_keys=True).encode()).decode()


def _decode_configs(text: str) -> dict[str, str]:
    try:
        configs = json.loads(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise BadRequestException(
            "configs must be base64 of a JSON object of topic settings.", "configs"
        ) from None
    if not isinstance(configs, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in configs.items()
    ):
        raise BadRequestException(
            'configs must be a JSON object of strings, like {"retention.ms": "86400000"}.',
            "configs",
        )
    return configs


class TopicsMixin(ConfigurationsMixin):
    # ------------------------------------------------------------ partition counts
    def partitions_per_broker(self, cluster: MskCluster) -> dict[int, float]:
        """Partitions (replicas included) each broker holds: the placed replicas when the
        cluster has topics, else its health profile's PartitionCount, else none known."""
        if cluster.topics:
            return dict(placement.replica_counts(cluster.all_partitions(), cluster.racks))
        if cluster.health is None:
            return {}
        health = cluster.health.values
        return {
            broker.broker_id: health.brokers.get(broker.broker_id, {}).get(
                PARTITION_COUNT, health.partition_count
            )
            for broker in cluster.brokers
        }

    def brokers_holding_partitions(self, cluster: MskCluster) -> set[int]:
        """Brokers holding a replica of any topic but MSK's canary topics."""
        return {
            broker
            for topic in cluster.topics.values()
            if topic.name not in CANARY_TOPICS
            for partition in topic.partitions
            for broker in partition.replicas
        }

    def default_retention_ms(self, cluster: MskCluster) -> int:
        properties: dict[str, str] = {}
        if "ConfigurationInfo" in cluster.settings:
            info = cluster.settings["ConfigurationInfo"]
            revision = self.configurations[info["Arn"]].revisions[info["Revision"] - 1]
            for line in revision.server_properties.decode().splitlines():
                key, separator, value = line.strip().partition("=")
                if separator and not key.startswith(("#", "!")):
                    properties[key.strip()] = value.strip()
        if "log.retention.ms" in properties:
            return int(properties["log.retention.ms"])
        if "log.retention.minutes" in properties:  # Kafka reads it before the hours
            return int(properties["log.retention.minutes"]) * 60_000
        hours = properties.get("log.retention.hours", KAFKA_DEFAULT_RETENTION_HOURS)
        return int(hours) * HOUR_MS

    # ------------------------------------------------------------------ the APIs
    def _topic_cluster(self, cluster_arn: str) -> MskCluster:
        cluster = self._provisioned(cluster_arn)
        version = cluster.settings["KafkaVersion"]
        if version_key(version) < catalog.TOPIC_APIS_MIN_VERSION:
            raise BadRequestException(
                f"The topic APIs need Apache Kafka 3.6.0 or later; the cluster runs {version}.",
                "clusterArn",
            )
        if cluster.state != "ACTIVE":
            raise BadRequestException(
                f"The cluster is in the {cluster.state} state. "
                "You can use the topic APIs only when it is ACTIVE.",
                "clusterArn",
            )
        return cluster

    def _topic(self, cluster: MskCluster, name: str) -> Topic:
        topic = cluster.topics.get(name)
        if topic is None:
            raise NotFoundException(f"The topic {name} does not exist.", "topicName")
        return topic

    def topic_arn(self, cluster: MskCluster, name: str) -> str:
        return cluster.arn.replace(":cluster/", ":topic/", 1) + f"/{name}"

    def create_topic(
        self,
        cluster_arn: str,
        name: str,
        partitions: int,
        replication_factor: int,
        configs: str | None,
    ) -> Topic:
        cluster = self._topic_cluster(cluster_arn)
        if name in cluster.topics:
            raise TopicExistsException(f"Topic '{name}' already exists.", "topicName")
        if catalog.is_express(cluster.settings["InstanceType"]) and replication_factor != 3:
            raise BadRequestException(
                "Express brokers use a replication factor of 3.", "replicationFactor"
            )
        if replication_factor > len(cluster.brokers):
            raise BadRequestException(
                f"Replication factor: {replication_factor} larger than available brokers: "
                f"{len(cluster.brokers)}.",
                "replicationFactor",
            )
        topic = Topic(
            name=name,
            partitions=placement.assign(name, partitions, replication_factor, cluster.racks),
            configs=_decode_configs(configs) if configs is not None else {},
        )
        cluster.topics[name] = topic
        return topic

    def update_topic(
        self, cluster_arn: str, name: str, configs: str | None, partitions: int | None
    ) -> Topic:
        cluster = self._topic_cluster(cluster_arn)
        topic = self._topic(cluster, name)
        if partitions is not None and partitions <= len(topic.partitions):
            raise BadRequestException(
                f"Topic currently has {len(topic.partitions)} partitions, which is higher than "
                f"the requested {partitions}.",
                "partitionCount",
            )
        if configs is not None:
            topic.configs = _decode_configs(configs)
        if partitions is not None:
            topic.partitions += placement.assign(
                name,
                partitions - len(topic.partitions),
                topic.replication_factor,
                cluster.racks,
                first_partition=len(topic.partitions),
            )
        return topic

    def delete_topic(self, cluster_arn: str, name: str) -> Topic:
        cluster = self._topic_cluster(cluster_arn)
        topic = self._topic(cluster, name)
        del cluster.topics[name]
        return topic

    def list_topics(self, cluster_arn: str, name_filter: str | None) -> list[dict[str, Any]]:
        cluster = self._topic_cluster(cluster_arn)
        return [
            {**self._topic_summary(cluster, topic), "OutOfSyncReplicaCount": _out_of_sync(topic)}
            for name, topic in sorted(cluster.topics.items())
            if name.startswith(name_filter or "")
        ]

    def describe_topic(self, cluster_arn: str, name: str) -> dict[str, Any]:
        cluster = self._topic_cluster(cluster_arn)
        topic = self._topic(cluster, name)
        configs = {RETENTION_MS: str(self.default_retention_ms(cluster)), **topic.configs}
        return {
            **self._topic_summary(cluster, topic),
            "Configs": encode_configs(configs),
            "Status": "ACTIVE",
        }

    def topic_partitions(self, cluster_arn: str, name: str) -> list[dict[str, Any]]:
        topic = self._topic(self._topic_cluster(cluster_arn), name)
        return [
            {
                "Partition": number,
                "Leader": partition.leader,
                "Replicas": list(partition.replicas),
                "Isr": list(partition.isr),
            }
            for number, partition in enumerate(topic.partitions)
        ]

    def _topic_summary(self, cluster: MskCluster, topic: Topic) -> dict[str, Any]:
        return {
            "TopicArn": self.topic_arn(cluster, topic.name),
            "TopicName": topic.name,
            "PartitionCount": len(topic.partitions),
            "ReplicationFactor": topic.replication_factor,
            "ReplicaIds": topic.broker_ids,
        }


def _out_of_sync(topic: Topic) -> int:
    return sum(
        (Counter(partition.replicas) - Counter(partition.isr)).total()
        for partition in topic.partitions
    )
