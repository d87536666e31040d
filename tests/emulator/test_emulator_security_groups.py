"""Security groups of new clusters: MSK attaches the VPC's default group when a request names
none, and refuses ids that do not exist."""

import pytest
from botocore.exceptions import ClientError

from msk_autopilot_local.emulator import seed_fleet


def default_group(kit, vpc_id=None):
    ec2 = kit.client("ec2")
    vpc_id = (
        vpc_id
        or ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0][
            "VpcId"
        ]
    )
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    return groups[0]["GroupId"]


def test_a_cluster_without_groups_gets_the_default_group_of_its_subnets_vpc(kit):
    arn = kit.create("orders")
    group = kit.info(arn)["Provisioned"]["BrokerNodeGroupInfo"]
    assert group["SecurityGroups"] == [default_group(kit)]

    ec2 = kit.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{n}.0/24", AvailabilityZone=f"eu-west-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for n, z in enumerate("abc")
    ]
    own = kit.kafka.create_cluster_v2(
        ClusterName="own-vpc",
        Provisioned=kit.provisioned(
            BrokerNodeGroupInfo={
                "ClientSubnets": subnets,
                "InstanceType": "kafka.m5.large",
                "StorageInfo": {"EbsStorageInfo": {"VolumeSize": 100}},
            }
        ),
    )["ClusterArn"]
    own_group = kit.info(own)["Provisioned"]["BrokerNodeGroupInfo"]["SecurityGroups"]
    assert own_group == [default_group(kit, vpc)]
    assert own_group != [default_group(kit)]


def test_a_serverless_cluster_without_groups_gets_the_default_group(kit):
    arn = kit.kafka.create_cluster_v2(
        ClusterName="events",
        Serverless={
            "VpcConfigs": [{"SubnetIds": ["subnet-1", "subnet-2"]}],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    )["ClusterArn"]
    vpc_config = kit.info(arn)["Serverless"]["VpcConfigs"][0]
    assert vpc_config["SecurityGroupIds"] == [default_group(kit)]


def test_named_groups_are_kept_and_unknown_ones_refused(kit, expect_error):
    ec2 = kit.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    brokers = ec2.create_security_group(GroupName="brokers", Description="b", VpcId=vpc)["GroupId"]
    request = kit.provisioned()
    request["BrokerNodeGroupInfo"]["SecurityGroups"] = [brokers]
    arn = kit.kafka.create_cluster_v2(ClusterName="orders", Provisioned=request)["ClusterArn"]
    assert kit.info(arn)["Provisioned"]["BrokerNodeGroupInfo"]["SecurityGroups"] == [brokers]

    request["BrokerNodeGroupInfo"]["SecurityGroups"] = [brokers, "sg-0000000000000dead"]
    error = expect_error(kit.kafka.create_cluster_v2, ClusterName="other", Provisioned=request)
    assert (error["code"], error["status"]) == ("BadRequestException", 400)
    assert "sg-0000000000000dead does not exist" in error["message"]
    assert error["parameter"] == "brokerNodeGroupInfo.securityGroups"
    error = expect_error(
        kit.kafka.create_cluster,
        ClusterName="v1",
        KafkaVersion="3.8.x",
        NumberOfBrokerNodes=3,
        BrokerNodeGroupInfo=request["BrokerNodeGroupInfo"],
    )
    assert error["code"] == "BadRequestException"
    error = expect_error(
        kit.kafka.create_cluster_v2,
        ClusterName="events",
        Serverless={
            "VpcConfigs": [{"SubnetIds": ["s-1", "s-2"], "SecurityGroupIds": ["sg-404"]}],
            "ClientAuthentication": {"Sasl": {"Iam": {"Enabled": True}}},
        },
    )
    assert error["parameter"] == "serverless.vpcConfigs[0].securityGroupIds"
    names = [c["ClusterName"] for c in kit.kafka.list_clusters_v2()["ClusterInfoList"]]
    assert names == ["orders"]


def test_fleet_files_name_existing_groups_or_none(kit, aws_session):
    with pytest.raises(ClientError, match="sg-1 does not exist"):
        seed_fleet(aws_session, {"clusters": [{"name": "orders", "securityGroups": ["sg-1"]}]})
