"""What a cluster's brokers are and where clients reach them (ListNodes, GetBootstrapBrokers),
and which Kafka versions they can move to (GetCompatibleKafkaVersions)."""

from typing import Any

from .. import catalog, rules
from ..exceptions import ConflictException
from .base import MskBackendBase


class NodesMixin(MskBackendBase):
    def list_nodes(self, cluster_arn: str) -> list[dict[str, Any]]:
        cluster = self._provisioned(cluster_arn)
        if cluster.state == "CREATING":
            return []
        settings = cluster.settings
        software: dict[str, Any] = {"KafkaVersion": settings["KafkaVersion"]}
        if "ConfigurationInfo" in settings:
            software["ConfigurationArn"] = settings["ConfigurationInfo"]["Arn"]
            software["ConfigurationRevision"] = settings["ConfigurationInfo"]["Revision"]
        node_prefix = cluster.arn.replace(":cluster/", ":broker/", 1)
        return [
            {
                "AddedToClusterTime": broker.added.isoformat(timespec="milliseconds"),
                "BrokerNodeInfo": {
                    "AttachedENIId": broker.eni_id,
                    "BrokerId": float(broker.broker_id),
                    "BrokerNodeType": "EXPRESS"
                    if catalog.is_express(settings["InstanceType"])
                    else "STANDARD",
                    "ClientSubnet": broker.client_subnet,
                    "ClientVpcIpAddress": broker.ip_address,
                    "CurrentBrokerSoftwareInfo": dict(software),
                    "Endpoints": [cluster.host(f"b-{broker.broker_id}")],
                },
                "InstanceType": settings["InstanceType"],
                "NodeARN": f"{node_prefix}/{broker.node_id}",
                "NodeType": "BROKER",
            }
            for broker in cluster.brokers
        ]

    def bootstrap_brokers(self, cluster_arn: str) -> dict[str, str]:
        cluster = self._cluster(cluster_arn)
        if cluster.state == "CREATING":
            raise ConflictException(
                "The cluster is being created. Bootstrap broker information is available when "
                "the cluster is ACTIVE.",
                "clusterArn",
            )
        if cluster.is_serverless:
            region = cluster.arn.split(":")[3]
            host = (
                f"boot-{cluster.dns_id}.{cluster.dns_cell}.kafka-serverless.{region}.amazonaws.com"
            )
            return {"BootstrapBrokerStringSaslIam": f"{host}:9098"}
        settings = cluster.settings
        auth = settings["ClientAuthentication"]
        client_broker = settings["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"]
        unauthenticated = rules.enabled(auth, "Unauthenticated")
        tls_listener = client_broker in ("TLS", "TLS_PLAINTEXT") and (
            unauthenticated or rules.enabled(auth, "Tls")
        )
        listeners = {
            "BootstrapBrokerString": (
                client_broker in ("PLAINTEXT", "TLS_PLAINTEXT") and unauthenticated,
                "",
                9092,
            ),
            "BootstrapBrokerStringTls": (tls_listener, "", 9094),
            "BootstrapBrokerStringSaslScram": (rules.enabled(auth, "Sasl", "Scram"), "", 9096),
            "BootstrapBrokerStringSaslIam": (rules.enabled(auth, "Sasl", "Iam"), "", 9098),
        }
        if settings["ConnectivityInfo"]["PublicAccess"].get("Type") == "SERVICE_PROVIDED_EIPS":
            listeners |= {
                "BootstrapBrokerStringPublicTls": (rules.enabled(auth, "Tls"), "-public", 9194),
                "BootstrapBrokerStringPublicSaslScram": (
                    rules.enabled(auth, "Sasl", "Scram"),
                    "-public",
                    9196,
                ),
                "BootstrapBrokerStringPublicSaslIam": (
                    rules.enabled(auth, "Sasl", "Iam"),
                    "-public",
                    9198,
                ),
            }
        return {
            name: ",".join(
                f"{cluster.host(f'b-{broker.broker_id}{suffix}')}:{port}"
                for broker in cluster.brokers
            )
            for name, (enabled, suffix, port) in listeners.items()
            if enabled
        }

    def compatible_kafka_versions(self, cluster_arn: str | None) -> list[dict[str, Any]]:
        """For the cluster's version, or without a cluster for every version MSK has offered
        (clusters still run DEPRECATED ones), the versions it can move to in one update."""
        if cluster_arn is not None:
            source_versions = [self._provisioned(cluster_arn).settings["KafkaVersion"]]
        else:
            source_versions = [version for version, _ in catalog.kafka_versions(catalog.today())]
        return [
            {"SourceVersion": version, "TargetVersions": catalog.upgrade_targets(version)}
            for version in source_versions
        ]
