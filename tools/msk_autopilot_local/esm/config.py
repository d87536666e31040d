"""The poller's settings, checked by msgspec against Lambda's limits for Kafka event sources."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

from msk_autopilot.events import CLUSTER_ARN_PATTERN
from msk_autopilot_local.esm.errors import EsmError

__all__ = ["DEFAULT_REGION", "Handler", "PollerConfig", "StartingPosition"]

DEFAULT_REGION = "us-east-1"  # where AWS is when nothing says otherwise

RETRIES_WITH_DESTINATION = 10  # infinite retries plus a destination: Lambda caps at 10

Handler = Callable[[dict[str, Any], Any], Any]
StartingPosition = Literal["TRIM_HORIZON", "LATEST"]
if TYPE_CHECKING:
    FunctionTarget = str | Handler
else:  # msgspec cannot check a union of str and a callable; resolving the function does
    FunctionTarget = Any

TopicName = Annotated[str, msgspec.Meta(pattern=r"\A[A-Za-z0-9._-]{1,249}\Z")]
Seconds = Annotated[float, msgspec.Meta(gt=0)]

# The command-line option behind each setting whose name differs from --<setting-name>.
_OPTION_NAMES = {
    "topics": "--topic",
    "group_id": "--group",
    "report_batch_item_failures": "--no-partial-batch-response",
}
_PYTHON_ONLY = {"env_vars", "commit_timeout", "retry_backoff", "retry_backoff_max"}


class PollerConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What `msk-autopilot esm` is told on its command line, for callers in Python.

    Construct it directly (unchecked) or with `checked(settings)`; `run_poller` checks it.
    """

    bootstrap_servers: Annotated[str, msgspec.Meta(pattern=r"\S")]
    topics: Annotated[tuple[TopicName, ...], msgspec.Meta(min_length=1)]
    function: FunctionTarget = "record_consumer"
    group_id: str | None = None  # default: msk-autopilot-esm-<function>
    template: Path | None = None  # default: the nearest template.yaml
    env_vars: Mapping[str, str] = msgspec.field(default_factory=dict)  # the function's env
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 100
    batching_window: Annotated[float, msgspec.Meta(ge=0, le=300)] = 0.5  # Lambda's Kafka default
    starting_position: StartingPosition = "TRIM_HORIZON"
    max_retries: Annotated[int, msgspec.Meta(ge=-1, le=10_000)] = -1  # -1: until it succeeds
    bisect: bool = False
    report_batch_item_failures: bool = True
    on_failure: str | None = (
        None  # s3://bucket/prefix, S3 bucket ARN, SQS URL/ARN, SNS ARN, kafka://t
    )
    cluster_arn: str | None = None  # MSK shape (aws:kafka + eventSourceArn) when given
    until_idle: Seconds | None = None  # stop after this long without progress
    max_batches: Annotated[int, msgspec.Meta(ge=1)] | None = None  # stop after this many
    kafka_config: Mapping[str, Any] = msgspec.field(default_factory=dict)  # librdkafka's
    broker_timeout: Seconds = 30.0  # Kafka unreachable this long: give up
    commit_timeout: Seconds = 10.0
    retry_backoff: Annotated[float, msgspec.Meta(ge=0)] = 0.5  # doubled each retry
    retry_backoff_max: Annotated[float, msgspec.Meta(ge=0)] = 10.0
    status_interval: Seconds = 5.0  # seconds between status lines when not on a terminal

    @classmethod
    def checked(cls, settings: Mapping[str, Any]) -> PollerConfig:
        """`settings` as a PollerConfig, or EsmError naming the option that is wrong."""
        try:
            config = msgspec.convert(dict(settings), cls, dec_hook=_path_hook)
        except msgspec.ValidationError as error:
            raise EsmError(_option_message(str(error), settings)) from None
        if config.cluster_arn is not None and not re.fullmatch(
            CLUSTER_ARN_PATTERN, config.cluster_arn
        ):
            raise EsmError(f"--cluster-arn {config.cluster_arn!r} is not an MSK cluster ARN")
        return config

    def validate(self) -> None:
        PollerConfig.checked(msgspec.structs.asdict(self))

    @property
    def function_name(self) -> str:
        if isinstance(self.function, str):
            return self.function.rsplit(":", 1)[-1] if ":" in self.function else self.function
        return getattr(self.function, "__name__", "handler")

    @property
    def consumer_group(self) -> str:
        return self.group_id or f"msk-autopilot-esm-{self.function_name}"

    @property
    def effective_max_retries(self) -> int:
        if self.max_retries == -1 and self.on_failure:
            return RETRIES_WITH_DESTINATION
        return self.max_retries


def _path_hook(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, str | Path):
        return Path(value)
    raise NotImplementedError(f"{kind!r}")


def _option_name(setting: str) -> str:
    """The option a user sets for `setting`: `--batch-size` for batch_size."""
    if setting in _PYTHON_ONLY:
        return setting
    return _OPTION_NAMES.get(setting, "--" + setting.replace("_", "-"))


def _option_message(message: str, settings: Mapping[str, Any]) -> str:
    """msgspec's "Expected `int` >= 1 - at `$.batch_size`" as "--batch-size: expected `int` >= 1,
    not 0"."""
    detail, _, location = message.partition(" - at `$.")
    if not location:  # not about one field: "Object contains unknown field `x`"
        return detail
    setting = re.match(r"\w+", location)
    name = setting.group() if setting else location
    shown = f", not {settings[name]!r}" if name in settings else ""
    return f"{_option_name(name)}: {detail[0].lower()}{detail[1:]}{shown}"
