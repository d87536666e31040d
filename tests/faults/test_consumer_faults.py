"""The record consumer under AWS faults: the same generated batch with and without 20 % faults
must end with the same records archived (same content) and the same quarantined, none lost.

With the deployed retry settings botocore absorbs nearly every fault; with one attempt per call
(RETRY_MAX_ATTEMPTS=1) PutObject failures reach the sink, the partial batch response names the
partitions to redeliver, and the emulated event source mapping redelivers them. Redelivery is
at least once: a record may sit in two archive objects (a partition redelivered from a poison
record whose quarantine write failed), always with the same content.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from consumer_scenario import ALL, POISON, ConsumerScenarioResult, run_consumer_scenario
from fault_world import FaultWorld, fault_world

from msk_autopilot_local.faults import FaultPlan

FAULT_RATE = 0.2
SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def clean_run(template: Path) -> Iterator[ConsumerScenarioResult]:
    with fault_world(template, None) as world:
        yield run_consumer_scenario(world)


def _summary(label: str, result: ConsumerScenarioResult) -> str:
    return json.dumps(
        {
            "run": label,
            "requests": result.proxy["requests"],
            "faults": result.proxy["faultsByKind"],
            "deliveries": result.deliveries,
            "raisedThenSucceeded": sum(1 for i in result.invocations if i.raised_then_succeeded),
            "failedAfterLambdaRetries": sum(1 for i in result.invocations if i.failed),
            "archivedTwice": sum(1 for n in result.archive_writes.values() if n > 1),
        }
    )


def test_the_fault_free_run_archives_every_good_record_once(clean_run):
    print(_summary("clean", clean_run))
    assert clean_run.deliveries == [500]
    assert clean_run.unresolved == []
    assert clean_run.quarantined == POISON
    assert set(clean_run.archived) == ALL - POISON
    assert set(clean_run.archive_writes.values()) == {1}
    assert all(not i.errors for i in clean_run.invocations)


@pytest.mark.parametrize(("seed", "attempts"), [*((seed, "1") for seed in SEEDS), (SEEDS[0], "5")])
def test_mixed_faults_lose_and_change_no_record(
    clean_run, open_world: Callable[..., FaultWorld], seed, attempts
):
    world = open_world(FaultPlan.mixed(FAULT_RATE, seed=seed))
    faulty = run_consumer_scenario(world, env={"RETRY_MAX_ATTEMPTS": attempts})
    print(_summary(f"seed {seed} attempts {attempts}", faulty))

    assert faulty.proxy["faults"] > 0
    assert world.failed() == []
    assert faulty.unresolved == []  # every redelivery asked for was made, within the bound
    # Every record is archived or quarantined, none is lost, none is in both ...
    assert set(faulty.archived) | faulty.quarantined == ALL
    assert not set(faulty.archived) & faulty.quarantined
    # ... and exactly as in the fault-free run: the same records, with the same content.
    assert faulty.quarantined == clean_run.quarantined
    assert faulty.archived == clean_run.archived
    # At least once: a record is in at most one archive object per delivery of it.
    assert max(faulty.archive_writes.values()) <= len(faulty.deliveries)
