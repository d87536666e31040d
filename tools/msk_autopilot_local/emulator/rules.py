"""MSK's rules for cluster settings, and the full form DescribeCluster shows for each setting.

Functions here check a request's settings (raising BadRequestException with the parameter at
fault) or expand a partial request into what MSK reports, without touching any state.
"""

import copy
from typing import Any

from msk_autopilot.versions.catalogue import version_key

from . import catalog
from .exceptions import BadRequestException

MIN_PROVISIONED_THROUGHPUT = 250
ALL_VOLUMES = "ALL"


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def enabled(section: dict[str, Any] | None, *path: str) -> bool:
    node: Any = section or {}
    for key in path:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return bool(node.get("Enabled", False)) if isinstance(node, dict) else False


def check_creatable_version(version: str, parameter: str, *, past_support_allowed: bool) -> None:
    """MSK creates clusters and configurations only on the versions it offers (ACTIVE);
    ``past_support_allowed`` also lets a DEPRECATED one through, for the fleet seed, which
    recreates what accounts already hold."""
    status = catalog.version_status(version)
    if status == catalog.ACTIVE or (status == catalog.DEPRECATED and past_support_allowed):
        return
    valid = ", ".join(catalog.active_versions())
    raise BadRequestException(
        f"Unsupported KafkaVersion [{version}]. Valid values: [{valid}]", parameter
    )


def check_provisioned_request(request: dict[str, Any], *, past_support_allowed: bool) -> None:
    check_creatable_version(
        request["KafkaVersion"], "kafkaVersion", past_support_allowed=past_support_allowed
    )
    group = request["BrokerNodeGroupInfo"]
    instance_type = group["InstanceType"]
    if instance_type not in catalog.INSTANCE_TYPES:
        raise BadRequestException(
            f"Unsupported instance type {instance_type}.", "brokerNodeGroupInfo.instanceType"
        )
    subnets = group["ClientSubnets"]
    if len(subnets) not in (2, 3) or len(set(subnets)) != len(subnets):
        raise BadRequestException(
            "Specify two or three distinct client subnets, each in its own Availability Zone.",
            "brokerNodeGroupInfo.clientSubnets",
        )
    if request["NumberOfBrokerNodes"] % len(subnets):
        raise BadRequestException(
            "The number of broker nodes must be a multiple of the number of Availability "
            "Zones in the clientSubnets parameter.",
            "numberOfBrokerNodes",
        )
    public_access = group.get("ConnectivityInfo", {}).get("PublicAccess", {})
    if public_access.get("Type", "DISABLED") != "DISABLED":
        raise BadRequestException(
            "You can't turn on public access while creating a cluster. "
            "Create the cluster, then update its connectivity.",
            "brokerNodeGroupInfo.connectivityInfo.publicAccess",
        )
    if catalog.is_express(instance_type) and "StorageInfo" in group:
        raise BadRequestException(
            "Express brokers manage their own storage; don't specify storageInfo.",
            "brokerNodeGroupInfo.storageInfo",
        )


def initial_volume(group: dict[str, Any]) -> dict[str, Any]:
    ebs = group.get("StorageInfo", {}).get("EbsStorageInfo", {})
    volume: dict[str, Any] = {
        "KafkaBrokerNodeId": ALL_VOLUMES,
        "VolumeSizeGB": ebs.get("VolumeSize", catalog.DEFAULT_VOLUME_SIZE_GIB),
    }
    if "ProvisionedThroughput" in ebs:
        volume["ProvisionedThroughput"] = provisioned_throughput(
            ebs["ProvisionedThroughput"], group["InstanceType"]
        )
    return volume


