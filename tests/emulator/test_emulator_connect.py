"""MSK Connect (kafkaconnect): CreateConnector, ListConnectors, DescribeConnector,
DeleteConnector and ListTagsForResource, in process and over HTTP, with the real service's
errors and botocore's request validation."""

import json

import pytest
from botocore.exceptions import ParamValidationError

from msk_autopilot_local.emulator import control, seed_fleet

PLUGIN = "arn:aws:kafkaconnect:eu-west-1:123456789012:custom-plugin/sink/1a2b3c4d-1"


def connector_request(name="s3-sink", **overrides):
    request = {
        "connectorName": name,
        "capacity": {"provisionedCapacity": {"mcuCount": 1, "workerCount": 2}},
        "connectorConfiguration": {"connector.class": "S3SinkConnector", "tasks.max": "2"},
        "kafkaCluster": {
            "apacheKafkaCluster": {
                "bootstrapServers": "b-1.orders:9098,b-2.orders:9098",
                "vpc": {"subnets": ["subnet-0aaa", "subnet-0bbb"], "securityGroups": ["sg-1"]},
            }
        },
        "kafkaClusterClientAuthentication": {"authenticationType": "IAM"},
        "kafkaClusterEncryptionInTransit": {"encryptionType": "TLS"},
        "kafkaConnectVersion": "2.7.1",
        "plugins": [{"customPlugin": {"customPluginArn": PLUGIN, "revision": 1}}],
        "serviceExecutionRoleArn": "arn:aws:iam::123456789012:role/connect",
        "logDelivery": {
            "workerLogDelivery": {
                "cloudWatchLogs": {"enabled": True, "logGroup": "connect-logs"},
                "firehose": {"enabled": False},
                "s3": {"enabled": True, "bucket": "connect-logs", "prefix": "workers/"},
            }
        },
        "tags": {"team": "data"},
    }
    request.update(overrides)
    return request


@pytest.fixture(params=["in-process", "http"])
def connect(request):
    """A kafkaconnect client against the in-process emulator or the server, and the control
    (the server runs in this process)."""
    kit = request.getfixturevalue("kit" if request.param == "in-process" else "http_kit")
    return kit.client("kafkaconnect"), control


def test_connector_lifecycle(connect):
    client, control = connect
    control.configure(connector_create_seconds=120)
    created = client.create_connector(**connector_request())
    arn = created["connectorArn"]
    assert created["connectorState"] == "CREATING"
    assert arn.startswith("arn:aws:kafkaconnect:eu-west-1:123456789012:connector/s3-sink/")

    described = client.describe_connector(connectorArn=arn)
    assert described["connectorState"] == "CREATING"
    assert described["kafkaClusterEncryptionInTransit"] == {"encryptionType": "TLS"}
    assert described["kafkaClusterClientAuthentication"] == {"authenticationType": "IAM"}
    assert described["kafkaCluster"]["apacheKafkaCluster"] == {
        "bootstrapServers": "b-1.orders:9098,b-2.orders:9098",
        "vpc": {"subnets": ["subnet-0aaa", "subnet-0bbb"], "securityGroups": ["sg-1"]},
    }
    assert described["logDelivery"]["workerLogDelivery"] == {
        "cloudWatchLogs": {"enabled": True, "logGroup": "connect-logs"},
        "firehose": {"enabled": False},
        "s3": {"enabled": True, "bucket": "connect-logs", "prefix": "workers/"},
    }
    assert described["connectorConfiguration"]["tasks.max"] == "2"

    control.clock.advance(120)
    assert client.describe_connector(connectorArn=arn)["connectorState"] == "RUNNING"
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "data"}

    deleted = client.delete_connector(connectorArn=arn, currentVersion=described["currentVersion"])
    assert deleted == {**deleted, "connectorArn": arn, "connectorState": "DELETING"}
    assert client.list_connectors()["connectors"] == []
    with pytest.raises(client.exceptions.NotFoundException):
        client.describe_connector(connectorArn=arn)


def test_list_connectors_pages_and_filters(connect):
    client, _ = connect
    for name in ("sink-a", "sink-b", "sink-c", "source-a"):
        client.create_connector(**connector_request(name))
    first = client.list_connectors(maxResults=2)
    assert [c["connectorName"] for c in first["connectors"]] == ["sink-a", "sink-b"]
    rest = client.list_connectors(maxResults=2, nextToken=first["nextToken"])
    assert [c["connectorName"] for c in rest["connectors"]] == ["sink-c", "source-a"]
    assert "nextToken" not in rest
    sinks = client.list_connectors(connectorNamePrefix="sink-")["connectors"]
    assert [c["connectorName"] for c in sinks] == ["sink-a", "sink-b", "sink-c"]
    summary = sinks[0]
    assert summary["kafkaClusterEncryptionInTransit"]["encryptionType"] == "TLS"
    assert summary["logDelivery"]["workerLogDelivery"]["cloudWatchLogs"]["enabled"] is True


