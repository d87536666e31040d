"""Operation events under AWS faults: sweeps through the fault proxy (kafka, DynamoDB and
EventBridge faulted; the events client makes one attempt per call, the others keep the deployed
default of five attempts, standard mode) until quiet. Each transition reaches the bus; a second
copy exists only after a PutEvents attempt whose outcome was unknown (no answer, or a 5xx), and
carries `possibleDuplicate`.

The targeted tests pin each kind of PutEvents fault to what it proves: a refused request is
re-sent as it was, a lost answer or a dropped connection makes every later copy flagged, and
what a sweep cannot confirm is published by the next one."""

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fault_world import REGION, FaultWorld

from msk_autopilot.aws import ClientFactory
from msk_autopilot.health.operation_events import (
    LEASE,
    SOURCE,
    OperationEvents,
    PublishReport,
    build_operation_events,
)
from msk_autopilot_local.emulator import control
from msk_autopilot_local.faults import FaultKind, FaultPlan, FaultRule

TABLE = "msk-autopilot-idempotency"
FLEET = {
    "clusters": [
        {"name": "orders", "brokers": 3, "volumeSizeGiB": 1000, "subnets": ["a", "b", "c"]}
    ]
}
# PutEvents faults after which the events may or may not be on the bus.
UNKNOWN_OUTCOME = {
    FaultKind.DROP_BEFORE,  # the client cannot tell it from a lost answer
    FaultKind.DROP_AFTER,
    FaultKind.ERROR_500,
    FaultKind.ERROR_503,
}
MAX_ROUNDS = 25
FAULT_RATE = 0.2
SEED = 2  # its faults include a PutEvents whose outcome is unknown, and a duplicate
STEPS = 6  # operations, every other one failing


class Account:
    """The world, a queue behind a rule on source msk-autopilot, and publishers on the proxy."""

    def __init__(self, world: FaultWorld, monkeypatch: pytest.MonkeyPatch) -> None:
        self.world = world
        self.arn = world.account.clusters["orders"]
        for name, value in world.environment.items():
            monkeypatch.setenv(name, value)  # the publisher's clients go through the proxy
        sqs, events = world.client("sqs"), world.client("events")
        self.url = sqs.create_queue(QueueName="operation-events")["QueueUrl"]
        queue = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        events.put_rule(Name="operation-events", EventPattern=json.dumps({"source": [SOURCE]}))
        events.put_targets(
            Rule="operation-events",
            Targets=[{"Id": "queue", "Arn": queue["Attributes"]["QueueArn"]}],
        )
        control.configure(storage_cooldown_seconds=0)
        self.copies: list[dict[str, Any]] = []
        self.publisher: OperationEvents = build_operation_events(ClientFactory(REGION), TABLE)

    def sweep(self, now: datetime) -> PublishReport:
        """One sweep of the cluster, in a warm container (the same clients each time)."""
        publisher = self.publisher
        cluster = publisher.msk.cluster(self.arn)
        return publisher.publish(cluster, publisher.msk.operations(self.arn), now=now)

    def resize(self, gib: int) -> str:
        kafka = self.world.client("kafka")
        info = kafka.describe_cluster_v2(ClusterArn=self.arn)["ClusterInfo"]
        return kafka.update_broker_storage(
            ClusterArn=self.arn,
            CurrentVersion=info["CurrentVersion"],
            TargetBrokerEBSVolumeInfo=[{"KafkaBrokerNodeId": "ALL", "VolumeSizeGB": gib}],
        )["ClusterOperationArn"]

    def bus(self) -> list[dict[str, Any]]:
        """Every event delivered so far (all copies), read straight from the account."""
        sqs = self.world.client("sqs")
        while messages := sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            self.copies += [json.loads(m["Body"])["detail"] for m in messages]
            sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(messages)
                ],
            )
        return self.copies


@pytest.fixture
def account(open_world: Callable[..., FaultWorld], monkeypatch: pytest.MonkeyPatch) -> Account:
    return Account(open_world(None, FLEET), monkeypatch)


def sweep_until_quiet(account: Account, start: datetime) -> int:
    """Sweeps, each a lease after the last (so a claim a failed sweep left is taken over),
    until one raises nothing and has nothing to publish; how many sweeps raised."""
    raised = 0
    for round_ in range(MAX_ROUNDS):
        try:
            report = account.sweep(start + round_ * (LEASE + timedelta(seconds=1)))
        except Exception:  # what Lambda would retry: the next sweep does the same
            raised += 1
            continue
        if not report.published and not report.retry:
            return raised
    raise AssertionError(f"not quiet after {MAX_ROUNDS} sweeps")


