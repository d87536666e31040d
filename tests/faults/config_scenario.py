"""The configuration rotator's fault scenario: a configuration pushed to Parameter Store rolls out
to three opted-in clusters (one canary), one rotator run after another, until it is complete.

`run_config_scenario(world)` plays it against a `FaultWorld` (faults or none) and returns what can
be compared between runs: each cluster's configuration (name, revision), the MSK configurations'
revision counts, the state of every run and the emulator's count of mutating MSK calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fault_world import ROOT, TAG, FaultWorld, Invocation

from msk_autopilot_local.emulator import control

PREFIX = "/msk-autopilot/configurations/"
CONFIG_TAG = "msk-autopilot:configuration"
CANARY_TAG = "msk-autopilot:canary"
MSK_BASE = "msk-autopilot-base"
BASE = """\
# Broker settings of the orders clusters.
# msk-autopilot:kafka-versions = 3.8.x
auto.create.topics.enable=false
min.insync.replicas=2
log.retention.hours=168
"""
SCHEDULE = json.loads((ROOT / "events/scheduled_event.json").read_text())
CLUSTERS = ("alpha", "beta", "gamma")
CANARY = "beta"
FLEET = {
    "clusters": [
        {
            "name": name,
            "brokers": 3,
            "volumeSizeGiB": 100,
            "subnets": ["subnet-a", "subnet-b", "subnet-c"],
            "tags": {
                TAG: "true",
                CONFIG_TAG: "base",
                **({CANARY_TAG: "true"} if name == CANARY else {}),
            },
        }
        for name in CLUSTERS
    ]
}
# The MSK calls of a rollout: creating the configuration (or a revision), moving a cluster.
ROLLOUT_CALLS = ("CreateConfiguration", "UpdateConfiguration", "UpdateClusterConfiguration")
MAX_RUNS = 15  # the fault-free rollout needs 5


@dataclass
class ConfigScenarioResult:
    end_state: dict[str, Any]
    states: list[str | None]  # the state of `base` after each delivered run
    rollout_calls: dict[str, dict[str, int]]  # operation -> accepted / refused at the emulator
    invocations: list[Invocation] = field(default_factory=list)
    proxy: dict[str, Any] = field(default_factory=dict)


def push(world: FaultWorld, name: str, text: str) -> None:
    world.client("ssm").put_parameter(
        Name=PREFIX + name, Value=text, Type="String", Overwrite=True, Tier="Intelligent-Tiering"
    )


def base_state(invocation: Invocation) -> str | None:
    result = invocation.result
    if not isinstance(result, dict):
        return None
    configuration = result.get("details", {}).get("configurations", {}).get("base")
    return configuration.get("state") if isinstance(configuration, dict) else None


def position(world: FaultWorld, arn: str) -> tuple[str, int] | None:
    info = world.client("kafka").describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]
    software = info["Provisioned"]["CurrentBrokerSoftwareInfo"]
    if "ConfigurationArn" not in software:
        return None
    name = software["ConfigurationArn"].split(":configuration/")[1].split("/")[0]
    return name, int(software["ConfigurationRevision"])


def end_state(world: FaultWorld) -> dict[str, Any]:
    """Each cluster's configuration and operations, each MSK configuration's revision count."""
    kafka = world.client("kafka")
    clusters = {}
    for name in CLUSTERS:
        arn = world.account.clusters[name]
        operations = kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
        clusters[name] = {
            "configuration": position(world, arn),
            "operations": sorted((op["OperationType"], op["OperationState"]) for op in operations),
        }
    revisions = {
        configuration["Name"]: len(
            kafka.list_configuration_revisions(Arn=configuration["Arn"])["Revisions"]
        )
        for configuration in kafka.list_configurations()["Configurations"]
    }
    return {"clusters": clusters, "revisions": revisions}


def run_config_scenario(world: FaultWorld) -> ConfigScenarioResult:
    push(world, "base", BASE)
    states: list[str | None] = []
    for _ in range(MAX_RUNS):
        invocation = world.invoke("config_rotator", SCHEDULE)
        states.append(base_state(invocation))
        if states[-1] == "complete":
            break
        control.complete_operations()  # MSK finishes the update the run started (if any)
    summary = world.emulator.summary()
    return ConfigScenarioResult(
        end_state=end_state(world),
        states=states,
        rollout_calls={op: summary.get(op, {"accepted": 0, "refused": 0}) for op in ROLLOUT_CALLS},
        invocations=list(world.invocations),
        proxy=world.proxy.stats().to_dict(),
    )