def test_connector_errors(connect):
    client, _ = connect
    arn = client.create_connector(**connector_request())["connectorArn"]
    with pytest.raises(client.exceptions.ConflictException, match="s3-sink"):
        client.create_connector(**connector_request())
    both = {
        "provisionedCapacity": {"mcuCount": 1, "workerCount": 1},
        "autoScaling": {"maxWorkerCount": 2, "mcuCount": 1, "minWorkerCount": 1},
    }
    refusals = [
        {"capacity": both},
        {"plugins": []},
        {"kafkaConnectVersion": "1.0.0"},
    ]
    for overrides in refusals:
        with pytest.raises(client.exceptions.BadRequestException):
            client.create_connector(**connector_request("other", **overrides))
    with pytest.raises(client.exceptions.BadRequestException, match="currentVersion"):
        client.delete_connector(connectorArn=arn, currentVersion="STALE")
    missing = arn.replace("s3-sink", "gone")
    with pytest.raises(client.exceptions.NotFoundException):
        client.delete_connector(connectorArn=missing)
    assert [c["connectorName"] for c in client.list_connectors()["connectors"]] == ["s3-sink"]


def test_botocore_validation_rejects_a_malformed_request(kit):
    client = kit.client("kafkaconnect")
    with pytest.raises(ParamValidationError):
        client.create_connector(**connector_request(kafkaClusterEncryptionInTransit={}))


def test_the_server_checks_requests_against_botocore_s_model(http_kit):
    # A client that skips botocore's checks meets the same model on the server side.
    malformed = connector_request()
    malformed["kafkaClusterEncryptionInTransit"] = {"encryptionType": "SSL"}
    response = http_kit.raw(
        "POST", "/v1/connectors", json.dumps(malformed).encode(), service="kafkaconnect"
    )
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert "PLAINTEXT, TLS" in response.json()["message"]
    missing = http_kit.raw("POST", "/v1/connectors", b"{}", service="kafkaconnect")
    assert (missing.status_code, missing.json()["message"]) == (
        400,
        "The request is missing capacity.",
    )


def test_fleet_connectors_take_their_cluster_network(kit, msk_emulator):
    spec = {
        "clusters": [{"name": "orders", "authentication": {"iam": True}}],
        "connectors": [
            {
                "name": "audit-sink",
                "cluster": "orders",
                "authentication": "IAM",
                "logDelivery": {"cloudWatchLogGroup": "connect"},
                "tags": {"team": "audit"},
            },
            {"name": "plain-sink", "cluster": "orders", "encryptionInTransit": "PLAINTEXT"},
        ],
    }
    fleet = seed_fleet({"kafka": kit.kafka, "kafkaconnect": kit.client("kafkaconnect")}, spec)
    client = kit.client("kafkaconnect")
    audit = client.describe_connector(connectorArn=fleet.connectors["audit-sink"])
    group = kit.info(fleet.clusters["orders"])["Provisioned"]["BrokerNodeGroupInfo"]
    cluster = audit["kafkaCluster"]["apacheKafkaCluster"]
    assert cluster["vpc"] == {
        "subnets": group["ClientSubnets"],
        "securityGroups": group["SecurityGroups"],
    }
    brokers = kit.kafka.get_bootstrap_brokers(ClusterArn=fleet.clusters["orders"])
    assert cluster["bootstrapServers"] == brokers["BootstrapBrokerStringSaslIam"]
    assert audit["logDelivery"]["workerLogDelivery"]["cloudWatchLogs"] == {
        "enabled": True,
        "logGroup": "connect",
    }
    plain = client.describe_connector(connectorArn=fleet.connectors["plain-sink"])
    assert plain["kafkaClusterEncryptionInTransit"]["encryptionType"] == "PLAINTEXT"
    assert plain["logDelivery"]["workerLogDelivery"]["cloudWatchLogs"] == {"enabled": False}


@pytest.mark.parametrize(
    ("connector", "message"),
    [
        ({"name": "c"}, "cluster"),
        ({"name": "c", "cluster": "events"}, "cluster"),
        (
            {
                "name": "c",
                "cluster": "orders",
                "authentication": "IAM",
                "encryptionInTransit": "PLAINTEXT",
            },
            "IAM needs TLS",
        ),
        ({"name": "c", "cluster": "orders", "colour": "red"}, "Unknown keys"),
    ],
)
def test_fleet_connector_mistakes(kit, msk_emulator, connector, message):
    clusters = [{"name": "orders"}, {"name": "events", "serverless": True}]
    with pytest.raises(ValueError, match=message):
        seed_fleet({"kafka": kit.kafka}, {"clusters": clusters, "connectors": [connector]})
    assert kit.kafka.list_clusters_v2()["ClusterInfoList"] == []
