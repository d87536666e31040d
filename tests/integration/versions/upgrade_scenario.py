"""The fleet of issue 16's Done-when test, and the rollout driven to its end state.

Shared by the fault-free test (tests/integration/versions) and the faulty one (tests/faults): a
`World` delivers events to the version upgrader and gives clients for setup and assertions.

The fleet, every cluster healthy (metrics publishing) unless said otherwise:
- canary     3.6.0, `msk-autopilot:canary=true`: goes first
- legacy     2.8.2.tiered, past end of support since 2025-01-14
- shared-a,  3.6.0, both on configuration `base`, whose KafkaVersions lists only 3.6.0: the
  shared-b   incompatible configuration, and never two upgrading at once
- crowded    3.6.0 with 3,000 partitions per broker: over m5.large's 1,000, held by the gate
- nightly    3.8.x asking for 3.9.x, its window a day that does not come during the test
- pinned     3.6.0, `msk-autopilot:kafka-version=pinned`: untouched, reported as a risk
- untagged   3.6.0 without the opt-in tag: untouched
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from msk_autopilot_local.emulator import control

ROOT = Path(__file__).resolve().parents[3]
FUNCTION = "version_upgrader"
SOAK_HOURS = 1
ENVIRONMENT = {"VERSION_SOAK_HOURS": str(SOAK_HOURS), "VERSION_MAX_CONCURRENT": "2"}
MANAGED = {"msk-autopilot:managed": "true"}
BASE_PROPERTIES = "auto.create.topics.enable=false\nmin.insync.replicas=2\n"
UPGRADED = ("canary", "legacy", "shared-a", "shared-b")
UNTOUCHED = {"crowded": "3.6.0", "nightly": "3.8.x", "pinned": "3.6.0", "untagged": "3.6.0"}


def fleet(now: datetime) -> dict[str, Any]:
    far_day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(now.weekday() + 3) % 7]

    def cluster(name: str, version: str = "3.6.0", **extra: Any) -> dict[str, Any]:
        tags = {**MANAGED, **extra.pop("tags", {})}
        return {"name": name, "kafkaVersion": version, "tags": tags, "health": {}, **extra}

    return {
        "configurations": [
            {"name": "base", "kafkaVersions": ["3.6.0"], "serverProperties": BASE_PROPERTIES}
        ],
        "clusters": [
            cluster("canary", tags={"msk-autopilot:canary": "true"}),
            cluster("legacy", "2.8.2.tiered"),
            cluster("shared-a", configuration="base"),
            cluster("shared-b", configuration="base"),
            cluster("crowded", health={"partitionCount": 3000}),
            cluster(
                "nightly",
                "3.8.x",
                tags={
                    "msk-autopilot:kafka-version": "3.9.x",
                    "msk-autopilot:maintenance-window": f"{far_day} 00:00-24:00",
                },
            ),
            cluster("pinned", tags={"msk-autopilot:kafka-version": "pinned"}),
            {"name": "untagged", "kafkaVersion": "3.6.0", "health": {}},
        ],
    }


class World(Protocol):
    clusters: Mapping[str, str]

    def deliver(self, event: dict[str, Any]) -> dict[str, Any] | None: ...

    def client(self, service: str) -> Any: ...


def schedule_event(now: datetime) -> dict[str, Any]:
    event = json.loads((ROOT / "events" / "scheduled_event.json").read_text())
    return {**event, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ")}


@dataclass
class Upgrade:
    cluster: str
    state: str
    started: datetime
    ended: datetime | None
    source_configuration: str | None


@dataclass
class ScenarioResult:
    outcomes: list[dict[str, Any] | None] = field(default_factory=list)
    # per run: the clusters whose version upgrade was running right after it, with the
    # configuration each ran when it started
    running: list[list[tuple[str, str | None]]] = field(default_factory=list)
    upgrades: list[Upgrade] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    configurations: dict[str, tuple[str, int] | None] = field(default_factory=dict)


def software(world: World, name: str) -> dict[str, Any]:
    info = world.client("kafka").describe_cluster_v2(ClusterArn=world.clusters[name])
    return dict(info["ClusterInfo"]["Provisioned"]["CurrentBrokerSoftwareInfo"])


def running_upgrades(world: World) -> list[tuple[str, str | None]]:
    kafka = world.client("kafka")
    found = []
    for name, arn in world.clusters.items():
        operations = kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]
        if any(
            op["OperationType"] == "UPDATE_CLUSTER_KAFKA_VERSION"
            and op["OperationState"] in {"PENDING", "UPDATE_IN_PROGRESS"}
            for op in operations
        ):
            found.append((name, software(world, name).get("ConfigurationArn")))
    return found


def upgrades(world: World) -> list[Upgrade]:
    kafka = world.client("kafka")
    found = []
    for name, arn in world.clusters.items():
        for summary in kafka.list_cluster_operations_v2(ClusterArn=arn)["ClusterOperationInfoList"]:
            if summary["OperationType"] != "UPDATE_CLUSTER_KAFKA_VERSION":
                continue
            info = kafka.describe_cluster_operation_v2(ClusterOperationArn=summary["OperationArn"])
            source = info["ClusterOperationInfo"].get("SourceClusterInfo", {})
            found.append(
                Upgrade(
                    name,
                    summary["OperationState"],
                    summary["StartTime"],
                    summary.get("EndTime"),
                    source.get("ConfigurationInfo", {}).get("Arn"),
                )
            )
    return sorted(found, key=lambda upgrade: upgrade.started)


def run_upgrade_scenario(world: World, *, runs: int = 8) -> ScenarioResult:
    """A scheduled run, then MSK finishes what it started and the soak passes; until quiet."""
    result = ScenarioResult()
    quiet = 0
    for _ in range(runs):
        outcome = world.deliver(schedule_event(control.clock.now()))
        result.outcomes.append(outcome)
        running = running_upgrades(world)
        result.running.append(running)
        control.complete_operations()
        control.clock.advance(timedelta(hours=SOAK_HOURS, minutes=1).total_seconds())
        quiet = 0 if running else quiet + 1
        if quiet == 2:
            break
    result.upgrades = upgrades(world)
    for name in world.clusters:
        current = software(world, name)
        result.versions[name] = current["KafkaVersion"]
        arn = current.get("ConfigurationArn")
        result.configurations[name] = (arn, current["ConfigurationRevision"]) if arn else None
    return result
