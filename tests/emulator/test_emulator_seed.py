"""seed_fleet: a fleet description becomes clusters through the normal boto3 API."""

import boto3
import pytest
import yaml

from msk_autopilot_local.emulator import seed_fleet

FLEET_YAML = """
configurations:
  - name: base
    kafkaVersions: ["3.6.0"]
    description: fleet default
    serverProperties: |
      auto.create.topics.enable=false
      min.insync.replicas=2
clusters:
  - name: orders
    brokers: 6
    instanceType: kafka.m5.4xlarge
    volumeSizeGiB: 2000
    provisionedThroughput: 500
    kafkaVersion: 3.6.0
    subnets: [subnet-a, subnet-b, subnet-c]
    configuration: base
    encryption: {clientBroker: TLS, inCluster: true}
    authentication: {iam: true, scram: true, unauthenticated: false}
    enhancedMonitoring: PER_TOPIC_PER_BROKER
    openMonitoring: {jmxExporter: true, nodeExporter: false}
    logging: {cloudWatchLogGroup: msk-orders, s3Bucket: logs, s3Prefix: msk/}
    publicAccess: true
    tags: {team: payments}
    scramUsers: [alice, bob]
  - name: legacy
    kafkaVersion: 3.5.1
    encryption: {clientBroker: TLS_PLAINTEXT}
  - name: events
    serverless: true
    subnets: [subnet-a, subnet-b]
    tags: {team: data}
"""


def test_seed_fleet_from_yaml(kit, aws_session):
    fleet = seed_fleet(aws_session, yaml.safe_load(FLEET_YAML))
    assert set(fleet.clusters) == {"orders", "legacy", "events"}
    assert set(fleet.configurations) == {"base"}
    orders = kit.info(fleet.clusters["orders"])
    assert orders["State"] == "ACTIVE"
    assert orders["Tags"] == {"team": "payments"}
    provisioned = orders["Provisioned"]
    group = provisioned["BrokerNodeGroupInfo"]
    assert provisioned["NumberOfBrokerNodes"] == 6
    assert group["InstanceType"] == "kafka.m5.4xlarge"
    assert group["StorageInfo"]["EbsStorageInfo"] == {
        "VolumeSize": 2000,
        "ProvisionedThroughput": {"Enabled": True, "VolumeThroughput": 500},
    }
    assert group["ConnectivityInfo"]["PublicAccess"]["Type"] == "SERVICE_PROVIDED_EIPS"
    assert (
        provisioned["CurrentBrokerSoftwareInfo"]["ConfigurationArn"] == fleet.configurations["base"]
    )
    assert provisioned["EnhancedMonitoring"] == "PER_TOPIC_PER_BROKER"
    assert provisioned["OpenMonitoring"]["Prometheus"]["JmxExporter"]["EnabledInBroker"] is True
    assert provisioned["LoggingInfo"]["BrokerLogs"]["S3"] == {
        "Enabled": True,
        "Bucket": "logs",
        "Prefix": "msk/",
    }
    scram = kit.kafka.list_scram_secrets(ClusterArn=fleet.clusters["orders"])["SecretArnList"]
    assert scram == fleet.scram_secrets["orders"]
    names = [arn.split(":secret:")[1].rsplit("-", 1)[0] for arn in scram]
    assert names == ["AmazonMSK_orders_alice", "AmazonMSK_orders_bob"]
    legacy = kit.info(fleet.clusters["legacy"])["Provisioned"]
    assert legacy["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"] == "TLS_PLAINTEXT"
    assert legacy["ClientAuthentication"]["Unauthenticated"]["Enabled"] is True
    events = kit.info(fleet.clusters["events"])
    assert (events["ClusterType"], events["Tags"]) == ("SERVERLESS", {"team": "data"})
    operations = kit.kafka.list_cluster_operations_v2(ClusterArn=fleet.clusters["orders"])
    assert [op["OperationType"] for op in operations["ClusterOperationInfoList"]] == [
        "UPDATE_CONNECTIVITY"
    ]


def test_seed_fleet_accepts_clients(kit):
    fleet = seed_fleet({"kafka": kit.kafka}, {"clusters": [{"name": "solo"}]})
    assert kit.info(fleet.clusters["solo"])["State"] == "ACTIVE"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"cluster": []}, "Unknown fleet spec keys"),
        ({"clusters": [{"brokers": 3}]}, "needs a name"),
        ({"clusters": [{"name": "a", "volumeSize": 10}]}, "Unknown keys for cluster a"),
        ({"clusters": [{"name": "a"}, {"name": "a"}]}, "appears twice"),
        ({"clusters": [{"name": "a", "configuration": "missing"}]}, "unknown configuration"),
        ({"clusters": [{"name": "a", "scramUsers": ["x"]}]}, "authentication.scram is off"),
        ({"clusters": [{"name": "a", "serverless": True, "brokers": 3}]}, "Unknown keys"),
        ({"configurations": [{"name": "c"}]}, "serverProperties"),
    ],
)
def test_seed_fleet_checks_the_whole_spec_first(kit, aws_session, spec, message):
    with pytest.raises(ValueError, match=message):
        seed_fleet(aws_session, {"clusters": [{"name": "valid"}], **spec})
    assert kit.kafka.list_clusters_v2()["ClusterInfoList"] == []


def test_seed_fleet_needs_the_clients_it_uses(kit):
    spec = {"clusters": [{"name": "a", "authentication": {"scram": True}, "scramUsers": ["x"]}]}
    with pytest.raises(ValueError, match="kms, secretsmanager"):
        seed_fleet({"kafka": kit.kafka}, spec)


def test_seed_fleet_never_touches_a_real_account():
    kafka = boto3.client(
        "kafka",
        region_name="eu-west-1",
        aws_access_key_id="AKIAREALLOOKING00000",
        aws_secret_access_key="not-used",
    )
    with pytest.raises(RuntimeError, match="never a real AWS account"):
        seed_fleet({"kafka": kafka}, {"clusters": [{"name": "a"}]})
