"""Typed models of every event the functions accept, and the one way to parse them.

Events are decoded with msgspec: strict types, precise error paths (`$.detail.state.value`), and
no pydantic import on the cold-start path. Unknown fields are ignored because AWS adds fields to
its events over time. MSK record batches are modelled in `msk_autopilot.consume`, where decoding
speed is the product.

An event's *kind* is read from its envelope (`detail-type` for EventBridge, `Step` for a Secrets
Manager rotation, `action` for on-demand requests); a handler names the models it accepts and
`EventParser` picks the one whose `KIND` matches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import unquote

import msgspec

from msk_autopilot import clock

__all__ = [
    "AlarmStateChange",
    "CloudTrailApiCall",
    "EventParser",
    "EventValidationError",
    "InvalidEventError",
    "KafkaEventEnvelope",
    "ParameterStoreChange",
    "ScaleRequest",
    "ScheduledEvent",
    "SecretRotationStep",
    "UnsupportedEventError",
    "event_kind",
]


# An MSK cluster ARN: arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>-<suffix>
# (the suffix is a number, or s<number> for serverless clusters). \Z, not $: $ also matches
# before a trailing newline.
CLUSTER_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster/[0-9A-Za-z][0-9A-Za-z-]*/[0-9A-Za-z-]+\Z"
)
ClusterArn = Annotated[str, msgspec.Meta(pattern=CLUSTER_ARN_PATTERN)]

# How far an event's time may be from now where a handler acts at that time (the storage
# scaler reads the metrics before it and names its decision window by it). EventBridge retries
# a delivery for at most 24 hours and Lambda keeps an asynchronous event at most 6 hours; a
# replay from a dead-letter queue may come days later, but CloudWatch keeps MSK's one-minute
# metrics only 15 days, so an older time has no data to decide on. Ahead of now: a day allows
# for any clock skew. Anything further (year 1, year 9999) is no time to act at.
EVENT_TIME_BEFORE_NOW = timedelta(days=14)
EVENT_TIME_AFTER_NOW = timedelta(days=1)


class InvalidEventError(ValueError):
    """The event cannot be handled: it is rejected, never retried."""


class UnsupportedEventError(InvalidEventError):
    """The event is well formed but of a kind this function does not handle."""

    def __init__(self, kind: str, accepted: tuple[str, ...]) -> None:
        self.kind = kind
        super().__init__(f"unsupported event kind {kind!r}; accepted: {', '.join(accepted)}")


class EventValidationError(InvalidEventError):
    """The event is of an accepted kind but its content is malformed."""


def event_kind(raw: object) -> str:
    """The kind of a raw event, read from its envelope only."""
    if not isinstance(raw, Mapping):
        raise EventValidationError(f"event must be a JSON object, got {type(raw).__name__}")
    if "detail-type" in raw:
        return f"eventbridge:{raw['detail-type']}"
    if {"Step", "SecretId", "ClientRequestToken"} <= raw.keys():
        return "secretsmanager:rotation"
    source = raw.get("eventSource")
    if isinstance(source, str) and source in {"aws:kafka", "SelfManagedKafka"}:
        return "kafka"
    if "action" in raw:
        return f"action:{raw['action']}"
    return "unknown"


class _Model(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    KIND: ClassVar[str]


class _EventBridgeEnvelope(_Model, frozen=True, kw_only=True):
    id: str
    detail_type: str = msgspec.field(name="detail-type")
    source: str
    account: str
    # RFC 3339 with a zone (EventBridge sends UTC); the decision time of scheduled work
    time: Annotated[datetime, msgspec.Meta(tz=True)]
    region: str
    resources: list[str] = []


# --- CloudWatch alarm state change (EventBridge) -------------------------------------------


class AlarmState(_Model, frozen=True, kw_only=True):
    value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    reason: str = ""
    reason_data: str | None = None  # a JSON string; absent on an alarm's first transition
    timestamp: str


class Metric(_Model, frozen=True, kw_only=True):
    namespace: str
    name: str
    dimensions: dict[str, str] = {}


class MetricStat(_Model, frozen=True, kw_only=True):
    metric: Metric
    period: int
    stat: str


class AlarmMetric(_Model, frozen=True, kw_only=True):
    id: str
    metric_stat: MetricStat | None = None  # absent for metric-math expressions
    expression: str | None = None


class AlarmConfiguration(_Model, frozen=True, kw_only=True):
    description: str | None = None
    metrics: list[AlarmMetric] = []


class AlarmDetail(_Model, frozen=True, kw_only=True):
    alarm_name: str
    state: AlarmState
    previous_state: AlarmState | None = None
    configuration: AlarmConfiguration = AlarmConfiguration()


class AlarmStateChange(_EventBridgeEnvelope, frozen=True, kw_only=True):
    KIND: ClassVar[str] = "eventbridge:CloudWatch Alarm State Change"
    source: Literal["aws.cloudwatch"]
    detail: AlarmDetail

    @property
    def alarm_arn(self) -> str | None:
        return self.resources[0] if self.resources else None


# --- Schedules -------------------------------------------------------------------------


class ScheduledEvent(_EventBridgeEnvelope, frozen=True, kw_only=True):
    """An EventBridge rule schedule (detail `{}`) or an EventBridge Scheduler target without
    input (source aws.scheduler, detail the *string* "{}")."""

    KIND: ClassVar[str] = "eventbridge:Scheduled Event"
    source: Literal["aws.events", "aws.scheduler"]
    detail: dict[str, Any] | str = {}


# --- CloudTrail API calls (EventBridge) ------------------------------------------------------


class CloudTrailDetail(_Model, frozen=True, kw_only=True):
    event_source: Literal["kafka.amazonaws.com"]  # the only service whose calls are handled
    event_name: str
    aws_region: str
    event_time: str | None = None
    request_parameters: dict[str, Any] | None = None
    response_elements: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    user_identity: dict[str, Any] = {}


class CloudTrailApiCall(_EventBridgeEnvelope, frozen=True, kw_only=True):
    """An MSK API call as CloudTrail delivers it to EventBridge (source aws.kafka)."""

    KIND: ClassVar[str] = "eventbridge:AWS API Call via CloudTrail"
    source: Literal["aws.kafka"]
    detail: CloudTrailDetail

    @property
    def succeeded(self) -> bool:
        return self.detail.error_code is None

    def made_by(self, function_name: str) -> bool:
        """Whether the call came from the Lambda function `function_name` (its role session)."""
        caller = str(self.detail.user_identity.get("arn", ""))
        return bool(function_name) and caller.endswith(f"/{function_name}")

    @property
    def cluster_arn(self) -> str | None:
        """The MSK cluster the call was about; CloudTrail URL-encodes it in requestParameters,
        a create call only has it in responseElements, and a tag call names it resourceArn."""
        for section in (self.detail.request_parameters, self.detail.response_elements):
            for key in ("clusterArn", "resourceArn"):
                value = (section or {}).get(key)
                if isinstance(value, str) and re.match(CLUSTER_ARN_PATTERN, unquote(value)):
                    return unquote(value)
        return None


# --- Parameter Store change (EventBridge) ----------------------------------------------------


class ParameterStoreDetail(_Model, frozen=True, kw_only=True):
    name: str
    operation: str
    type: str | None = None
    description: str | None = None


class ParameterStoreChange(_EventBridgeEnvelope, frozen=True, kw_only=True):
    KIND: ClassVar[str] = "eventbridge:Parameter Store Change"
    source: Literal["aws.ssm"]
    detail: ParameterStoreDetail


# --- Secrets Manager rotation ----------------------------------------------------------------


class SecretRotationStep(_Model, frozen=True, kw_only=True, rename="pascal"):
    KIND: ClassVar[str] = "secretsmanager:rotation"
    step: Literal["createSecret", "setSecret", "testSecret", "finishSecret"]
    secret_id: str
    client_request_token: str
    rotation_token: str | None = None


# --- MSK / self-managed Kafka record batches -----------------------------------------------------


class KafkaEventEnvelope(_Model, frozen=True, kw_only=True):
    """The envelope of a Lambda Kafka batch; records stay undecoded (see msk_autopilot.consume)."""

    KIND: ClassVar[str] = "kafka"
    event_source: Literal["aws:kafka", "SelfManagedKafka"]
    event_source_arn: str | None = None  # absent for self-managed Kafka
    bootstrap_servers: str | None = None
    records: dict[str, list[dict[str, Any]]]


# --- On-demand requests ------------------------------------------------------------------------


class ScaleRequest(_Model, frozen=True, kw_only=True):
    """`{"action": "scale", "clusterArn": ..., "dryRun": bool}`: size one cluster now."""

    KIND: ClassVar[str] = "action:scale"
    action: Literal["scale"]
    cluster_arn: ClusterArn
    dry_run: bool = False


class EventParser[E: _Model]:
    """Parses raw events into one of the accepted models, or raises `InvalidEventError`.

    `acts_at_event_time`: the handler takes an EventBridge event's `time` as its "now", so a
    time outside EVENT_TIME_BEFORE_NOW .. EVENT_TIME_AFTER_NOW around the real now is invalid.
    """

    def __init__(self, *models: type[E], acts_at_event_time: bool = False) -> None:
        self._models = {model.KIND: model for model in models}
        self._acts_at_event_time = acts_at_event_time

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._models)

    def __call__(self, raw: object) -> E:
        kind = event_kind(raw)
        model = self._models.get(kind)
        if model is None:
            raise UnsupportedEventError(kind, self.kinds)
        try:
            event = msgspec.convert(raw, type=model)
        except msgspec.ValidationError as error:
            raise EventValidationError(f"{kind}: {error}") from None
        if self._acts_at_event_time and isinstance(event, _EventBridgeEnvelope):
            now = clock.now()
            if not now - EVENT_TIME_BEFORE_NOW <= event.time <= now + EVENT_TIME_AFTER_NOW:
                raise EventValidationError(
                    f"{kind}: time {event.time.isoformat()} is more than "
                    f"{EVENT_TIME_BEFORE_NOW.days} days before or {EVENT_TIME_AFTER_NOW.days} "
                    "day after now - at `$.time`"
                )
        return event
