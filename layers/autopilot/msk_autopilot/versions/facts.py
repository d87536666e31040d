"""Read what `plan_fleet` needs from MSK, read-only: the version upgrader and `plan-upgrades`
share it, so the plan a person previews is the plan the function acts on.

Per provisioned cluster: DescribeClusterV2's fields from ListClustersV2 (version, state, tags,
configuration ARN and revision), its UPDATE_CLUSTER_KAFKA_VERSION operations
(ListClusterOperationsV2) and its configuration's KafkaVersions (ListConfigurations: the list
belongs to the configuration, not to a revision). For the fleet: the catalogue reconciled with
ListKafkaVersions and the compatibility graph (GetCompatibleKafkaVersions without ClusterArn).
Serverless clusters have no Kafka version to upgrade and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from msk_autopilot.aws import pages
from msk_autopilot.msk import ClusterSnapshot, MskReader, Operation
from msk_autopilot.versions.catalogue import Catalogue
from msk_autopilot.versions.paths import CompatibilityGraph
from msk_autopilot.versions.plan import ClusterFacts, UpgradeOperation

__all__ = ["UPGRADE_OPERATION", "Fleet", "read_fleet"]

UPGRADE_OPERATION = "UPDATE_CLUSTER_KAFKA_VERSION"


class Fleet(msgspec.Struct, frozen=True):
    """The facts of one read; `snapshots` and `operations` by ARN, for the health gates."""

    facts: tuple[ClusterFacts, ...]
    catalogue: Catalogue
    graph: CompatibilityGraph
    snapshots: Mapping[str, ClusterSnapshot]
    operations: Mapping[str, Sequence[Operation]]


def read_fleet(reader: MskReader, catalogue: Catalogue, *, opt_in_tag_key: str) -> Fleet:
    kafka = reader.kafka
    listed = {
        str(entry["Version"]): str(entry.get("Status", ""))
        for page in pages(kafka.list_kafka_versions)
        for entry in page.get("KafkaVersions", [])
    }
    configurations = {
        configuration.arn: tuple(configuration.kafka_versions)
        for configuration in reader.configurations()
    }
    facts: list[ClusterFacts] = []
    snapshots: dict[str, ClusterSnapshot] = {}
    operations: dict[str, list[Operation]] = {}
    for cluster in reader.clusters():
        software = cluster.provisioned.current_broker_software_info if cluster.provisioned else None
        if software is None or software.kafka_version is None:
            continue
        arn = cluster.cluster_arn
        snapshots[arn] = cluster
        operations[arn] = reader.operations(arn)
        facts.append(
            ClusterFacts(
                arn=arn,
                name=cluster.cluster_name,
                current_version=software.kafka_version,
                state=cluster.state,
                opted_in=cluster.opted_in(opt_in_tag_key),
                tags=dict(cluster.tags),
                configuration_arn=software.configuration_arn,
                configuration_revision=software.configuration_revision,
                configuration_kafka_versions=(
                    configurations.get(software.configuration_arn, ())
                    if software.configuration_arn
                    else None
                ),
                upgrades=_upgrades(operations[arn]),
            )
        )
    return Fleet(
        facts=tuple(facts),
        catalogue=catalogue.reconciled(listed),
        graph=_graph(kafka),
        snapshots=snapshots,
        operations=operations,
    )


def _upgrades(operations: Sequence[Operation]) -> tuple[UpgradeOperation, ...]:
    return tuple(
        UpgradeOperation(op.operation_state, op.start_time, op.end_time)
        for op in operations
        if op.operation_type == UPGRADE_OPERATION and op.start_time is not None
    )


def _graph(kafka: Any) -> dict[str, tuple[str, ...]]:
    """GetCompatibleKafkaVersions for every source version MSK lists."""
    response = kafka.get_compatible_kafka_versions()
    return {
        str(entry["SourceVersion"]): tuple(str(target) for target in entry["TargetVersions"])
        for entry in response.get("CompatibleKafkaVersions", [])
    }
