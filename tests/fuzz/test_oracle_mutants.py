"""The fuzz oracle catches handlers that are wrong: each mutant, fuzzed as the real handlers are
(the same world, events and oracle), fails within a few dozen cases.

Mutants: one that always raises the SCRAM rotator's typed error; ones that raise a local-tooling
error for every event they accept (answering refused events correctly, so only the exact-class
rule can catch them); a record consumer that stores nothing and reports no failures; handlers
that change a cluster that is not opted in, or one the event does not name.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fuzz_events import events
from fuzz_oracle import RAISED_ON_PURPOSE, parsed, run_case
from fuzz_world import NOT_OPTED_IN, OPTED_IN, FuzzWorld
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from msk_autopilot.outcome import Outcome, Status
from msk_autopilot.scram.rotation import RotationFailed
from msk_autopilot_local.errors import LocalToolError

MUTANT_CASES = 40


@dataclass(frozen=True)
class Mutant:
    invoke: Callable[[Any], Any]


def oracle_verdict(world: FuzzWorld, function: str, mutant: Mutant, parse: Any) -> str:
    """Fuzz `mutant` in the place of `function`'s handler; the oracle's complaint."""

    @settings(
        max_examples=MUTANT_CASES,
        phases=[Phase.generate],
        database=None,
        report_multiple_bugs=False,
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        world.fresh()
        run_case(world, function, mutant, parse, data.draw(events(world, function)))

    with pytest.raises(AssertionError) as complaint:
        fuzz()
    return str(complaint.value)


def answering_refusals(parse: Any, accepted: Callable[[Any], Any]) -> Mutant:
    """A mutant that answers refused events as the runtime does, and the others with `accepted`."""

    def invoke(event: Any) -> Any:
        if parsed(parse, event) is None:
            return Outcome(Status.REJECTED, "invalid event").to_dict()
        return accepted(event)

    return Mutant(invoke)


def update_monitoring(world: FuzzWorld, cluster: str) -> None:
    arn = world.clusters[cluster]
    version = world.kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
    world.kafka.update_monitoring(
        ClusterArn=arn, CurrentVersion=version, EnhancedMonitoring="PER_BROKER"
    )


def test_a_handler_that_always_raises_rotation_failed_fails(world, load_handler):
    parse = load_handler("scram_rotator").parse

    def invoke(event: Any) -> Any:
        raise RotationFailed("mutant")

    verdict = oracle_verdict(world, "scram_rotator", Mutant(invoke), parse)
    assert "must be answered 'rejected'" in verdict
    assert "RotationFailed" in verdict


@pytest.mark.parametrize("function", list(RAISED_ON_PURPOSE))
def test_a_handler_that_raises_a_local_tooling_error_fails(world, load_handler, function):
    parse = load_handler(function).parse

    def accepted(event: Any) -> Any:
        raise LocalToolError("mutant")

    verdict = oracle_verdict(world, function, answering_refusals(parse, accepted), parse)
    assert f"{function} crashed: LocalToolError('mutant')" in verdict


def test_a_consumer_that_stores_nothing_and_reports_no_failure_fails(world, load_handler):
    parse = load_handler("record_consumer").parse
    mutant = answering_refusals(parse, lambda event: {"batchItemFailures": []})

    verdict = oracle_verdict(world, "record_consumer", mutant, parse)
    assert "was neither archived, quarantined nor reported as a batch item failure" in verdict


def test_a_handler_that_changes_a_cluster_not_opted_in_fails(world, load_handler):
    handler = load_handler("storage_scaler")

    def accepted(event: Any) -> Any:
        update_monitoring(world, NOT_OPTED_IN)
        return handler.invoke(event)

    verdict = oracle_verdict(
        world, "storage_scaler", answering_refusals(handler.parse, accepted), handler.parse
    )
    assert f"{world.clusters[NOT_OPTED_IN]}, which is not opted in" in verdict


def test_a_handler_that_changes_a_cluster_the_event_does_not_name_fails(world, load_handler):
    handler = load_handler("security_auditor")

    def accepted(event: Any) -> Any:
        update_monitoring(world, OPTED_IN[1])
        return handler.invoke(event)

    verdict = oracle_verdict(
        world, "security_auditor", answering_refusals(handler.parse, accepted), handler.parse
    )
    assert f"{world.clusters[OPTED_IN[1]]}, which the event does not name" in verdict
