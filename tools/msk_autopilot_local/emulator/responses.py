"""HTTP side of the MSK emulator: route a request to its operation, parse, call the backend.

``MskResponse`` extends moto's ``KafkaResponse`` and answers as ``emulated_response`` does: which
operation a request is comes from moto's router (botocore's model: method plus path); the request
is parsed and checked by ``params``; the result goes through moto's botocore-model serializer, so
responses carry the real wire names, ISO-8601 timestamps and base64 blobs.
"""

import functools
from collections.abc import Callable
from typing import Any

from moto.core.common_types import TYPE_RESPONSE
from moto.kafka.models import kafka_backends
from moto.kafka.responses import KafkaResponse

from . import catalog
from .emulated_response import EmulatedResponse, Params
from .exceptions import BadRequestException
from .models import ClusterOperation, MskBackend, MskConfiguration, Topic
from .paging import page, page_window, token_for

# A request with this header set to "true" may create clusters and configurations on versions
# past end of support (DEPRECATED), which MSK refuses: the fleet seed's way of recreating an
# account as it is, with clusters made before their version's end of support.
PAST_SUPPORT_HEADER = "x-msk-emulator-past-support-allowed"
# Where call_action passes that permission to a handler: not a botocore member name, so it
# cannot collide with a request's own parameters.
PAST_SUPPORT_ALLOWED = "past-support-allowed"
Handler = Callable[[MskBackend, Params], dict[str, Any]]
_HANDLERS: dict[str, Handler] = {}


