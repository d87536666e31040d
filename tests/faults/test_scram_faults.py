"""The SCRAM rotator under AWS faults: one rotation of a secret two clusters use, with and without
20 % faults, must end the same (AWSCURRENT moved once, username kept, both clusters associated
and accepting the new password) with no association repeated and no step Lambda gives up on."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fault_world import FaultWorld, fault_world, run_summary
from scram_scenario import (
    ASSOCIATE,
    FLEET,
    SECRET,
    USERNAME,
    ScramScenarioResult,
    run_scram_scenario,
)

from msk_autopilot_local.faults import FaultKind, FaultPlan

FAULT_RATE = 0.2
SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def clean_run(template: Path) -> Iterator[ScramScenarioResult]:
    with fault_world(template, None, fleet=FLEET) as world:
        yield run_scram_scenario(world)


def _summary(label: str, result: ScramScenarioResult) -> str:
    return run_summary(
        label, result.proxy, result.invocations, mutatingMskCallsAtEmulator=result.mutating
    )


def test_the_fault_free_rotation_moves_awscurrent_once(clean_run):
    print(_summary("clean", clean_run))
    assert clean_run.outcomes == [
        ("createSecret", "acted"),
        ("setSecret", "acted"),
        ("testSecret", "unchanged"),
        ("finishSecret", "acted"),
    ]
    state = clean_run.end_state
    assert state["stages"] == [("other", ("AWSPREVIOUS",)), ("token", ("AWSCURRENT", "AWSPENDING"))]
    assert state["username"] == USERNAME
    assert state["previousIsOld"]
    assert state["passwordChanged"]
    for cluster in ("east", "west"):
        assert state["clusters"][cluster] == {
            "secrets": [SECRET],
            "acceptsNew": True,
            "acceptsOld": False,
        }
    assert clean_run.mutating == {ASSOCIATE: {"accepted": 1, "refused": 0}}
    assert all(not i.errors for i in clean_run.invocations)


@pytest.mark.parametrize("seed", SEEDS)
def test_mixed_faults_change_nothing_that_matters(
    clean_run, open_world: Callable[..., FaultWorld], seed
):
    world = open_world(FaultPlan.mixed(FAULT_RATE, seed=seed), FLEET)
    faulty = run_scram_scenario(world)
    print(_summary(f"seed {seed}", faulty))

    assert faulty.proxy["faults"] > 0
    assert world.failed() == []
    assert faulty.end_state == clean_run.end_state
    assert faulty.outcomes == clean_run.outcomes
    # Only the association the fault-free run made, once; a repeat at the emulator could only
    # be botocore retrying an association whose answer was lost.
    assert set(faulty.mutating) == {ASSOCIATE}
    lost = world.proxy.stats().faults_for("kafka", ASSOCIATE, FaultKind.DROP_AFTER)
    assert (
        clean_run.associations["accepted"]
        <= faulty.associations["accepted"]
        <= clean_run.associations["accepted"] + lost
    )
