"""Step 2: the fleet of examples/fleet.yaml, completed with what only an account has, and shown."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from msk_autopilot_local.demo.session import COMPLIANT, FILLING, INSECURE, DemoSession
from msk_autopilot_local.local_aws import LocalAws

__all__ = ["BROKER_LOG_GROUP", "account_resources", "describe_fleet"]

BROKER_LOG_GROUP = "/msk/broker-logs"  # examples/fleet.yaml's logging.cloudWatchLogGroup


def account_resources(account: LocalAws, fleet: Mapping[str, Any]) -> dict[str, Any]:
    """The fleet with what only exists once an account does: a customer managed key for the
    compliant clusters' data at rest, a closed security group for them and an open one for the
    insecure cluster, and the log group the brokers deliver their logs to (MSK requires it
    before a cluster names it). The demo fills the disks itself, so it leaves out the fleet
    file's disk-usage history."""
    kms, ec2 = account.client("kms"), account.client("ec2")
    account.client("logs").create_log_group(logGroupName=BROKER_LOG_GROUP)
    key = kms.create_key(Description="msk-autopilot demo: MSK data at rest")["KeyMetadata"]["Arn"]
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]

    def group(name: str, cidr: str) -> str:
        group_id = str(
            ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        )
        ec2.authorize_security_group_ingress(
            GroupId=group_id,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 9092,
                    "ToPort": 9098,
                    "IpRanges": [{"CidrIp": cidr}],
                }
            ],
        )
        return group_id

    closed, open_ = group("msk-private", "10.0.0.0/8"), group("msk-public", "0.0.0.0/0")
    clusters = []
    for original in fleet.get("clusters", []):
        spec = copy.deepcopy(dict(original))
        spec.pop("diskUsage", None)
        if spec["name"] == INSECURE:
            spec["securityGroups"] = [open_]
        elif not spec.get("serverless"):
            spec["securityGroups"] = [closed]
            spec.setdefault("encryption", {})["kmsKeyId"] = key
        clusters.append(spec)
    return {**fleet, "clusters": clusters}


def describe_fleet(session: DemoSession) -> None:
    say = session.progress.say
    for name, role in (
        (COMPLIANT, "compliant"),
        (FILLING, "disk filling"),
        (INSECURE, "insecure"),
    ):
        info = session.cluster_info(name)["Provisioned"]
        group = info["BrokerNodeGroupInfo"]
        volume = group["StorageInfo"]["EbsStorageInfo"]["VolumeSize"]
        public = group.get("ConnectivityInfo", {}).get("PublicAccess", {}).get("Type")
        logs = info.get("LoggingInfo", {}).get("BrokerLogs", {})
        sasl = info["ClientAuthentication"]["Sasl"]
        traits = [
            f"{info['NumberOfBrokerNodes']} brokers x {volume} GiB",
            "+".join(k.upper() for k in ("Iam", "Scram") if sasl.get(k, {}).get("Enabled")),
            str(info["EnhancedMonitoring"]),
            "broker logs" if logs.get("CloudWatchLogs", {}).get("Enabled") else "no logs",
            "PUBLIC access" if public not in (None, "DISABLED") else "private",
        ]
        say(f"{name:<12} {role:<13} {', '.join(traits)}")
    session.expect(
        len(session.clusters) == 3, f"expected 3 clusters, seeded {sorted(session.clusters)}"
    )