def handles(operation_name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[operation_name] = handler
        return handler

    return register


class MskResponse(EmulatedResponse, KafkaResponse):
    """moto's kafka responses, answering every operation the emulator implements."""

    def call_action(self) -> TYPE_RESPONSE:
        past_support_allowed = self.headers.get(PAST_SUPPORT_HEADER) == "true"
        return self.answer_operation(
            "MSK", _HANDLERS, self._advanced_backend, {PAST_SUPPORT_ALLOWED: past_support_allowed}
        )

    def _advanced_backend(self) -> MskBackend:
        """This account's backend, its clusters' lifecycles brought up to now."""
        backend = kafka_backends[self.current_account][self.region]
        if not isinstance(backend, MskBackend):
            raise TypeError("The MSK emulator is not installed: call emulator.install() first.")
        backend.advance_lifecycle()
        return backend


def _page[Item](items: list[Item], params: Params) -> tuple[list[Item], dict[str, Any]]:
    """One page of ``items`` and the NextToken entry (if more follow) for the response."""
    items_page, token = page(items, params.get("MaxResults"), params.get("NextToken"))
    return items_page, {"NextToken": token} if token else {}


def _described_page(
    describe: Callable[[slice], list[dict[str, Any]]], params: Params
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of cluster descriptions, only that page's built: describing the whole fleet for
    every page made listing a large fleet quadratic. One description past the page tells
    whether another page follows."""
    start, end = page_window(params.get("MaxResults"), params.get("NextToken"))
    described = describe(slice(start, end + 1))
    token = {"NextToken": token_for(end)} if len(described) > end - start else {}
    return described[: end - start], token


def _operation_started(operation: ClusterOperation) -> dict[str, Any]:
    return {"ClusterArn": operation.cluster_arn, "ClusterOperationArn": operation.arn}


# ------------------------------------------------------------------------ clusters
@handles("CreateCluster")
def _create_cluster(backend: MskBackend, params: Params) -> dict[str, Any]:
    cluster = backend.create_provisioned_cluster(
        params["ClusterName"],
        params,
        params.get("Tags"),
        past_support_allowed=params[PAST_SUPPORT_ALLOWED],
    )
    return {"ClusterArn": cluster.arn, "ClusterName": cluster.name, "State": cluster.state}


@handles("CreateClusterV2")
def _create_cluster_v2(backend: MskBackend, params: Params) -> dict[str, Any]:
    name, tags = params["ClusterName"], params.get("Tags")
    if ("Provisioned" in params) == ("Serverless" in params):
        raise BadRequestException(
            "Specify exactly one of provisioned and serverless.", "provisioned"
        )
    if "Provisioned" in params:
        cluster = backend.create_provisioned_cluster(
            name, params["Provisioned"], tags, past_support_allowed=params[PAST_SUPPORT_ALLOWED]
        )
    else:
        cluster = backend.create_serverless_cluster(name, params["Serverless"], tags)
    return {
        "ClusterArn": cluster.arn,
        "ClusterName": cluster.name,
        "ClusterType": cluster.cluster_type,
        "State": cluster.state,
    }


@handles("DescribeCluster")
def _describe_cluster(backend: MskBackend, params: Params) -> dict[str, Any]:
    return {"ClusterInfo": backend.cluster_info_v1(params["ClusterArn"])}


@handles("DescribeClusterV2")
def _describe_cluster_v2(backend: MskBackend, params: Params) -> dict[str, Any]:
    return {"ClusterInfo": backend.cluster_info_v2(params["ClusterArn"])}


@handles("ListClusters")
def _list_clusters(backend: MskBackend, params: Params) -> dict[str, Any]:
    page, token = _described_page(
        functools.partial(backend.list_cluster_infos_v1, params.get("ClusterNameFilter")), params
    )
    return {"ClusterInfoList": page, **token}


@handles("ListClustersV2")
def _list_clusters_v2(backend: MskBackend, params: Params) -> dict[str, Any]:
    cluster_type = params.get("ClusterTypeFilter")
    if cluster_type is not None and cluster_type.upper() not in ("PROVISIONED", "SERVERLESS"):
        raise BadRequestException(
            "clusterTypeFilter must be PROVISIONED or SERVERLESS.", "clusterTypeFilter"
        )
    page, token = _described_page(
        functools.partial(
            backend.list_cluster_infos_v2, params.get("ClusterNameFilter"), cluster_type
        ),
        params,
    )
    return {"ClusterInfoList": page, **token}


@handles("DeleteCluster")
def _delete_cluster(backend: MskBackend, params: Params) -> dict[str, Any]:
    arn, state = backend.delete_cluster(params["ClusterArn"], params.get("CurrentVersion"))
    return {"ClusterArn": arn, "State": state}


# ------------------------------------------------------------------------ updates
@handles("UpdateBrokerStorage")
def _update_broker_storage(backend: MskBackend, params: Params) -> dict[str, Any]:
    return _operation_started(
        backend.update_broker_storage(
            params["ClusterArn"], params["CurrentVersion"], params["TargetBrokerEBSVolumeInfo"]
        )
    )


@handles("UpdateStorage")
def _update_storage(backend: MskBackend, params: Params) -> dict[str, Any]:
    return _operation_started(
        backend.update_storage(
            params["ClusterArn"],
            params["CurrentVersion"],
            params.get("VolumeSizeGB"),
            params.get("ProvisionedThroughput"),
            params.get("StorageMode"),
        )
    )


@handles("UpdateBrokerCount")
def _update_broker_count(backend: MskBackend, params: Params) -> dict[str, Any]:
    return _operation_started(
        backend.update_broker_count(
            params["ClusterArn"], params["CurrentVersion"], params["TargetNumberOfBrokerNodes"]
        )
    )


@handles("UpdateBrokerType")
def _update_broker_type(backend: MskBackend, params: Params) -> dict[str, Any]:
    return _operation_started(
        backend.update_broker_type(
            params["ClusterArn"], params["CurrentVersion"], params["TargetInstanceType"]
        )
    )


@handles("UpdateRebalancing")
def _update_rebalancing(backend: MskBackend, params: Params) -> dict[str, Any]:
    return _operation_started(
        backend.update_rebalancing(
            params["ClusterArn"], params["CurrentVersion"], params["Rebalancing"]["Status"]
        )
    )


@handles("UpdateClusterConfiguration")
def _update_cluster_configuration(backend: MskBackend, params: Params) -> dict[str, Any]:
    return _operation_started(
        backend.update_cluster_configuration(
            params["ClusterArn"], params["CurrentVersion"], params["ConfigurationInfo"]
        )
    )


@handles("UpdateClusterKafkaVersion")
def _update_cluster_kafka_version(backend: MskBackend, params: Params) -> dict[str, Any]:
    return _operation_started(
        backend.update_cluster_kafka_version(
            params["ClusterArn"],
            params["CurrentVersion"],
            params["TargetKafkaVersion"],
            params.get("ConfigurationInfo"),
        )
    )


@handles("UpdateConnectivity")
def _update_connectivity(backend: MskBackend, params: Params) -> dict[str, Any]:
    return _operation_started(
        backend.update_connectivity(
            params["ClusterArn"], params["CurrentVersion"], params.get("ConnectivityInfo")
        )
    )


@handles("UpdateMonitoring")
def _update_monitoring(backend: MskBackend, params: Params) -> dict[str, Any]:
    return _operation_started(
        backend.update_monitoring(params["ClusterArn"], params["CurrentVersion"], params)
    )


@handles("UpdateSecurity")
def _update_security(backend: MskBackend, params: Params) -> dict[str, Any]:
    return _operation_started(
        backend.update_security(
            params["ClusterArn"],
            params["CurrentVersion"],
            params.get("ClientAuthentication"),
            params.get("EncryptionInfo"),
        )
    )


@handles("RebootBroker")
def _reboot_broker(backend: MskBackend, params: Params) -> dict[str, Any]:
    return _operation_started(backend.reboot_broker(params["ClusterArn"], params["BrokerIds"]))


# ------------------------------------------------------------------ operations
@handles("ListClusterOperations")
def _list_cluster_operations(backend: MskBackend, params: Params) -> dict[str, Any]:
    operations = backend.cluster_operations(params["ClusterArn"])
    page, token = _page(operations, params)
    return {"ClusterOperationInfoList": [op.info_v1() for op in page], **token}


@handles("ListClusterOperationsV2")
def _list_cluster_operations_v2(backend: MskBackend, params: Params) -> dict[str, Any]:
    operations = backend.cluster_operations(params["ClusterArn"])
    page, token = _page(operations, params)
    return {"ClusterOperationInfoList": [op.summary_v2() for op in page], **token}


@handles("DescribeClusterOperation")
def _describe_cluster_operation(backend: MskBackend, params: Params) -> dict[str, Any]:
    return {"ClusterOperationInfo": backend.describe_operation_v1(params["ClusterOperationArn"])}


@handles("DescribeClusterOperationV2")
def _describe_cluster_operation_v2(backend: MskBackend, params: Params) -> dict[str, Any]:
    return {"ClusterOperationInfo": backend.describe_operation_v2(params["ClusterOperationArn"])}


# --------------------------------------------------------------- configurations
def _configuration_created(configuration: MskConfiguration) -> dict[str, Any]:
    return {
        "Arn": configuration.arn,
        "CreationTime": configuration.created,
        "LatestRevision": configuration.revisions[-1].summary(),
        "Name": configuration.name,
        "State": configuration.state,
    }


@handles("CreateConfiguration")
def _create_configuration(backend: MskBackend, params: Params) -> dict[str, Any]:
    configuration = backend.create_configuration(
        params["Name"],
        params["ServerProperties"],
        params.get("KafkaVersions", []),
        params.get("Description", ""),
        past_support_allowed=params[PAST_SUPPORT_ALLOWED],
    )
    return _configuration_created(configuration)


@handles("UpdateConfiguration")
def _update_configuration(backend: MskBackend, params: Params) -> dict[str, Any]:
    configuration = backend.update_configuration(
        params["Arn"], params["ServerProperties"], params.get("Description", "")
    )
    return {"Arn": configuration.arn, "LatestRevision": configuration.revisions[-1].summary()}


@handles("DescribeConfiguration")
def _describe_configuration(backend: MskBackend, params: Params) -> dict[str, Any]:
    return backend.describe_configuration(params["Arn"]).info()


@handles("DescribeConfigurationRevision")
def _describe_configuration_revision(backend: MskBackend, params: Params) -> dict[str, Any]:
    revision = backend.configuration_revision(params["Arn"], params["Revision"])
    return {
        "Arn": params["Arn"],
        **revision.summary(),
        "ServerProperties": revision.server_properties,
    }


@handles("ListConfigurations")
def _list_configurations(backend: MskBackend, params: Params) -> dict[str, Any]:
    page, token = _page(backend.list_configurations(), params)
    return {"Configurations": [configuration.info() for configuration in page], **token}


@handles("ListConfigurationRevisions")
def _list_configuration_revisions(backend: MskBackend, params: Params) -> dict[str, Any]:
    revisions = backend.describe_configuration(params["Arn"]).revisions
    page, token = _page(revisions, params)
    return {"Revisions": [revision.summary() for revision in page], **token}


@handles("DeleteConfiguration")
def _delete_configuration(backend: MskBackend, params: Params) -> dict[str, Any]:
    configuration = backend.delete_configuration(params["Arn"])
    return {"Arn": configuration.arn, "State": configuration.state}


# ------------------------------------------------------------------------- SCRAM
@handles("BatchAssociateScramSecret")
def _batch_associate_scram_secret(backend: MskBackend, params: Params) -> dict[str, Any]:
    unprocessed = backend.associate_scram_secrets(params["ClusterArn"], params["SecretArnList"])
    return {"ClusterArn": params["ClusterArn"], "UnprocessedScramSecrets": unprocessed}


@handles("BatchDisassociateScramSecret")
def _batch_disassociate_scram_secret(backend: MskBackend, params: Params) -> dict[str, Any]:
    unprocessed = backend.disassociate_scram_secrets(params["ClusterArn"], params["SecretArnList"])
    return {"ClusterArn": params["ClusterArn"], "UnprocessedScramSecrets": unprocessed}


@handles("ListScramSecrets")
def _list_scram_secrets(backend: MskBackend, params: Params) -> dict[str, Any]:
    page, token = _page(backend.list_scram_secrets(params["ClusterArn"]), params)
    return {"SecretArnList": page, **token}


# ------------------------------------------------------------ nodes and versions
@handles("ListNodes")
def _list_nodes(backend: MskBackend, params: Params) -> dict[str, Any]:
    page, token = _page(backend.list_nodes(params["ClusterArn"]), params)
    return {"NodeInfoList": page, **token}


@handles("GetBootstrapBrokers")
def _get_bootstrap_brokers(backend: MskBackend, params: Params) -> dict[str, Any]:
    return backend.bootstrap_brokers(params["ClusterArn"])


@handles("ListKafkaVersions")
def _list_kafka_versions(backend: MskBackend, params: Params) -> dict[str, Any]:
    versions = [
        {"Version": v, "Status": status} for v, status in catalog.kafka_versions(catalog.today())
    ]
    page, token = _page(versions, params)
    return {"KafkaVersions": page, **token}


@handles("GetCompatibleKafkaVersions")
def _get_compatible_kafka_versions(backend: MskBackend, params: Params) -> dict[str, Any]:
    return {"CompatibleKafkaVersions": backend.compatible_kafka_versions(params.get("ClusterArn"))}


# ------------------------------------------------------------------------ topics
def _topic_changed(backend: MskBackend, params: Params, topic: Topic, status: str) -> Params:
    cluster = backend.msk_clusters[params["ClusterArn"]]
    return {
        "TopicArn": backend.topic_arn(cluster, topic.name),
        "TopicName": topic.name,
        "Status": status,
    }


@handles("ListTopics")
def _list_topics(backend: MskBackend, params: Params) -> dict[str, Any]:
    topics = backend.list_topics(params["ClusterArn"], params.get("TopicNameFilter"))
    page, token = _page(topics, params)
    return {"Topics": page, **token}


@handles("DescribeTopic")
def _describe_topic(backend: MskBackend, params: Params) -> dict[str, Any]:
    return backend.describe_topic(params["ClusterArn"], params["TopicName"])


@handles("DescribeTopicPartitions")
def _describe_topic_partitions(backend: MskBackend, params: Params) -> dict[str, Any]:
    partitions = backend.topic_partitions(params["ClusterArn"], params["TopicName"])
    page, token = _page(partitions, params)
    return {"Partitions": page, **token}


@handles("CreateTopic")
def _create_topic(backend: MskBackend, params: Params) -> dict[str, Any]:
    topic = backend.create_topic(
        params["ClusterArn"],
        params["TopicName"],
        params["PartitionCount"],
        params["ReplicationFactor"],
        params.get("Configs"),
    )
    return _topic_changed(backend, params, topic, "CREATING")


@handles("UpdateTopic")
def _update_topic(backend: MskBackend, params: Params) -> dict[str, Any]:
    topic = backend.update_topic(
        params["ClusterArn"],
        params["TopicName"],
        params.get("Configs"),
        params.get("PartitionCount"),
    )
    return _topic_changed(backend, params, topic, "UPDATING")


@handles("DeleteTopic")
def _delete_topic(backend: MskBackend, params: Params) -> dict[str, Any]:
    topic = backend.delete_topic(params["ClusterArn"], params["TopicName"])
    return _topic_changed(backend, params, topic, "DELETING")


# ------------------------------------------------------------ policies and tags
@handles("PutClusterPolicy")
def _put_cluster_policy(backend: MskBackend, params: Params) -> dict[str, Any]:
    version = backend.put_cluster_policy(
        params["ClusterArn"], params.get("CurrentVersion"), params["Policy"]
    )
    return {"CurrentVersion": version}


@handles("GetClusterPolicy")
def _get_cluster_policy(backend: MskBackend, params: Params) -> dict[str, Any]:
    policy, version = backend.get_cluster_policy(params["ClusterArn"])
    return {"CurrentVersion": version, "Policy": policy}


@handles("DeleteClusterPolicy")
def _delete_cluster_policy(backend: MskBackend, params: Params) -> dict[str, Any]:
    backend.delete_cluster_policy(params["ClusterArn"])
    return {}


@handles("TagResource")
def _tag_resource(backend: MskBackend, params: Params) -> dict[str, Any]:
    backend.check_taggable(params["ResourceArn"])
    backend.tag_resource(params["ResourceArn"], params["Tags"])
    return {}


@handles("UntagResource")
def _untag_resource(backend: MskBackend, params: Params) -> dict[str, Any]:
    backend.check_taggable(params["ResourceArn"])
    backend.untag_resource(params["ResourceArn"], params["TagKeys"])
    return {}


@handles("ListTagsForResource")
def _list_tags_for_resource(backend: MskBackend, params: Params) -> dict[str, Any]:
    backend.check_taggable(params["ResourceArn"])
    return {"Tags": backend.list_tags_for_resource(params["ResourceArn"])}
