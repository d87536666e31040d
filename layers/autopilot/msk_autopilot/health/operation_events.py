"""MSK operations as EventBridge events: one per transition (started, completed, failed).

MSK publishes no cluster state events, so the health monitor's sweep compares what
ListClusterOperationsV2 reports with what was already published and publishes the rest:
`OperationEvents.publish(cluster, operations, now=...)`, once per opted-in cluster per sweep.

Which transitions count. A transition happens at a time: an operation starts at its StartTime,
completes (UPDATE_COMPLETE) or fails (UPDATE_FAILED, ROLLBACK_COMPLETE, ROLLBACK_FAILED) at its
EndTime. It counts when that time is at or after the later of when the monitor first saw the
cluster and `HORIZON` ago. So the first sweep of a cluster publishes none of its history (an
operation already running then yields its terminal event only), and an operation that started
and ended between two sweeps yields both events, started first. `HORIZON` bounds how long the
records that remember a publication are kept: a cluster the monitor has not seen for that long
counts as new again. ROLLBACK_IN_PROGRESS is not yet an end: the failure is published when the
rollback ends, with the final state, because until then the cluster is still busy. An operation
that vanishes from the listing (its cluster deleted) yields nothing more.

Exactly once, as far as EventBridge allows. Each transition has a stable event id (a UUID5 of
the operation ARN and the transition), and a record under it in the idempotency table, written
with conditional writes: a sweep claims the transition (a lease of `LEASE`, the longest a Lambda
invocation runs, so a live publisher never loses it), sends it with PutEvents and marks it
published. A concurrent or repeated sweep meets the claim or the mark and does nothing. A claim
whose write was retried after a lost answer is recognised by its token.

PutEvents has no idempotency token, so the events client makes one attempt per call
(`ClientFactory.client(..., max_attempts=1)`) and this module decides each re-send. An answer
that refuses an entry (its ErrorCode) or the request (a 4xx error), or an error raised before
anything was sent (no connection), proves the event did not reach the bus: it is re-sent as it
was. No answer, or a 5xx answer, leaves it unknown: from then on every copy carries
`possibleDuplicate: true`. What a sweep could not confirm after `SEND_ATTEMPTS` is released to
the next sweep (logged, counted as `OperationEvents.Retry`), remembering whether a copy may
already be on the bus; a claim whose publisher stopped is taken over after its lease, flagged.
The guarantee: every transition that counts reaches the bus at least once while the sweeps run;
at most one copy per event id lacks `possibleDuplicate`; a second copy exists only after an
attempt whose outcome was unknown (or a publisher that stopped between sending and marking),
and carries the flag and the same event id.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError

from msk_autopilot.aws import ClientFactory, error_code
from msk_autopilot.msk import ClusterSnapshot, MskReader, Operation
from msk_autopilot.observability import MetricUnit, logger, metrics

__all__ = [
    "DETAIL_TYPE",
    "HORIZON",
    "LEASE",
    "SEND_ATTEMPTS",
    "SOURCE",
    "OperationEvents",
    "PublishReport",
    "Transition",
    "TransitionKind",
    "build_operation_events",
    "transitions",
]

SOURCE = "msk-autopilot"
DETAIL_TYPE = "MSK Cluster Operation State Change"
NAMESPACE = "operation-events"
HORIZON = timedelta(days=7)  # transitions older than this are history
LEASE = timedelta(minutes=15)  # Lambda's longest run: a live publisher keeps its claim
SEND_ATTEMPTS = 3
_KEEP = HORIZON + timedelta(days=1)  # a publication is remembered past the horizon
_BACKOFF_SECONDS = 0.2
_BATCH_GET = 100  # BatchGetItem's limit
_PUT_EVENTS = 10  # PutEvents' limit

_FAILED_STATES = frozenset({"UPDATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED"})
# A failed PutEvents answer at or above this status may come after the events were accepted.
_SERVER_ERROR = 500


class TransitionKind(StrEnum):
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"


class OperationError(msgspec.Struct, frozen=True, rename="pascal"):
    """DescribeClusterOperationV2's ErrorInfo."""

    error_code: str | None = None
    error_string: str | None = None


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    """One transition of one operation, and the event that announces it."""

    kind: TransitionKind
    cluster_arn: str
    cluster_name: str
    operation: Operation
    at: datetime | None  # when it happened, by MSK's clock
    error: OperationError | None = None

    @property
    def event_id(self) -> str:
        """Stable across sweeps and publishers: consumers can dedupe on it."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.operation.operation_arn}#{self.kind}"))

    def detail(self, *, possible_duplicate: bool) -> dict[str, Any]:
        operation = self.operation
        detail: dict[str, Any] = {
            "eventId": self.event_id,
            "transition": self.kind.value,
            "clusterArn": self.cluster_arn,
            "clusterName": self.cluster_name,
            "operationArn": operation.operation_arn,
            "operationType": operation.operation_type,
            "operationState": operation.operation_state,
            "startTime": _iso(operation.start_time),
            "endTime": _iso(operation.end_time),
            "possibleDuplicate": possible_duplicate,
        }
        if self.kind is TransitionKind.FAILED:
            error = self.error or OperationError()
            detail["error"] = {"errorCode": error.error_code, "errorString": error.error_string}
        return detail


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def transitions(
    cluster: ClusterSnapshot, operations: Iterable[Operation], *, since: datetime
) -> list[Transition]:
    """The transitions of `operations` at or after `since` (or of unknown time), in order."""
    found: list[Transition] = []
    for operation in operations:
        kinds = [(TransitionKind.STARTED, operation.start_time)]
        if operation.operation_state == "UPDATE_COMPLETE":
            kinds.append((TransitionKind.COMPLETED, operation.end_time))
        elif operation.operation_state in _FAILED_STATES:
            kinds.append((TransitionKind.FAILED, operation.end_time))
        found.extend(
            Transition(
                kind=kind,
                cluster_arn=cluster.cluster_arn,
                cluster_name=cluster.cluster_name,
                operation=operation,
                at=at,
            )
            for kind, at in kinds
            if at is None or at >= since
        )
    order = list(TransitionKind)
    return sorted(found, key=lambda t: (t.at or since, order.index(t.kind)))


class PublishReport(msgspec.Struct, frozen=True):
    published: list[Transition]  # confirmed on the bus by this sweep
    retry: list[Transition]  # claimed but not confirmed: the next sweep publishes them


class _Record(msgspec.Struct, frozen=True):
    """A transition's record in the idempotency table, as read."""

    state: str  # "claimed", "released" or "published"
    token: str
    expiration: int
    maybe_sent: bool


