"""The storage scaler under AWS faults: the same scenario with and without 20 % faults must end
the same, without extra resizes and without an invocation that Lambda gives up on.

The functions run with the retry settings they are deployed with (the template sets RETRY_MODE,
RETRY_MAX_ATTEMPTS keeps its default of 5 attempts). A handler that raises is invoked again with
the same event, up to twice, as Lambda does for an asynchronous invocation.

The tests of lost answers and failing clusters pin three bugs the faults exposed, now fixed: a
lost UpdateBrokerStorage answer was reported as "not started", a lost idempotency claim skipped
the cluster, and a sweep hid a failing cluster from Lambda's retry.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fault_world import FaultWorld, fault_world
from storage_scenario import (
    FLEET,
    STORAGE_CALLS,
    STORAGE_OPERATION_TYPES,
    ScenarioResult,
    alarm_event,
    end_state,
    read_notifications,
    run_storage_scenario,
    schedule_event,
    subscribe_notifications,
    write_disk_usage,
)

from msk_autopilot.settings import StorageScalerSettings, load
from msk_autopilot_local.emulator import control
from msk_autopilot_local.faults import FaultKind, FaultPlan, FaultRule

FAULT_RATE = 0.2
SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def deployed_retry_settings(template: Path) -> tuple[str, int]:
    with fault_world(template) as world:
        environment = world.stack.function_environment("StorageScalerFunction")
    settings = load(StorageScalerSettings, {"AWS_REGION": "us-east-1", **environment})
    return settings.retry_mode, settings.max_attempts


@pytest.fixture(scope="module")
def clean_run(template: Path) -> Iterator[ScenarioResult]:
    with fault_world(template, None, fleet=FLEET) as world:
        yield run_storage_scenario(world)


def _summary(label: str, result: ScenarioResult) -> str:
    raised = sum(1 for i in result.invocations if i.raised_then_succeeded)
    failed = sum(1 for i in result.invocations if i.failed)
    return json.dumps(
        {
            "run": label,
            "requests": result.proxy["requests"],
            "faults": result.proxy["faultsByKind"],
            "invocations": len(result.invocations),
            "raisedThenSucceeded": raised,
            "failedAfterLambdaRetries": failed,
            "storageCallsAtEmulator": result.storage_calls,
            "storageOperations": result.operations_started,
            "notifications": len(result.notifications),
        }
    )


@pytest.mark.slow
def test_the_fault_free_run_grows_the_fast_cluster_twice_and_the_slower_once(
    clean_run, deployed_retry_settings
):
    print(_summary("clean", clean_run))
    assert deployed_retry_settings == ("standard", 5)
    clusters = clean_run.end_state["clusters"]
    # both grow at the first sweep; payments' step (25 GiB/h) lasts past the second sweep,
    # orders' (50 GiB/h) does not
    assert [len(clusters[name]["operations"]) for name in ("orders", "payments", "logs")] == [
        2,
        1,
        0,
    ]
    assert clusters["orders"]["volume"] > clusters["payments"]["volume"] / 2 > 1000 / 2
    assert len(clean_run.end_state["alarms"]) == 9
    assert clean_run.outcomes == [
        ("sweep-1", "acted"),
        ("alarm-orders-1", "skipped"),  # the resize started by the sweep still runs
        ("alarm-orders-2", "skipped"),
        ("alarm-payments-1", "skipped"),
        ("alarm-payments-2", "skipped"),
        ("sweep-2", "acted"),
    ]
    assert clean_run.storage_calls == {"accepted": 3, "refused": 0}
    assert len(clean_run.notifications) == 3  # one per growth
    assert all(not i.errors for i in clean_run.invocations)


@pytest.mark.parametrize(
    ("seed", "retry_mode"),
    [*((seed, "standard") for seed in SEEDS), (SEEDS[0], "adaptive")],
)
@pytest.mark.slow
def test_mixed_faults_change_nothing_that_matters(
    clean_run, open_world: Callable[..., FaultWorld], seed, retry_mode
):
    world = open_world(FaultPlan.mixed(FAULT_RATE, seed=seed), FLEET)
    faulty = run_storage_scenario(world, env={"RETRY_MODE": retry_mode})
    print(_summary(f"seed {seed} {retry_mode}", faulty))

    assert faulty.proxy["faults"] >= 0.1 * faulty.proxy["requests"]
    # No invocation ends in an unhandled exception once Lambda's retries are spent.
    assert world.failed() == []
    # The same end state: volumes, alarms, storage operations (type, state, target).
    assert faulty.end_state == clean_run.end_state
    assert faulty.outcomes == clean_run.outcomes
    # No resize was repeated: MSK accepted exactly the fault-free run's storage updates ...
    assert faulty.operations_started == clean_run.operations_started
    assert faulty.storage_calls["accepted"] == clean_run.storage_calls["accepted"]
    # ... and every refused one is botocore retrying an update whose answer was lost (MSK
    # refuses it: the CurrentVersion it carries is stale once the first attempt started).
    lost_answers = world.proxy.stats().faults_for("kafka", STORAGE_CALLS, FaultKind.DROP_AFTER)
    assert faulty.storage_calls["refused"] <= lost_answers
    # Notifications may repeat (SNS Publish retried after a lost answer) but none is invented.
    assert set(faulty.notifications) <= set(clean_run.notifications)


# --- single faults at the worst moment ---------------------------------------------------------


def _alarm_world(open_world: Callable[..., FaultWorld], rule: FaultRule) -> tuple[FaultWorld, str]:
    world = open_world(FaultPlan((rule,)), FLEET)
    now = control.clock.now()
    write_disk_usage(world, now, now)
    return world, world.account.clusters["orders"]


def _storage_operations(world: FaultWorld, cluster: str) -> list[tuple[str, str, str]]:
    operations = end_state(world)["clusters"][cluster]["operations"]
    return [op for op in operations if op[0] in STORAGE_OPERATION_TYPES]


LOST_UPDATE_ANSWER = FaultRule(
    1.0, {FaultKind.DROP_AFTER: 1}, "kafka", "UpdateBrokerStorage", limit=1
)


def test_a_lost_update_answer_does_not_resize_twice(open_world):
    world, arn = _alarm_world(open_world, LOST_UPDATE_ANSWER)
    invocation = world.invoke(
        "storage_scaler", alarm_event(arn, "orders", "1", control.clock.now())
    )
    assert not invocation.errors
    # botocore retried the update; MSK refused the retry for its stale CurrentVersion.
    assert world.emulator.summary() == {"UpdateBrokerStorage": {"accepted": 1, "refused": 1}}
    assert len(_storage_operations(world, "orders")) == 1


def test_a_lost_update_answer_is_still_reported_as_the_resize(open_world):
    world, arn = _alarm_world(open_world, LOST_UPDATE_ANSWER)
    inbox = subscribe_notifications(world)
    invocation = world.invoke(
        "storage_scaler", alarm_event(arn, "orders", "1", control.clock.now())
    )
    assert invocation.status == "acted", invocation.result
    assert any("Growing storage of orders" in s for s in read_notifications(world, inbox))


def test_a_lost_idempotency_write_answer_does_not_skip_the_resize(open_world):
    lost = FaultRule(1.0, {FaultKind.DROP_AFTER: 1}, "dynamodb", "PutItem", limit=1)
    world, arn = _alarm_world(open_world, lost)
    invocation = world.invoke(
        "storage_scaler", alarm_event(arn, "orders", "1", control.clock.now())
    )
    assert not invocation.failed
    assert len(_storage_operations(world, "orders")) == 1, invocation.result


def test_a_cluster_that_fails_in_a_sweep_is_retried(open_world):
    failing = FaultRule(1.0, {FaultKind.ERROR_503: 1}, "kafka", "DescribeClusterV2", limit=5)
    world, _ = _alarm_world(open_world, failing)
    invocation = world.invoke("storage_scaler", schedule_event(control.clock.now()))
    assert not invocation.failed
    assert len(_storage_operations(world, "orders")) == 1, invocation.result
    assert len(_storage_operations(world, "payments")) == 1


def test_a_raising_handler_is_retried_and_its_retry_acts_once(open_world):
    # 503s, not throttling: botocore backs off 50 ms instead of 1 s (the test stays fast).
    failing = FaultRule(1.0, {FaultKind.ERROR_503: 1}, "kafka", "ListClustersV2", limit=5)
    world, _ = _alarm_world(open_world, failing)
    invocation = world.invoke("storage_scaler", schedule_event(control.clock.now()))
    assert invocation.raised_then_succeeded
    assert "ServiceUnavailableException" in invocation.errors[0]
    assert invocation.status == "acted"
    assert world.emulator.summary() == {"UpdateBrokerStorage": {"accepted": 2, "refused": 0}}
    assert world.proxy.stats().requests_for("kafka", "ListClustersV2") == 6
