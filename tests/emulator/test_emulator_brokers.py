"""ListNodes and GetBootstrapBrokers."""

import re

import pytest

HOST = r"b-{n}{suffix}\.orders\.[a-z0-9]{{6}}\.c\d+\.kafka\.eu-west-1\.amazonaws\.com"


def brokers(string, suffix=""):
    """The broker numbers and ports of a bootstrap string, checking each host's form."""
    found = []
    for endpoint in string.split(","):
        host, port = endpoint.rsplit(":", 1)
        number = int(re.match(r"b-(\d+)", host).group(1))
        assert re.fullmatch(HOST.format(n=number, suffix=suffix), host)
        found.append((number, int(port)))
    return found


def test_list_nodes_one_per_broker(kit):
    arn = kit.create(NumberOfBrokerNodes=6)
    nodes = kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert len(nodes) == 6
    for number, node in enumerate(nodes, start=1):
        broker = node["BrokerNodeInfo"]
        assert broker["BrokerId"] == float(number)
        assert (
            broker["ClientSubnet"]
            == ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"][(number - 1) % 3]
        )
        assert re.fullmatch(r"eni-[0-9a-f]{17}", broker["AttachedENIId"])
        assert broker["BrokerNodeType"] == "STANDARD"
        assert broker["CurrentBrokerSoftwareInfo"]["KafkaVersion"] == "3.8.x"
        assert re.fullmatch(HOST.format(n=number, suffix=""), broker["Endpoints"][0])
        assert node["NodeType"] == "BROKER"
        assert node["InstanceType"] == "kafka.m5.large"
        assert node["NodeARN"].startswith(arn.replace(":cluster/", ":broker/"))
    assert len({node["BrokerNodeInfo"]["AttachedENIId"] for node in nodes}) == 6
    page = kit.kafka.list_nodes(ClusterArn=arn, MaxResults=4)
    assert len(page["NodeInfoList"]) == 4
    rest = kit.kafka.list_nodes(ClusterArn=arn, NextToken=page["NextToken"])["NodeInfoList"]
    assert [n["BrokerNodeInfo"]["BrokerId"] for n in rest] == [5.0, 6.0]


def test_nodes_are_stable_between_calls(kit):
    arn = kit.create()
    first = kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"] == first


def test_express_nodes(kit):
    request = kit.provisioned(InstanceType="express.m7g.large")
    del request["BrokerNodeGroupInfo"]["StorageInfo"]
    arn = kit.kafka.create_cluster_v2(ClusterName="orders", Provisioned=request)["ClusterArn"]
    nodes = kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert {n["BrokerNodeInfo"]["BrokerNodeType"] for n in nodes} == {"EXPRESS"}


def test_no_nodes_or_bootstrap_brokers_while_creating(kit, msk_emulator, expect_error):
    msk_emulator.configure(cluster_create_seconds=900)
    arn = kit.create()
    assert kit.kafka.list_nodes(ClusterArn=arn)["NodeInfoList"] == []
    error = expect_error(kit.kafka.get_bootstrap_brokers, ClusterArn=arn)
    assert (error["code"], error["status"]) == ("ConflictException", 409)


@pytest.mark.parametrize(
    ("authentication", "client_broker", "expected"),
    [
        ({}, "TLS", {"BootstrapBrokerStringTls": 9094}),
        ({}, "PLAINTEXT", {"BootstrapBrokerString": 9092}),
        ({}, "TLS_PLAINTEXT", {"BootstrapBrokerString": 9092, "BootstrapBrokerStringTls": 9094}),
        ({"Sasl": {"Scram": {"Enabled": True}}}, "TLS", {"BootstrapBrokerStringSaslScram": 9096}),
        ({"Sasl": {"Iam": {"Enabled": True}}}, "TLS", {"BootstrapBrokerStringSaslIam": 9098}),
        (
            {
                "Tls": {
                    "CertificateAuthorityArnList": [
                        "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/ca"
                    ]
                }
            },
            "TLS",
            {"BootstrapBrokerStringTls": 9094},
        ),
        (
            {
                "Sasl": {"Scram": {"Enabled": True}, "Iam": {"Enabled": True}},
                "Unauthenticated": {"Enabled": True},
            },
            "TLS",
            {
                "BootstrapBrokerStringTls": 9094,
                "BootstrapBrokerStringSaslScram": 9096,
                "BootstrapBrokerStringSaslIam": 9098,
            },
        ),
    ],
)
def test_bootstrap_brokers_per_enabled_listener(kit, authentication, client_broker, expected):
    arn = kit.create(
        ClientAuthentication=authentication,
        EncryptionInfo={"EncryptionInTransit": {"ClientBroker": client_broker}},
    )
    response = kit.kafka.get_bootstrap_brokers(ClusterArn=arn)
    strings = {k: v for k, v in response.items() if k.startswith("BootstrapBroker")}
    assert set(strings) == set(expected)
    for name, port in expected.items():
        assert brokers(strings[name]) == [(1, port), (2, port), (3, port)]


def test_public_bootstrap_brokers_after_public_access(kit, msk_emulator):
    arn = kit.create(
        ClientAuthentication={
            "Sasl": {"Scram": {"Enabled": True}, "Iam": {"Enabled": True}},
            "Tls": {
                "CertificateAuthorityArnList": [
                    "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/ca"
                ]
            },
        }
    )
    kit.kafka.update_connectivity(
        ClusterArn=arn,
        CurrentVersion=kit.version(arn),
        ConnectivityInfo={"PublicAccess": {"Type": "SERVICE_PROVIDED_EIPS"}},
    )
    assert "BootstrapBrokerStringPublicSaslIam" not in kit.kafka.get_bootstrap_brokers(
        ClusterArn=arn
    )
    msk_emulator.complete_operations()
    response = kit.kafka.get_bootstrap_brokers(ClusterArn=arn)
    assert brokers(response["BootstrapBrokerStringPublicTls"], "-public")[0] == (1, 9194)
    assert brokers(response["BootstrapBrokerStringPublicSaslScram"], "-public")[0] == (1, 9196)
    assert brokers(response["BootstrapBrokerStringPublicSaslIam"], "-public")[0] == (1, 9198)
    assert brokers(response["BootstrapBrokerStringSaslIam"])[0] == (1, 9098)


def test_serverless_bootstrap_is_sasl_iam_only(kit):
    arn = kit.kafka.create_cluster_v2(
        ClusterName="events",
        Serverless={
            "VpcConfigs": [{"SubnetIds": ["subnet-1", "subnet-2"]}],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    )["ClusterArn"]
    response = kit.kafka.get_bootstrap_brokers(ClusterArn=arn)
    assert re.fullmatch(
        r"boot-[a-z0-9]{6}\.c\d+\.kafka-serverless\.eu-west-1\.amazonaws\.com:9098",
        response["BootstrapBrokerStringSaslIam"],
    )
    assert "BootstrapBrokerStringTls" not in response