def client_authentication(
    requested: dict[str, Any] | None, current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The full ClientAuthentication DescribeCluster shows, from a (partial) request.

    On creation an unspecified Unauthenticated setting is on only when no other method is;
    on update unspecified parts keep their current values.
    """
    requested = requested or {}
    merged = deep_merge(current or {}, requested)
    tls = merged.get("Tls", {})
    ca_arns = list(tls.get("CertificateAuthorityArnList", []))
    scram = enabled(merged, "Sasl", "Scram")
    iam = enabled(merged, "Sasl", "Iam")
    tls_enabled = bool(tls.get("Enabled", bool(ca_arns)))
    unauthenticated = merged.get("Unauthenticated", {}).get("Enabled")
    if unauthenticated is None:
        unauthenticated = not (scram or iam or tls_enabled)
    if tls_enabled and not ca_arns:
        raise BadRequestException(
            "TLS client authentication needs at least one ACM Private CA ARN.",
            "clientAuthentication.tls.certificateAuthorityArnList",
        )
    if not (scram or iam or tls_enabled or unauthenticated):
        raise BadRequestException(
            "Turn on at least one client authentication method.", "clientAuthentication"
        )
    return {
        "Sasl": {"Scram": {"Enabled": scram}, "Iam": {"Enabled": iam}},
        "Tls": {"CertificateAuthorityArnList": ca_arns, "Enabled": tls_enabled},
        "Unauthenticated": {"Enabled": bool(unauthenticated)},
    }


def encryption_info(requested: dict[str, Any]) -> dict[str, Any]:
    """An empty DataVolumeKMSKeyId stands for the AWS managed key, filled in on creation."""
    at_rest = requested.get("EncryptionAtRest") or {"DataVolumeKMSKeyId": ""}
    in_transit = {"ClientBroker": "TLS", "InCluster": True} | requested.get(
        "EncryptionInTransit", {}
    )
    return {"EncryptionAtRest": dict(at_rest), "EncryptionInTransit": in_transit}


def open_monitoring(requested: dict[str, Any] | None) -> dict[str, Any]:
    prometheus = (requested or {}).get("Prometheus", {})
    return {
        "Prometheus": {
            exporter: {"EnabledInBroker": bool(prometheus.get(exporter, {}).get("EnabledInBroker"))}
            for exporter in ("JmxExporter", "NodeExporter")
        }
    }


_LOG_TARGETS = {"CloudWatchLogs": "LogGroup", "Firehose": "DeliveryStream", "S3": "Bucket"}


def logging_info(requested: dict[str, Any] | None) -> dict[str, Any]:
    logging: dict[str, Any] = {}
    for section in ("BrokerLogs", "AuthorizerLogs"):
        given = (requested or {}).get(section)
        if given is None and section == "AuthorizerLogs":
            continue
        destinations: dict[str, Any] = {}
        for destination, target in _LOG_TARGETS.items():
            settings = dict((given or {}).get(destination, {"Enabled": False}))
            if settings.get("Enabled") and not settings.get(target):
                raise BadRequestException(
                    f"Specify {target} to turn on {destination} delivery of {section}.",
                    f"loggingInfo.{section[0].lower()}{section[1:]}",
                )
            destinations[destination] = settings
        logging[section] = destinations
    return logging


def provisioned_throughput(requested: dict[str, Any], instance_type: str) -> dict[str, Any]:
    if not requested.get("Enabled", False):
        return {"Enabled": False}
    maximum = catalog.PROVISIONED_THROUGHPUT_MAX.get(instance_type)
    if maximum is None:
        raise BadRequestException(
            "Provisioned storage throughput needs kafka.m5.4xlarge or larger, or "
            f"kafka.m7g.2xlarge or larger brokers; this cluster uses {instance_type}.",
            "provisionedThroughput",
        )
    throughput = requested.get("VolumeThroughput")
    if throughput is None or not MIN_PROVISIONED_THROUGHPUT <= throughput <= maximum:
        raise BadRequestException(
            f"The provisioned throughput for {instance_type} must be between "
            f"{MIN_PROVISIONED_THROUGHPUT} and {maximum:g} MiB/s.",
            "provisionedThroughput.volumeThroughput",
        )
    return {"Enabled": True, "VolumeThroughput": throughput}


def check_tiered_storage(kafka_version: str, instance_type: str) -> None:
    if not catalog.supports_tiered_storage(kafka_version) or instance_type == "kafka.t3.small":
        raise BadRequestException(
            "Tiered storage needs Apache Kafka 2.8.2.tiered or 3.6.0 or later and brokers "
            "larger than kafka.t3.small.",
            "storageMode",
        )


def check_security(settings: dict[str, Any]) -> None:
    """Rules that tie public access to authentication and encryption (msk-cluster-public-access)."""
    if settings["ConnectivityInfo"]["PublicAccess"].get("Type", "DISABLED") == "DISABLED":
        return
    auth = settings["ClientAuthentication"]
    in_transit = settings["EncryptionInfo"]["EncryptionInTransit"]
    problems = []
    if version_key(settings["KafkaVersion"]) < catalog.PUBLIC_ACCESS_MIN_VERSION:
        problems.append("Apache Kafka 2.6.0 or later")
    if enabled(auth, "Unauthenticated"):
        problems.append("unauthenticated access turned off")
    if not (enabled(auth, "Sasl", "Iam") or enabled(auth, "Sasl", "Scram") or enabled(auth, "Tls")):
        problems.append("SASL/IAM, SASL/SCRAM or mTLS authentication turned on")
    if not in_transit["InCluster"]:
        problems.append("encryption within the cluster")
    if in_transit["ClientBroker"] != "TLS":
        problems.append("TLS-only traffic between clients and brokers")
    if problems:
        raise BadRequestException(
            "Public access requires " + "; ".join(problems) + ".", "connectivityInfo.publicAccess"
        )


def check_server_properties(server_properties: bytes) -> None:
    try:
        text = server_properties.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequestException(
            "serverProperties must be UTF-8 text.", "serverProperties"
        ) from None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "!")):
            continue
        key, separator, _ = stripped.partition("=")
        if not separator or not key.strip():
            raise BadRequestException(
                f"Line {number} of serverProperties is not a key=value pair: {line!r}.",
                "serverProperties",
            )
