"""API calls per cluster of the topic durability check, at 100 and 1,000 topics (for README).

Seeds one cluster per size in the MSK emulator (in process, under moto), half of its topics at
replication factor 3 and half at 2, reads them as the audit does and prints the calls counted:
ceil(N/100) ListTopics pages plus one DescribeTopic per topic of RF >= 3 (topics below RF 3
fail whatever their settings, so their settings are not read).

    .venv/bin/python bench/topic_durability_calls.py [--topics 100 1000]
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os

import boto3
from moto import mock_aws

from msk_autopilot.audit.collect import AuditTarget, counting_api_calls
from msk_autopilot.audit.durability import read_cluster_topics
from msk_autopilot.aws import ClientFactory
from msk_autopilot_local.emulator import control, install, seed_fleet
from msk_autopilot_local.template.resolve import LOCAL_ACCOUNT

REGION = "us-east-1"
SAFE = base64.b64encode(
    json.dumps({"min.insync.replicas": "2", "unclean.leader.election.enable": "false"}).encode()
).decode()


def measure(topics: int) -> dict[str, int]:
    arn = seed_fleet(
        boto3.Session(region_name=REGION),
        {"clusters": [{"name": f"topics-{topics}", "kafkaVersion": "3.8.x"}]},
    ).clusters[f"topics-{topics}"]
    kafka = boto3.client("kafka", region_name=REGION)
    for n in range(topics):
        kafka.create_topic(
            ClusterArn=arn,
            TopicName=f"t{n:04d}",
            PartitionCount=3,
            ReplicationFactor=3 if n % 2 else 2,
            Configs=SAFE,
        )
    target = AuditTarget(LOCAL_ACCOUNT, REGION, ClientFactory(REGION))
    with counting_api_calls() as calls:
        read_cluster_topics(target.client("kafka"), arn)
    return dict(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, nargs="+", default=[100, 1000])
    sizes = parser.parse_args().topics
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    print("| Topics | ListTopics | DescribeTopic | Calls per cluster | Bound ceil(N/100) + N |")
    print("|---:|---:|---:|---:|---:|")
    with mock_aws():
        install()
        for topics in sizes:
            control.reset()
            calls = measure(topics)
            listed = calls.get("kafka.ListTopics", 0)
            described = calls.get("kafka.DescribeTopic", 0)
            bound = math.ceil(topics / 100) + topics
            print(f"| {topics:,} | {listed} | {described} | {listed + described} | {bound:,} |")


if __name__ == "__main__":
    main()