class _Claim(msgspec.Struct):
    transition: Transition
    maybe_sent: bool  # a copy may already be on the bus: later copies carry the flag


class OperationEvents:
    """Publishes operation transitions to EventBridge once each (see the module docstring)."""

    def __init__(
        self,
        msk: MskReader,
        events: Any,
        dynamodb: Any,
        table: str,
        *,
        bus_name: str = "default",
    ) -> None:
        self.msk = msk
        self.events = events  # one attempt per call: this module decides the re-sends
        self.dynamodb = dynamodb
        self.table = table
        self.bus_name = bus_name

    def publish(
        self, cluster: ClusterSnapshot, operations: Sequence[Operation], *, now: datetime
    ) -> PublishReport:
        since = max(self._first_seen(cluster.cluster_arn, now), now - HORIZON)
        candidates = transitions(cluster, operations, since=since)
        if not candidates:
            return PublishReport([], [])
        token = uuid.uuid4().hex  # this sweep's claims
        records = self._records(t.event_id for t in candidates)
        claims: list[_Claim] = []
        for candidate in candidates:
            record = records.get(candidate.event_id)
            if record is not None and (
                record.state == "published" or record.expiration >= _seconds(now)
            ):
                continue  # published, or held by a live publisher
            transition = self._with_error(candidate)
            # A released record says whether a copy may be out; a publisher that stopped
            # between claiming and marking may have sent one.
            maybe_sent = record is not None and (record.state == "claimed" or record.maybe_sent)
            if self._claim(transition, record, token, maybe_sent, now):
                claims.append(_Claim(transition, maybe_sent))
        published: list[Transition] = []
        retry: list[Transition] = []
        for start in range(0, len(claims), _PUT_EVENTS):
            batch = claims[start : start + _PUT_EVENTS]
            confirmed = self._send(batch)
            for claim in batch:
                if claim.transition.event_id in confirmed:
                    self._mark_published(claim, token, now)
                    published.append(claim.transition)
                else:
                    self._release(claim, token, now)
                    retry.append(claim.transition)
        return PublishReport(published, retry)

    # --- the idempotency table ------------------------------------------------------------------

    def _first_seen(self, cluster_arn: str, now: datetime) -> datetime:
        """When the monitor first saw the cluster; each sweep keeps the record for `HORIZON`."""
        item = self.dynamodb.update_item(
            TableName=self.table,
            Key={"id": {"S": f"{NAMESPACE}#cluster#{cluster_arn}"}},
            UpdateExpression="SET since = if_not_exists(since, :now), expiration = :expiration",
            ExpressionAttributeValues={
                ":now": {"N": str(_seconds(now))},
                ":expiration": {"N": str(_seconds(now + HORIZON))},
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return datetime.fromtimestamp(int(item["since"]["N"]), tz=now.tzinfo)

    def _records(self, event_ids: Iterable[str]) -> dict[str, _Record]:
        keys = [{"id": {"S": _record_id(event_id)}} for event_id in dict.fromkeys(event_ids)]
        found: dict[str, _Record] = {}
        for start in range(0, len(keys), _BATCH_GET):
            pending: dict[str, Any] = {
                self.table: {"Keys": keys[start : start + _BATCH_GET], "ConsistentRead": True}
            }
            while pending:  # DynamoDB may hand back unprocessed keys under load
                response = self.dynamodb.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table, []):
                    found[item["eventId"]["S"]] = _record(item)
                pending = response.get("UnprocessedKeys") or {}
        return found

    def _claim(
        self,
        transition: Transition,
        record: _Record | None,
        token: str,
        maybe_sent: bool,
        now: datetime,
    ) -> bool:
        """Claim the transition as read (absent, or the record seen); True when ours."""
        guard: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(id)"}
        if record is not None:  # take over exactly the record read: expired, not published
            guard = {
                "ConditionExpression": "#token = :seen AND #state <> :published",
                "ExpressionAttributeNames": {"#token": "token", "#state": "state"},
                "ExpressionAttributeValues": {
                    ":seen": {"S": record.token},
                    ":published": {"S": "published"},
                },
            }
        operation = transition.operation
        item = {
            "id": {"S": _record_id(transition.event_id)},
            "eventId": {"S": transition.event_id},
            "state": {"S": "claimed"},
            "token": {"S": token},
            "expiration": {"N": str(_seconds(now + LEASE))},
            "maybeSent": {"BOOL": maybe_sent},
            "transition": {"S": transition.kind.value},
            "operationArn": {"S": operation.operation_arn},
        }
        try:
            self.dynamodb.put_item(TableName=self.table, Item=item, **guard)
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            # Another sweep's claim, or ours: botocore re-sent a write whose answer was lost.
            return self._token(transition.event_id) == token
        return True

    def _token(self, event_id: str) -> str | None:
        item = self.dynamodb.get_item(
            TableName=self.table, Key={"id": {"S": _record_id(event_id)}}, ConsistentRead=True
        ).get("Item")
        return None if item is None else str(item["token"]["S"])

    def _mark_published(self, claim: _Claim, token: str, now: datetime) -> None:
        transition = claim.transition
        keep_until = max(transition.at or now, now) + _KEEP
        if not self._update(transition.event_id, token, "published", _seconds(keep_until), claim):
            # Our lease ran out and another sweep took the claim over: it sends a flagged copy.
            logger.warning("operation event claim lost", extra=_describe(transition))
        logger.info("operation event published", extra=_describe(transition, claim.maybe_sent))
        metrics.add_metric(name="OperationEvents.Published", unit=MetricUnit.Count, value=1)
        if claim.maybe_sent:
            metrics.add_metric(
                name="OperationEvents.PossibleDuplicate", unit=MetricUnit.Count, value=1
            )

    def _release(self, claim: _Claim, token: str, now: datetime) -> None:
        """Hand an unconfirmed transition to the next sweep (at once: no lease to wait out)."""
        self._update(claim.transition.event_id, token, "released", _seconds(now), claim)
        logger.warning(
            "operation event not confirmed: the next sweep publishes it",
            extra=_describe(claim.transition, claim.maybe_sent),
        )
        metrics.add_metric(name="OperationEvents.Retry", unit=MetricUnit.Count, value=1)

    def _update(
        self, event_id: str, token: str, state: str, expiration: int, claim: _Claim
    ) -> bool:
        """Set a record we hold; False when it is no longer ours."""
        try:
            self.dynamodb.update_item(
                TableName=self.table,
                Key={"id": {"S": _record_id(event_id)}},
                UpdateExpression="SET #state = :state, expiration = :expiration, "
                "maybeSent = :maybe",
                ConditionExpression="#token = :mine",
                ExpressionAttributeNames={"#state": "state", "#token": "token"},
                ExpressionAttributeValues={
                    ":state": {"S": state},
                    ":expiration": {"N": str(expiration)},
                    ":maybe": {"BOOL": claim.maybe_sent},
                    ":mine": {"S": token},
                },
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # --- MSK and EventBridge ---------------------------------------------------------------------

    def _with_error(self, transition: Transition) -> Transition:
        """A failure with its ErrorInfo, which only DescribeClusterOperationV2 reports."""
        if transition.kind is not TransitionKind.FAILED:
            return transition
        info = self.msk.operation_info(transition.operation.operation_arn).get("ErrorInfo")
        error = None if info is None else msgspec.convert(info, OperationError)
        return msgspec.structs.replace(transition, error=error)

    def _entry(self, transition: Transition, *, possible_duplicate: bool) -> dict[str, Any]:
        entry = {
            "Source": SOURCE,
            "DetailType": DETAIL_TYPE,
            "Detail": msgspec.json.encode(
                transition.detail(possible_duplicate=possible_duplicate)
            ).decode(),
            "Resources": [transition.cluster_arn, transition.operation.operation_arn],
            "EventBusName": self.bus_name,
        }
        return entry if transition.at is None else {**entry, "Time": transition.at}

    def _send(self, claims: Sequence[_Claim]) -> set[str]:
        """PutEvents with re-sends; the event ids the bus confirmed. A claim whose copy may
        have arrived unconfirmed gets `maybe_sent`, so every later copy is flagged."""
        confirmed: set[str] = set()
        for attempt in range(SEND_ATTEMPTS):
            unsent = [c for c in claims if c.transition.event_id not in confirmed]
            if not unsent:
                break
            if attempt:
                time.sleep(_BACKOFF_SECONDS * 2 ** (attempt - 1))
            entries = [self._entry(c.transition, possible_duplicate=c.maybe_sent) for c in unsent]
            try:
                results = self.events.put_events(Entries=entries)["Entries"]
            except HTTPClientError:  # sent, and no answer came back (closed, timed out)
                _may_have_arrived(unsent)
                continue
            except ClientError as error:  # an answer: 4xx refused the request, 5xx may not have
                status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
                if status >= _SERVER_ERROR:
                    _may_have_arrived(unsent)
                continue
            except BotoCoreError:
                continue  # before sending: no connection, no credentials, bad parameters
            confirmed.update(
                c.transition.event_id
                for c, result in zip(unsent, results, strict=True)
                if result.get("EventId")  # else ErrorCode: that entry was refused
            )
        return confirmed


def _may_have_arrived(claims: Iterable[_Claim]) -> None:
    for claim in claims:
        claim.maybe_sent = True


def _record(item: Mapping[str, Any]) -> _Record:
    return _Record(
        state=item["state"]["S"],
        token=item["token"]["S"],
        expiration=int(item["expiration"]["N"]),
        maybe_sent=bool(item.get("maybeSent", {}).get("BOOL", False)),
    )


def _record_id(event_id: str) -> str:
    return f"{NAMESPACE}#{event_id}"


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _describe(transition: Transition, possible_duplicate: bool = False) -> dict[str, Any]:
    return {
        "event_id": transition.event_id,
        "transition": transition.kind.value,
        "cluster": transition.cluster_arn,
        "operation": transition.operation.operation_arn,
        "possible_duplicate": possible_duplicate,
    }


def build_operation_events(
    clients: ClientFactory, idempotency_table: str, *, bus_name: str = "default"
) -> OperationEvents:
    """The publisher the health monitor uses, on its clients and the stack's idempotency table."""
    return OperationEvents(
        MskReader(clients.client("kafka")),
        clients.client("events", max_attempts=1),
        clients.client("dynamodb"),
        idempotency_table,
        bus_name=bus_name,
    )
