"""Create a fleet of MSK clusters in the emulator from a JSON/YAML description.

Everything goes through ordinary boto3 clients (kafka, and kms/secretsmanager for SCRAM users),
so the same spec seeds the in-process emulator and a running emulator server. See the package
docstring for the spec format.
"""

import base64
import json
import secrets
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import boto3
import msgspec
from botocore.awsrequest import AWSRequest
from moto.core.models import botocore_stubber

from msk_autopilot.versions.catalogue import version_key

from .catalog import TOPIC_APIS_MIN_VERSION
from .control import control
from .fleet_error import FleetError
from .health import BrokerHealth, ClusterHealth, set_cluster_health
from .metrics import put_linear_series
from .responses import PAST_SUPPORT_HEADER
from .seed_connectors import check_connectors, seed_connector
from .seed_trails import check_trails, seed_trail
from .server import CONTROL_PREFIX

# The recommended version: a cluster created today can run it (a fleet may still name one past
# end of support, which the seed places as accounts have them).
DEFAULT_KAFKA_VERSION = "3.8.x"
DEFAULT_SUBNETS = (
    "subnet-0a1b2c3d4e5f60001",
    "subnet-0a1b2c3d4e5f60002",
    "subnet-0a1b2c3d4e5f60003",
)
CLUSTER_KEYS = {
    "name",
    "serverless",
    "kafkaVersion",
    "brokers",
    "instanceType",
    "volumeSizeGiB",
    "provisionedThroughput",
    "storageMode",
    "subnets",
    "securityGroups",
    "configuration",
    "encryption",
    "authentication",
    "enhancedMonitoring",
    "openMonitoring",
    "logging",
    "publicAccess",
    "tags",
    "scramUsers",
    "diskUsage",
    "health",
    "topics",
}
DISK_USAGE_KEYS = {"from", "to", "hours", "brokers"}
TOPIC_KEYS = {
    "name",
    "partitions",
    "replicationFactor",
    "retentionHours",
    "bytesPerPartition",
    "configs",
}
HOUR_MS = 3_600_000
_HEALTH_FIELDS = msgspec.structs.fields(ClusterHealth)
SERVERLESS_KEYS = {"name", "serverless", "subnets", "securityGroups", "tags"}
CONFIGURATION_KEYS = {"name", "serverProperties", "kafkaVersions", "description"}


@dataclass
class SeededFleet:
    """ARNs of what ``seed_fleet`` created, by name."""

    clusters: dict[str, str] = field(default_factory=dict)
    configurations: dict[str, str] = field(default_factory=dict)
    scram_secrets: dict[str, list[str]] = field(default_factory=dict)
    connectors: dict[str, str] = field(default_factory=dict)
    trails: dict[str, str] = field(default_factory=dict)


def seed_fleet(
    session_or_clients: boto3.session.Session | Mapping[str, Any], spec: Mapping[str, Any]
) -> SeededFleet:
    """Create the configurations, clusters, connectors and trails of ``spec``; return their
    ARNs.

    ``session_or_clients`` is a boto3 Session or a mapping with "kafka" (and, for SCRAM users,
    "kms" and "secretsmanager", for connectors "kafkaconnect", for trails "cloudtrail" and "s3")
    clients. The spec's form (keys, names, references) is checked
    before anything is created; the emulator then checks each request as MSK does. When this
    returns, every cluster is ACTIVE with all its settings applied: the emulator's operations
    are completed (in-process through the control API, against a server through its
    ``/_msk_emulator/operations/complete`` endpoint).
    """
    _check_spec(spec)
    clients = _clients(session_or_clients, spec)
    kafka = clients["kafka"]
    control_url = _control_url(kafka)
    fleet = SeededFleet()
    with _past_support_allowed(kafka):
        for configuration in spec.get("configurations", []):
            created = kafka.create_configuration(
                Name=configuration["name"],
                ServerProperties=configuration["serverProperties"].encode(),
                KafkaVersions=configuration.get("kafkaVersions", []),
                Description=configuration.get("description", ""),
            )
            fleet.configurations[configuration["name"]] = created["Arn"]
        for cluster in spec.get("clusters", []):
            request = _cluster_request(cluster, fleet.configurations, kafka)
            fleet.clusters[cluster["name"]] = kafka.create_cluster_v2(**request)["ClusterArn"]
    _complete_operations(control_url)
    scram_clusters = [c for c in spec.get("clusters", []) if c.get("scramUsers")]
    if scram_clusters:
        key_id = clients["kms"].create_key(Description="msk-autopilot seeded SCRAM secrets")[
            "KeyMetadata"
        ]["KeyId"]
        for cluster in scram_clusters:
            fleet.scram_secrets[cluster["name"]] = _seed_scram_users(
                clients, fleet.clusters[cluster["name"]], cluster, key_id
            )
    for cluster in spec.get("clusters", []):
        if cluster.get("publicAccess"):
            arn = fleet.clusters[cluster["name"]]
            version = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
            kafka.update_connectivity(
                ClusterArn=arn,
                CurrentVersion=version,
                ConnectivityInfo={"PublicAccess": {"Type": "SERVICE_PROVIDED_EIPS"}},
            )
    _complete_operations(control_url)
    for cluster in spec.get("clusters", []):
        for topic in cluster.get("topics", []):
            _seed_topic(kafka, control_url, fleet.clusters[cluster["name"]], topic)
        if "diskUsage" in cluster:
            _seed_disk_usage(clients["cloudwatch"], cluster)
        if "health" in cluster:
            _set_health(control_url, fleet.clusters[cluster["name"]], cluster["health"])
    for connector in spec.get("connectors", []):
        fleet.connectors[connector["name"]] = seed_connector(
            kafka, clients["kafkaconnect"], fleet.clusters[connector["cluster"]], connector
        )
    for trail in spec.get("trails", []):
        fleet.trails[trail["name"]] = seed_trail(clients["cloudtrail"], clients["s3"], trail)
    return fleet