def transitions_on_the_bus(copies: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(c["operationArn"], c["transition"]) for c in copies}


def test_each_transition_reaches_the_bus_under_20_percent_faults(account: Account):
    history = account.resize(1100)
    control.complete_operations()
    account.world.proxy.plan = FaultPlan.mixed(FAULT_RATE, seed=SEED)
    sweep_until_quiet(account, control.clock.advance(60))  # first sight: nothing to publish
    assert account.bus() == []

    expected: set[tuple[str, str]] = set()
    failures: dict[str, str] = {}
    raised = 0
    for step in range(STEPS):
        fails = step % 2 == 1
        if fails:
            control.fail_next_operation(error_code="InternalError", error_string=f"step {step}")
        operation = account.resize(1200 + 100 * step)
        raised += sweep_until_quiet(account, control.clock.now())  # started
        control.complete_operations()
        raised += sweep_until_quiet(account, control.clock.now())  # completed or failed
        expected |= {(operation, "started"), (operation, "failed" if fails else "completed")}
        if fails:
            failures[operation] = f"step {step}"

    copies = account.bus()
    assert transitions_on_the_bus(copies) == expected
    assert history not in {c["operationArn"] for c in copies}
    for copy in copies:
        if copy["transition"] == "failed":
            assert copy["error"] == {
                "errorCode": "InternalError",
                "errorString": failures[copy["operationArn"]],
            }

    per_event = Counter(c["eventId"] for c in copies)
    unflagged = Counter(c["eventId"] for c in copies if not c["possibleDuplicate"])
    assert len(per_event) == len(expected)
    assert max(unflagged.values(), default=0) <= 1  # one first copy at most, never two
    unknown = [
        f
        for f in account.world.proxy.injected()
        if f.operation == "PutEvents" and f.kind in UNKNOWN_OUTCOME
    ]
    extra = len(copies) - len(per_event)
    assert unknown  # the run met the case that matters
    assert extra <= len(unknown)  # a second copy only after an attempt of unknown outcome
    stats = account.world.proxy.stats()
    faulted = {f.service for f in account.world.proxy.injected()}
    assert faulted >= {"kafka", "dynamodb", "events"}, faulted
    print(
        json.dumps(
            {
                "seed": SEED,
                "faults": stats.faults_by_kind(),
                "putEventsRequests": stats.requests_for("events", "PutEvents"),
                "putEventsUnknownOutcome": len(unknown),
                "copies": len(copies),
                "extraCopies": extra,
                "flagged": len(copies) - sum(unflagged.values()),
                "sweepsRaised": raised,
            }
        )
    )
    assert account.sweep(control.clock.now() + 4 * LEASE).published == []


def put_events_fault(kind: FaultKind, times: int) -> FaultPlan:
    rule = FaultRule(1.0, [kind], service="events", operation="PutEvents", limit=times)
    return FaultPlan((rule,))


@pytest.mark.parametrize(
    ("kind", "times", "flags", "retried"),
    [
        # refused: re-sent as it was, one copy
        (FaultKind.THROTTLE, 1, [False], False),
        # arrived, answer lost: the re-sent copy is flagged
        (FaultKind.DROP_AFTER, 1, [False, True], False),
        # never arrived, but the client cannot know: the one copy is flagged
        (FaultKind.DROP_BEFORE, 1, [True], False),
        (FaultKind.ERROR_503, 1, [True], False),
        # refused on every attempt: released unflagged, the next sweep sends the first copy
        (FaultKind.THROTTLE, 3, [False], True),
        # every answer lost: three copies out, the next sweep's copy is flagged too
        (FaultKind.DROP_AFTER, 3, [False, True, True, True], True),
    ],
)
def test_each_put_events_fault_proves_what_it_proves(
    account: Account, kind: FaultKind, times: int, flags: list[bool], retried: bool
):
    account.sweep(control.clock.now())
    operation = account.resize(1100)
    now = control.clock.advance(1)
    account.world.proxy.plan = put_events_fault(kind, times)

    first = account.sweep(now)
    assert [t.operation.operation_arn for t in first.retry + first.published] == [operation]
    assert bool(first.retry) is retried
    second = account.sweep(now + timedelta(seconds=1))  # a released claim is taken at once
    assert len(second.published) == int(retried)

    copies = account.bus()
    (started,) = first.retry + first.published
    assert {c["eventId"] for c in copies} == {started.event_id}
    assert [c["possibleDuplicate"] for c in copies] == flags
    assert account.sweep(now + LEASE * 2).published == []
