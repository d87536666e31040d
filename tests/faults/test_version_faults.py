"""The version upgrader under AWS faults: issue 16's fleet rollout under 20 % faults must end as
it does without them, with no extra upgrade reaching MSK and no invocation Lambda gives up on.

The scenario and its fleet are `tests/integration/versions/upgrade_scenario.py`, whose fault-free
run tests/integration/versions checks in detail; here the function runs against a local account
behind the fault proxy, with the retry settings it is deployed with, and a raising handler is
invoked again as Lambda retries an asynchronous event.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from fault_world import FaultWorld

from msk_autopilot_local.faults import FaultKind, FaultPlan
from tests.integration.versions.upgrade_scenario import (
    ENVIRONMENT,
    FUNCTION,
    UNTOUCHED,
    UPGRADED,
    fleet,
    run_upgrade_scenario,
)

FAULT_RATE = 0.2
UPGRADE_CALL = "UpdateClusterKafkaVersion"


class ProxiedWorld:
    """`upgrade_scenario.World` over a fault world: the function through the proxy."""

    def __init__(self, world: FaultWorld) -> None:
        self.world = world
        self.clusters: Mapping[str, str] = world.account.clusters

    def deliver(self, event: dict[str, Any]) -> dict[str, Any] | None:
        result = self.world.invoke(FUNCTION, event, env=ENVIRONMENT).result
        return result if isinstance(result, dict) else None

    def client(self, service: str) -> Any:
        return self.world.client(service)


def coupled_name(world: FaultWorld, position: tuple[str, int] | None) -> str | None:
    """The configuration a cluster runs, by name without its digest (ARNs differ per world)."""
    if position is None:
        return None
    configuration = world.client("kafka").describe_configuration(Arn=position[0])
    return f"{configuration['Name'].rsplit('-', 1)[0]}#{position[1]}"


def test_twenty_percent_faults_reach_the_end_state_without_an_extra_upgrade(
    open_world: Callable[..., FaultWorld],
):
    world = open_world(FaultPlan.mixed(FAULT_RATE, seed=1), fleet(datetime.now(UTC)))
    result = run_upgrade_scenario(ProxiedWorld(world), runs=12)
    stats = world.proxy.stats()
    print(json.dumps({"requests": stats.requests, "faults": stats.faults_by_kind()}))

    assert stats.faults >= 0.1 * stats.requests
    assert world.failed() == []  # no event is left to the dead-letter queue
    # The fault-free end state (tests/integration/versions asserts how it is reached).
    assert result.versions == {**dict.fromkeys(UPGRADED, "3.8.x"), **UNTOUCHED}
    assert result.upgrades[0].cluster == "canary"
    assert sorted((u.cluster, u.state) for u in result.upgrades) == [
        (name, "UPDATE_COMPLETE") for name in sorted(UPGRADED)
    ]
    assert {name: coupled_name(world, result.configurations[name]) for name in UPGRADED} == {
        "canary": None,
        "legacy": None,
        "shared-a": "msk-autopilot-upgrade-base-3-8-x#1",
        "shared-b": "msk-autopilot-upgrade-base-3-8-x#1",
    }
    # No upgrade was repeated: MSK accepted one per upgraded cluster ...
    assert world.emulator.count(UPGRADE_CALL, accepted=True) == len(UPGRADED)
    # ... and every refused one is botocore retrying an upgrade whose answer was lost (MSK
    # refuses it: the CurrentVersion it carries is stale once the first attempt started).
    lost_answers = stats.faults_for("kafka", UPGRADE_CALL, FaultKind.DROP_AFTER)
    assert world.emulator.count(UPGRADE_CALL, accepted=False) <= lost_answers
    # The coupled configuration was made once, whatever answers were lost.
    names = [c["Name"] for c in world.client("kafka").list_configurations()["Configurations"]]
    assert "base" in names
    assert len(names) == 2