@contextmanager
def _past_support_allowed(kafka: Any) -> Iterator[None]:
    """Mark the seed's CreateClusterV2 and CreateConfiguration requests so that the emulator
    accepts versions past end of support: a fleet describes an account as it is, and accounts
    hold clusters created before their version's end of support, which MSK no longer creates."""

    def allow(request: AWSRequest, **_: Any) -> None:
        request.headers[PAST_SUPPORT_HEADER] = "true"

    events = [f"before-sign.kafka.{name}" for name in ("CreateClusterV2", "CreateConfiguration")]
    for event in events:
        kafka.meta.events.register(event, allow)
    try:
        yield
    finally:
        for event in events:
            kafka.meta.events.unregister(event, allow)


def _seed_disk_usage(cloudwatch: Any, cluster: Mapping[str, Any]) -> None:
    """KafkaDataLogsDiskUsed history: a straight line over the last `hours`, ending now."""
    usage = cluster["diskUsage"]
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    put_linear_series(
        cloudwatch,
        cluster["name"],
        broker_ids=usage.get("brokers") or range(1, cluster.get("brokers", 3) + 1),
        start=end - timedelta(hours=usage["hours"]),
        end=end,
        start_value=usage["from"],
        end_value=usage["to"],
    )


def _check_disk_usage(cluster: Mapping[str, Any]) -> None:
    usage = cluster["diskUsage"]
    what = f"Cluster {cluster['name']} diskUsage"
    if not isinstance(usage, Mapping):
        raise FleetError(f"{what} must be an object with from, to and hours.")
    if str(cluster.get("instanceType", "")).startswith("express."):
        raise FleetError(f"{what}: Express brokers publish no KafkaDataLogsDiskUsed.")
    _check_keys(usage, DISK_USAGE_KEYS, what)
    for key in ("from", "to"):
        value = usage.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            raise FleetError(f"{what}.{key} must be a percentage from 0 to 100, not {value!r}.")
    brokers = usage.get("brokers", [])
    if not isinstance(brokers, list) or not all(
        isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in brokers
    ):
        raise FleetError(f"{what}.brokers must be a list of broker IDs (1, 2, ...).")
    hours = usage.get("hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24 * 15:
        raise FleetError(
            f"{what}.hours must be above 0 and at most 360 (CloudWatch keeps one-minute data "
            f"for 15 days), not {hours!r}."
        )


def _check_health(cluster: Mapping[str, Any]) -> None:
    what = f"Cluster {cluster['name']} health"
    try:
        health = msgspec.convert(cluster["health"], ClusterHealth, str_keys=True)
        for override in health.brokers.values():
            msgspec.convert(override, BrokerHealth)
    except msgspec.ValidationError as error:
        raise FleetError(
            f"{what}: {error}. Known values: {', '.join(f.encode_name for f in _HEALTH_FIELDS)}."
        ) from None
    count = cluster.get("brokers", len(cluster.get("subnets", DEFAULT_SUBNETS)))
    unknown = sorted(broker for broker in health.brokers if not 1 <= broker <= count)
    if unknown:
        raise FleetError(f"{what}.brokers: the cluster has no broker {unknown[0]} (1 to {count}).")


def _check_topics(cluster: Mapping[str, Any]) -> None:
    what = f"Cluster {cluster['name']} topics"
    topics = cluster["topics"]
    if not isinstance(topics, list):
        raise FleetError(f"{what} must be a list of topics.")
    version = cluster.get("kafkaVersion", DEFAULT_KAFKA_VERSION)
    if topics and version_key(version) < TOPIC_APIS_MIN_VERSION:
        raise FleetError(f"{what}: the topic APIs need Apache Kafka 3.6.0 or later, not {version}.")
    if topics and "partitionCount" in cluster.get("health", {}):
        raise FleetError(
            f"{what}: a cluster with topics reports the replicas placed on each broker as its "
            "PartitionCount; remove health.partitionCount."
        )
    names = set()
    for topic in topics:
        if not isinstance(topic, Mapping) or not isinstance(topic.get("name"), str):
            raise FleetError(f"Every topic of {what} is an object with a name.")
        _check_keys(topic, TOPIC_KEYS, f"topic {topic['name']} of cluster {cluster['name']}")
        if topic["name"] in names:
            raise FleetError(f"{what}: {topic['name']} appears twice.")
        names.add(topic["name"])
        for key, low in (("partitions", 1), ("replicationFactor", 1), ("bytesPerPartition", 0)):
            value = topic.get(key, low)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise FleetError(
                    f"{what}: {topic['name']}.{key} must be a whole number >= {low}, not {value!r}."
                )
        hours = topic.get("retentionHours", 1)
        if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
            raise FleetError(
                f"{what}: {topic['name']}.retentionHours must be above 0, not {hours!r}."
            )
        if not isinstance(topic.get("configs", {}), Mapping):
            raise FleetError(
                f"{what}: {topic['name']}.configs is a mapping of topic settings, like "
                "{min.insync.replicas: 2}."
            )


def _seed_topic(
    kafka: Any, control_url: str | None, cluster_arn: str, topic: Mapping[str, Any]
) -> None:
    configs = {key: str(value) for key, value in topic.get("configs", {}).items()}
    if "retentionHours" in topic:
        configs["retention.ms"] = str(round(topic["retentionHours"] * HOUR_MS))
    kafka.create_topic(
        ClusterArn=cluster_arn,
        TopicName=topic["name"],
        PartitionCount=topic.get("partitions", 1),
        ReplicationFactor=topic.get("replicationFactor", 3),
        Configs=base64.b64encode(json.dumps(configs).encode()).decode(),
    )
    size = topic.get("bytesPerPartition", 0)
    if control_url is None:
        control.set_partition_bytes(cluster_arn, topic["name"], size)
    else:
        _post(
            f"{control_url}/topics/bytes",
            {"clusterArn": cluster_arn, "topic": topic["name"], "bytesPerPartition": size},
        )


def _check_spec(spec: Mapping[str, Any]) -> None:
    unknown = set(spec) - {"clusters", "configurations", "connectors", "trails"}
    if unknown:
        raise FleetError(f"Unknown fleet spec keys: {sorted(unknown)}.")
    configuration_names = set()
    for configuration in spec.get("configurations", []):
        _check_keys(configuration, CONFIGURATION_KEYS, "configuration")
        if "name" not in configuration or "serverProperties" not in configuration:
            raise FleetError("Every configuration needs a name and serverProperties.")
        configuration_names.add(configuration["name"])
    names = set()
    for cluster in spec.get("clusters", []):
        if "name" not in cluster:
            raise FleetError("Every cluster needs a name.")
        allowed = SERVERLESS_KEYS if cluster.get("serverless") else CLUSTER_KEYS
        _check_keys(cluster, allowed, f"cluster {cluster['name']}")
        if cluster["name"] in names:
            raise FleetError(f"Cluster {cluster['name']} appears twice.")
        names.add(cluster["name"])
        reference = cluster.get("configuration")
        if reference is not None:
            name = reference if isinstance(reference, str) else reference.get("name")
            if name not in configuration_names:
                raise FleetError(f"Cluster {cluster['name']} uses unknown configuration {name!r}.")
        if "diskUsage" in cluster:
            _check_disk_usage(cluster)
        if "topics" in cluster:
            _check_topics(cluster)
        if "health" in cluster:
            _check_health(cluster)
        if cluster.get("scramUsers") and not cluster.get("authentication", {}).get("scram"):
            raise FleetError(
                f"Cluster {cluster['name']} has scramUsers but authentication.scram is off."
            )
    _check_connectors_and_trails(spec)


def _check_connectors_and_trails(spec: Mapping[str, Any]) -> None:
    if "connectors" in spec:
        provisioned = {c["name"] for c in spec.get("clusters", []) if not c.get("serverless")}
        check_connectors(spec["connectors"], provisioned)
    if "trails" in spec:
        check_trails(spec["trails"])


def _check_keys(item: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = set(item) - allowed
    if unknown:
        raise FleetError(f"Unknown keys for {what}: {sorted(unknown)}. Allowed: {sorted(allowed)}.")


def _clients(
    session_or_clients: boto3.session.Session | Mapping[str, Any], spec: Mapping[str, Any]
) -> dict[str, Any]:
    needed = ["kafka"]
    if any(cluster.get("scramUsers") for cluster in spec.get("clusters", [])):
        needed += ["kms", "secretsmanager"]
    if any("diskUsage" in cluster for cluster in spec.get("clusters", [])):
        needed.append("cloudwatch")
    if spec.get("connectors"):
        needed.append("kafkaconnect")
    if spec.get("trails"):
        needed += ["cloudtrail", "s3"]
    if isinstance(session_or_clients, boto3.session.Session):
        return {name: session_or_clients.client(name) for name in needed}
    missing = [name for name in needed if name not in session_or_clients]
    if missing:
        raise FleetError(f"seed_fleet needs clients for: {', '.join(missing)}.")
    return dict(session_or_clients)


def _cluster_request(
    cluster: Mapping[str, Any], configurations: dict[str, str], kafka: Any
) -> dict[str, Any]:
    subnets = list(cluster.get("subnets", DEFAULT_SUBNETS))
    security_groups = list(cluster.get("securityGroups", []))
    request: dict[str, Any] = {
        "ClusterName": cluster["name"],
        "Tags": dict(cluster.get("tags", {})),
    }
    if cluster.get("serverless"):
        vpc_config: dict[str, Any] = {"SubnetIds": subnets}
        if security_groups:
            vpc_config["SecurityGroupIds"] = security_groups
        request["Serverless"] = {
            "VpcConfigs": [vpc_config],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        }
        return request
    group: dict[str, Any] = {
        "ClientSubnets": subnets,
        "InstanceType": cluster.get("instanceType", "kafka.m5.large"),
        "SecurityGroups": security_groups,
    }
    if not group["InstanceType"].startswith("express."):
        ebs: dict[str, Any] = {"VolumeSize": cluster.get("volumeSizeGiB", 1000)}
        if cluster.get("provisionedThroughput"):
            ebs["ProvisionedThroughput"] = {
                "Enabled": True,
                "VolumeThroughput": cluster["provisionedThroughput"],
            }
        group["StorageInfo"] = {"EbsStorageInfo": ebs}
    provisioned: dict[str, Any] = {
        "BrokerNodeGroupInfo": group,
        "KafkaVersion": cluster.get("kafkaVersion", DEFAULT_KAFKA_VERSION),
        "NumberOfBrokerNodes": cluster.get("brokers", len(subnets)),
        "EnhancedMonitoring": cluster.get("enhancedMonitoring", "DEFAULT"),
        "StorageMode": cluster.get("storageMode", "LOCAL"),
        "ClientAuthentication": _authentication(cluster.get("authentication", {})),
        "EncryptionInfo": _encryption(cluster.get("encryption", {})),
    }
    if "openMonitoring" in cluster:
        exporters = cluster["openMonitoring"]
        provisioned["OpenMonitoring"] = {
            "Prometheus": {
                "JmxExporter": {"EnabledInBroker": bool(exporters.get("jmxExporter"))},
                "NodeExporter": {"EnabledInBroker": bool(exporters.get("nodeExporter"))},
            }
        }
    if "logging" in cluster:
        provisioned["LoggingInfo"] = {"BrokerLogs": _broker_logs(cluster["logging"])}
    reference = cluster.get("configuration")
    if reference is not None:
        name = reference if isinstance(reference, str) else reference["name"]
        arn = configurations[name]
        revision = reference.get("revision") if isinstance(reference, Mapping) else None
        if revision is None:
            revision = kafka.describe_configuration(Arn=arn)["LatestRevision"]["Revision"]
        provisioned["ConfigurationInfo"] = {"Arn": arn, "Revision": revision}
    request["Provisioned"] = provisioned
    return request


def _authentication(auth: Mapping[str, Any]) -> dict[str, Any]:
    authorities = list(auth.get("tlsCertificateAuthorities", []))
    scram, iam = bool(auth.get("scram")), bool(auth.get("iam"))
    return {
        "Sasl": {"Scram": {"Enabled": scram}, "Iam": {"Enabled": iam}},
        "Tls": {"Enabled": bool(authorities), "CertificateAuthorityArnList": authorities},
        "Unauthenticated": {
            "Enabled": bool(auth.get("unauthenticated", not (scram or iam or authorities)))
        },
    }


def _encryption(encryption: Mapping[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "EncryptionInTransit": {
            "ClientBroker": encryption.get("clientBroker", "TLS"),
            "InCluster": encryption.get("inCluster", True),
        }
    }
    if "kmsKeyId" in encryption:
        info["EncryptionAtRest"] = {"DataVolumeKMSKeyId": encryption["kmsKeyId"]}
    return info


def _broker_logs(logging: Mapping[str, Any]) -> dict[str, Any]:
    logs: dict[str, Any] = {}
    if "cloudWatchLogGroup" in logging:
        logs["CloudWatchLogs"] = {"Enabled": True, "LogGroup": logging["cloudWatchLogGroup"]}
    if "s3Bucket" in logging:
        logs["S3"] = {
            "Enabled": True,
            "Bucket": logging["s3Bucket"],
            "Prefix": logging.get("s3Prefix", ""),
        }
    if "firehoseDeliveryStream" in logging:
        logs["Firehose"] = {"Enabled": True, "DeliveryStream": logging["firehoseDeliveryStream"]}
    return logs


def _seed_scram_users(
    clients: dict[str, Any], cluster_arn: str, cluster: Mapping[str, Any], key_id: str
) -> list[str]:
    # A cluster's users carry its tags: those of an opted-in cluster are opted in too.
    tags = [{"Key": key, "Value": value} for key, value in cluster.get("tags", {}).items()]
    secret_arns = [
        clients["secretsmanager"].create_secret(
            Name=f"AmazonMSK_{cluster['name']}_{user}",
            KmsKeyId=key_id,
            SecretString=json.dumps({"username": user, "password": secrets.token_urlsafe(16)}),
            Tags=tags,
        )["ARN"]
        for user in cluster["scramUsers"]
    ]
    for start in range(0, len(secret_arns), 10):
        response = clients["kafka"].batch_associate_scram_secret(
            ClusterArn=cluster_arn, SecretArnList=secret_arns[start : start + 10]
        )
        if response.get("UnprocessedScramSecrets"):
            raise RuntimeError(f"SCRAM secrets were refused: {response['UnprocessedScramSecrets']}")
    return secret_arns


def _control_url(kafka: Any) -> str | None:
    """The server's control endpoints' base URL, or None for the in-process emulator.

    An AWS endpoint is acceptable only while moto intercepts the calls: this never seeds a real
    account.
    """
    endpoint = urlparse(kafka.meta.endpoint_url)
    if endpoint.hostname and endpoint.hostname.endswith(".amazonaws.com"):
        if not botocore_stubber.enabled:
            raise RuntimeError("seed_fleet only seeds the MSK emulator, never a real AWS account.")
        return None
    if endpoint.scheme not in ("http", "https"):
        raise FleetError(f"Unsupported emulator endpoint {kafka.meta.endpoint_url}.")
    return f"{endpoint.scheme}://{endpoint.netloc}{CONTROL_PREFIX}"


def _complete_operations(control_url: str | None) -> None:
    if control_url is None:
        control.complete_operations()
        return
    _post(f"{control_url}/operations/complete", {})


def _set_health(control_url: str | None, cluster_arn: str, health: Mapping[str, Any]) -> None:
    brokers = health.get("brokers", {})
    whole = {name: value for name, value in health.items() if name != "brokers"}
    if control_url is None:
        set_cluster_health(cluster_arn, whole)
        for broker, values in brokers.items():
            set_cluster_health(cluster_arn, values, int(broker))
        return
    _post(f"{control_url}/clusters/health", {"clusterArn": cluster_arn, **whole})
    for broker, values in brokers.items():
        _post(
            f"{control_url}/clusters/health",
            {"clusterArn": cluster_arn, "broker": int(broker), **values},
        )


def _post(url: str, document: Mapping[str, Any]) -> None:
    # S310: the URL is the emulator's own http(s) endpoint, checked in _control_url.
    request = urllib.request.Request(  # noqa: S310
        url,
        data=json.dumps(document).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
