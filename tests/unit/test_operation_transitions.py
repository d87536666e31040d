"""Which operation transitions count, and how their events read (pure: no AWS)."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from msk_autopilot.health.operation_events import Transition, TransitionKind, transitions
from msk_autopilot.msk import ClusterSnapshot, Operation

SINCE = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CLUSTER = ClusterSnapshot(
    cluster_arn="arn:aws:kafka:us-east-1:123456789012:cluster/orders/1",
    cluster_name="orders",
    state="ACTIVE",
)


def operation(name: str, state: str, start: int, end: int | None = None) -> Operation:
    return Operation(
        operation_arn=f"arn:aws:kafka:us-east-1:123456789012:cluster-operation/orders/1/{name}",
        operation_type="UPDATE_BROKER_STORAGE",
        operation_state=state,
        start_time=SINCE + timedelta(minutes=start),
        end_time=None if end is None else SINCE + timedelta(minutes=end),
    )


def kinds(found: list[Transition]) -> list[tuple[str, str]]:
    return [(t.operation.operation_arn.rsplit("/", 1)[1], t.kind.value) for t in found]


def test_only_transitions_at_or_after_since_count_in_time_order():
    found = transitions(
        CLUSTER,
        [
            operation("old", "UPDATE_COMPLETE", -60, -30),  # history
            operation("spanning", "UPDATE_COMPLETE", -10, 20),  # running at first sight
            operation("between", "UPDATE_FAILED", 5, 10),  # started and ended between sweeps
            operation("running", "UPDATE_IN_PROGRESS", 0),
        ],
        since=SINCE,
    )
    assert kinds(found) == [
        ("running", "started"),  # at since exactly: counts
        ("between", "started"),
        ("between", "failed"),
        ("spanning", "completed"),
    ]


@pytest.mark.parametrize(
    ("state", "terminal"),
    [
        ("PENDING", None),
        ("UPDATE_IN_PROGRESS", None),
        ("ROLLBACK_IN_PROGRESS", None),  # not over yet: the failure is published when it ends
        ("UPDATE_COMPLETE", "completed"),
        ("UPDATE_FAILED", "failed"),
        ("ROLLBACK_COMPLETE", "failed"),
        ("ROLLBACK_FAILED", "failed"),
    ],
)
def test_each_operation_state_yields_its_terminal_transition(state, terminal):
    found = kinds(transitions(CLUSTER, [operation("op", state, 1, 2)], since=SINCE))
    assert found == [("op", "started")] + ([("op", terminal)] if terminal else [])


def test_event_ids_are_stable_per_operation_and_transition():
    (started, completed) = transitions(
        CLUSTER, [operation("op", "UPDATE_COMPLETE", 1, 2)], since=SINCE
    )
    (again,) = transitions(CLUSTER, [operation("op", "UPDATE_IN_PROGRESS", 1)], since=SINCE)
    assert again.event_id == started.event_id != completed.event_id
    other = transitions(CLUSTER, [operation("other", "UPDATE_IN_PROGRESS", 1)], since=SINCE)
    assert other[0].event_id != started.event_id


def test_only_a_failure_carries_an_error():
    (started, failed) = transitions(CLUSTER, [operation("op", "UPDATE_FAILED", 1, 2)], since=SINCE)
    assert failed.kind is TransitionKind.FAILED
    assert failed.detail(possible_duplicate=False)["error"] == {
        "errorCode": None,
        "errorString": None,
    }
    detail = started.detail(possible_duplicate=True)
    assert "error" not in detail
    assert detail["possibleDuplicate"] is True
    assert detail["startTime"] == "2026-05-01T12:01:00+00:00"
    assert detail["endTime"] == "2026-05-01T12:02:00+00:00"


def test_the_readme_shows_each_transition_as_published():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Operation events") : readme.index("**The guarantee.**")]
    examples = {
        example["transition"]: example
        for example in map(json.loads, re.findall(r"```json\n(.*?)```", section, flags=re.S))
    }
    assert set(examples) == {kind.value for kind in TransitionKind}
    states = {"started": "UPDATE_IN_PROGRESS", "completed": "UPDATE_COMPLETE"}
    for kind, example in examples.items():
        end = None if kind == "started" else 30
        op = operation("op", states.get(kind, "UPDATE_FAILED"), 0, end)
        (published,) = [t for t in transitions(CLUSTER, [op], since=SINCE) if t.kind == kind]
        assert set(example) == set(published.detail(possible_duplicate=False)), kind
        assert example["operationState"] == op.operation_state
