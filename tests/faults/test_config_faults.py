"""The configuration rotator under AWS faults: the same rollout with and without 20 % faults must
end the same (every cluster on the same revision, one MSK revision), with no configuration or
cluster update repeated, and no invocation Lambda gives up on."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from config_scenario import FLEET, MSK_BASE, ConfigScenarioResult, run_config_scenario
from fault_world import FaultWorld, fault_world, run_summary

from msk_autopilot_local.faults import FaultKind, FaultPlan

FAULT_RATE = 0.2
SEEDS = (1, 2)


@pytest.fixture(scope="module")
def clean_run(template: Path) -> Iterator[ConfigScenarioResult]:
    with fault_world(template, None, fleet=FLEET) as world:
        yield run_config_scenario(world)


def _summary(label: str, result: ConfigScenarioResult) -> str:
    return run_summary(
        label, result.proxy, result.invocations, rolloutCallsAtEmulator=result.rollout_calls
    )


def test_the_fault_free_rollout_moves_each_cluster_once(clean_run):
    print(_summary("clean", clean_run))
    assert clean_run.states == ["updating", "updating", "updating", "complete"]
    assert clean_run.end_state["revisions"] == {MSK_BASE: 1}
    assert {c["configuration"] for c in clean_run.end_state["clusters"].values()} == {(MSK_BASE, 1)}
    assert clean_run.rollout_calls == {
        "CreateConfiguration": {"accepted": 1, "refused": 0},
        "UpdateConfiguration": {"accepted": 0, "refused": 0},
        "UpdateClusterConfiguration": {"accepted": 3, "refused": 0},
    }
    assert all(not i.errors for i in clean_run.invocations)


@pytest.mark.parametrize("seed", SEEDS)
def test_mixed_faults_change_nothing_that_matters(
    clean_run, open_world: Callable[..., FaultWorld], seed
):
    world = open_world(FaultPlan.mixed(FAULT_RATE, seed=seed), FLEET)
    faulty = run_config_scenario(world)
    print(_summary(f"seed {seed}", faulty))

    assert faulty.proxy["faults"] >= 0.1 * faulty.proxy["requests"]
    assert world.failed() == []
    assert faulty.states[-1] == "complete"
    # The same end state: each cluster on the same configuration revision, one MSK revision,
    # one configuration update per cluster.
    assert faulty.end_state == clean_run.end_state
    # Nothing repeated: MSK accepted exactly the fault-free run's rollout calls ...
    for operation, counts in clean_run.rollout_calls.items():
        assert faulty.rollout_calls[operation]["accepted"] == counts["accepted"], operation
    # ... and a refused one is botocore retrying a call whose answer was lost.
    for operation, counts in faulty.rollout_calls.items():
        lost = world.proxy.stats().faults_for("kafka", operation, FaultKind.DROP_AFTER)
        assert counts["refused"] <= lost, operation
