"""Fleet-file connectors (``connectors:``), created with MSK Connect's CreateConnector against
a cluster of the fleet, as users create them.

A connector takes its cluster's bootstrap servers (the listener its authentication and
encryption use), client subnets and security groups. MSK Connect needs a custom plugin; the
emulator does not model plugins, so the request names one by a made-up ARN.
"""

from collections.abc import Mapping
from typing import Any

from .fleet_error import FleetError

CONNECTOR_KEYS = {
    "name",
    "cluster",
    "encryptionInTransit",
    "authentication",
    "logDelivery",
    "kafkaConnectVersion",
    "tags",
}
LOG_DELIVERY_KEYS = {"cloudWatchLogGroup", "firehoseDeliveryStream", "s3Bucket", "s3Prefix"}
# Which bootstrap string a connector uses: (authentication, encryption in transit) -> member of
# GetBootstrapBrokers' answer.
_BOOTSTRAP = {
    ("IAM", "TLS"): "BootstrapBrokerStringSaslIam",
    ("NONE", "TLS"): "BootstrapBrokerStringTls",
    ("NONE", "PLAINTEXT"): "BootstrapBrokerString",
}


def check_connectors(connectors: Any, cluster_names: set[str]) -> None:
    if not isinstance(connectors, list):
        raise FleetError("connectors must be a list of connectors.")
    names = set()
    for connector in connectors:
        if not isinstance(connector, Mapping) or not isinstance(connector.get("name"), str):
            raise FleetError("Every connector is an object with a name.")
        what = f"connector {connector['name']}"
        unknown = set(connector) - CONNECTOR_KEYS
        if unknown:
            raise FleetError(
                f"Unknown keys for {what}: {sorted(unknown)}. Allowed: {sorted(CONNECTOR_KEYS)}."
            )
        if connector["name"] in names:
            raise FleetError(f"Connector {connector['name']} appears twice.")
        names.add(connector["name"])
        if connector.get("cluster") not in cluster_names:
            raise FleetError(f"{what} needs `cluster:`, the name of a provisioned cluster.")
        key = (connector.get("authentication", "NONE"), connector.get("encryptionInTransit", "TLS"))
        if key not in _BOOTSTRAP:
            raise FleetError(
                f"{what}: authentication is NONE or IAM and encryptionInTransit TLS or "
                "PLAINTEXT (IAM needs TLS)."
            )
        unknown = set(connector.get("logDelivery", {})) - LOG_DELIVERY_KEYS
        if unknown:
            raise FleetError(f"{what}: unknown logDelivery keys {sorted(unknown)}.")


def seed_connector(
    kafka: Any, kafkaconnect: Any, cluster_arn: str, connector: Mapping[str, Any]
) -> str:
    """Create the connector; return its ARN."""
    authentication = connector.get("authentication", "NONE")
    encryption = connector.get("encryptionInTransit", "TLS")
    brokers = kafka.get_bootstrap_brokers(ClusterArn=cluster_arn)
    group = kafka.describe_cluster_v2(ClusterArn=cluster_arn)["ClusterInfo"]["Provisioned"][
        "BrokerNodeGroupInfo"
    ]
    account, region = cluster_arn.split(":")[4], cluster_arn.split(":")[3]
    request: dict[str, Any] = {
        "connectorName": connector["name"],
        "capacity": {"provisionedCapacity": {"mcuCount": 1, "workerCount": 1}},
        "connectorConfiguration": {"connector.class": "FileStreamSink", "tasks.max": "1"},
        "kafkaCluster": {
            "apacheKafkaCluster": {
                "bootstrapServers": brokers.get(_BOOTSTRAP[(authentication, encryption)], ""),
                "vpc": {
                    "subnets": group["ClientSubnets"],
                    "securityGroups": group["SecurityGroups"],
                },
            }
        },
        "kafkaClusterClientAuthentication": {"authenticationType": authentication},
        "kafkaClusterEncryptionInTransit": {"encryptionType": encryption},
        "kafkaConnectVersion": connector.get("kafkaConnectVersion", "2.7.1"),
        "plugins": [
            {
                "customPlugin": {
                    "customPluginArn": f"arn:aws:kafkaconnect:{region}:{account}"
                    ":custom-plugin/file-stream/00000000-0000-0000-0000-000000000000-1",
                    "revision": 1,
                }
            }
        ],
        "serviceExecutionRoleArn": f"arn:aws:iam::{account}:role/msk-connect-{connector['name']}",
        "logDelivery": {
            "workerLogDelivery": _worker_log_delivery(connector.get("logDelivery", {}))
        },
    }
    if connector.get("tags"):
        request["tags"] = dict(connector["tags"])
    return str(kafkaconnect.create_connector(**request)["connectorArn"])


def _worker_log_delivery(logs: Mapping[str, Any]) -> dict[str, Any]:
    cloudwatch = {"enabled": "cloudWatchLogGroup" in logs}
    if "cloudWatchLogGroup" in logs:
        cloudwatch["logGroup"] = logs["cloudWatchLogGroup"]
    firehose = {"enabled": "firehoseDeliveryStream" in logs}
    if "firehoseDeliveryStream" in logs:
        firehose["deliveryStream"] = logs["firehoseDeliveryStream"]
    s3 = {"enabled": "s3Bucket" in logs}
    if "s3Bucket" in logs:
        s3 |= {"bucket": logs["s3Bucket"], "prefix": logs.get("s3Prefix", "")}
    return {"cloudWatchLogs": cloudwatch, "firehose": firehose, "s3": s3}
