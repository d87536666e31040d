"""The fuzz oracle: what a handler's answer to an event may be, judged on what really happened.

Three checks, each an AssertionError when it fails:

`check_answer`     an event the function's parser refuses is answered "rejected" (the core's
                   runtime does that, never raising); an accepted one gets a result of the
                   function's shape, or one of the errors the core raises on purpose, by exact
                   class (a rotation step must raise to fail; a reconcile or a sweep that did not
                   finish raises so that Lambda retries it).
`check_clusters`   only a cluster the event names (or, for a sweep, any) may have changed, and
                   only if it is opted in.
`check_records`    every record of the batch is archived, quarantined or redelivered (at or past
                   its partition's first offset in the batch item failures).
"""

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote

import hypothesis

from msk_autopilot.audit.report import ReportConflict
from msk_autopilot.config.rollout import ReconcileError
from msk_autopilot.consume.pipeline import QuarantineError
from msk_autopilot.events import (
    CloudTrailApiCall,
    InvalidEventError,
    ParameterStoreChange,
    ScheduledEvent,
)
from msk_autopilot.scram.rotation import RotationFailed, RotationRejected
from msk_autopilot.sweep import SweepIncompleteError

STATUSES = {"acted", "dry_run", "unchanged", "skipped", "deferred", "rejected"}
# The errors each function raises on purpose, for Lambda to retry or (a rotation step) to fail.
RAISED_ON_PURPOSE: dict[str, set[type[Exception]]] = {
    "storage_scaler": {SweepIncompleteError},
    "broker_scaler": {SweepIncompleteError},
    "config_rotator": {ReconcileError},
    "scram_rotator": {RotationRejected, RotationFailed},
    "security_auditor": {ReportConflict},
    "record_consumer": {QuarantineError},
    "version_upgrader": set(),
    "health_monitor": set(),  # keeps alarms, dashboards and log watches: never a cluster
}
# Events after which a function may act on any opted-in cluster: schedules sweep the fleet, and
# the config rotator reconciles every configuration whatever woke it (rollout.py).
SWEEPS: dict[str, tuple[type, ...]] = {
    "storage_scaler": (ScheduledEvent,),
    "broker_scaler": (ScheduledEvent,),
    "security_auditor": (ScheduledEvent,),
    "config_rotator": (ScheduledEvent, ParameterStoreChange, CloudTrailApiCall),
    # the version upgrader plans the whole fleet whatever woke it (versions/upgrader.py)
    "version_upgrader": (ScheduledEvent, CloudTrailApiCall),
}

type Parser = Callable[[object], Any]


def parsed(parse: Parser, event: Any) -> Any | None:
    """The event as the function's own parser reads it, or None when it refuses it."""
    try:
        return parse(event)
    except InvalidEventError:
        return None


def check_answer(function: str, accepted: Any | None, result: Any, error: Exception | None) -> None:
    if accepted is None:
        assert error is None, f"a refused event must be answered 'rejected', not {error!r}"
        assert isinstance(result, dict), result
        assert result.get("status") == "rejected", result
        return
    if error is not None:
        assert type(error) in RAISED_ON_PURPOSE[function], f"{function} crashed: {error!r}"
        return
    assert isinstance(result, dict), result
    if function == "record_consumer":
        failures = result.get("batchItemFailures")
        assert isinstance(failures, list), result
        for failure in failures:
            identifier = failure["itemIdentifier"]
            assert isinstance(identifier["partition"], str), failure
            assert isinstance(identifier["offset"], int), failure
    else:
        assert result.get("status") in STATUSES, result


def check_clusters(
    function: str,
    accepted: Any | None,
    event: Any,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    opted_in: Callable[[str], bool],
    names_of: Callable[[str], Iterable[str]],
) -> None:
    changed = sorted(
        arn for arn in before.keys() | after.keys() if after.get(arn) != before.get(arn)
    )
    text = json.dumps(event)
    text += unquote(text)  # CloudTrail URL-encodes the ARNs in requestParameters
    sweep = accepted is not None and isinstance(accepted, SWEEPS.get(function, ()))
    for arn in changed:
        assert opted_in(arn), f"{function} changed {arn}, which is not opted in"
        assert sweep or any(name in text for name in names_of(arn)), (
            f"{function} changed {arn}, which the event does not name"
        )


def check_records(
    event: Any,
    result: Mapping[str, Any],
    archived: list[Mapping[str, Any]],
    quarantined: list[Mapping[str, Any]],
) -> int:
    """Asserts that no record was lost; returns how many records the batch held."""
    stored = {(f"{line['topic']}-{line['partition']}", line["offset"]) for line in archived}
    stored |= {(line["topicPartition"], line["offset"]) for line in quarantined}
    redeliver_from = {
        failure["itemIdentifier"]["partition"]: failure["itemIdentifier"]["offset"]
        for failure in result["batchItemFailures"]
    }
    records = 0
    unnamed = Counter(line["topicPartition"] for line in quarantined if line["offset"] is None)
    for partition_key, items in event["records"].items():
        for item in items:
            records += 1
            offset = item.get("offset") if isinstance(item, dict) else None
            if type(offset) is not int:  # cannot be redelivered: only the quarantine keeps it
                assert unnamed[partition_key] > 0, f"a record of {partition_key} was lost"
                unnamed[partition_key] -= 1
                continue
            kept = (partition_key, offset) in stored
            redelivered = offset >= redeliver_from.get(partition_key, offset + 1)
            assert kept or redelivered, (
                f"record {partition_key}@{offset} was neither archived, quarantined nor "
                "reported as a batch item failure"
            )
    return records


def run_case(world: Any, function: str, handler: Any, parse: Parser, event: Any) -> Any:
    """One fuzz case in a world made fresh before it: invoke, then all three checks. Returns
    the handler's result (None when it raised)."""
    before = world.cluster_state()
    result, error = None, None
    try:
        result = handler.invoke(copy.deepcopy(event))
    except Exception as raised:  # judged below, like any other answer
        error = raised
        hypothesis.event(f"{function} raised {type(raised).__name__}")
    accepted = parsed(parse, copy.deepcopy(event))
    check_answer(function, accepted, result, error)
    check_clusters(
        function,
        accepted,
        event,
        before,
        world.cluster_state(),
        opted_in=world.opted_in,
        names_of=world.cluster_names,
    )
    if function == "record_consumer" and accepted is not None and error is None:
        check_records(
            event,
            result,
            world.take_records(world.archive_bucket),
            world.take_records(world.failure_bucket, "quarantine/"),
        )
    return result
