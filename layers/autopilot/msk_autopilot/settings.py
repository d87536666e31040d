"""Typed settings per function, read from environment variables and validated at cold start.

A function module loads its settings at import time; a bad or missing variable raises
`SettingsError` naming every offending variable, so the cold start fails with one clear message
instead of the first invocation failing halfway through.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, cast

__all__ = [
    "CommonSettings",
    "ConfigRotatorSettings",
    "RecordConsumerSettings",
    "ScramRotatorSettings",
    "SecurityAuditorSettings",
    "SettingsError",
    "StorageScalerSettings",
    "load",
]

RetryMode = Literal["standard", "adaptive"]


class SettingsError(ValueError):
    """One or more environment variables are missing or invalid."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings: " + "; ".join(problems))


def _env(name: str, parse: Callable[[str], Any]) -> dict[str, Any]:
    """Field metadata: the variable a setting is read from and how it is parsed."""
    return {"env": name, "parse": parse}


def _text(raw: str) -> str:
    if not raw.strip():
        raise ValueError("must not be empty")
    return raw.strip()


def _boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"true", "1", "yes"}:
        return True
    if value in {"false", "0", "no"}:
        return False
    raise ValueError("must be true or false")


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _number(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError("must be a number") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low:g} and {high:g}")
        return value

    return parse


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return parse


def _names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


_ARN = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):[a-z0-9-]*:\d{12}:.+$")


def _arn(service: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip()
        match = _ARN.match(value)
        if not match or match.group(1) != service:
            raise ValueError(f"must be an arn:aws:{service}:... ARN")
        return value

    return parse


@dataclass(frozen=True, kw_only=True)
class CommonSettings:
    """Settings every function shares (the template's Globals)."""

    region: str = field(metadata=_env("AWS_REGION", _text))
    dry_run: bool = field(default=False, metadata=_env("DRY_RUN", _boolean))
    opt_in_tag_key: str = field(
        default="msk-autopilot:managed", metadata=_env("OPT_IN_TAG_KEY", _text)
    )
    notification_topic_arn: str = field(metadata=_env("NOTIFICATION_TOPIC_ARN", _arn("sns")))
    retry_mode: RetryMode = field(
        default="standard", metadata=_env("RETRY_MODE", _choice("standard", "adaptive"))
    )
    max_attempts: int = field(default=5, metadata=_env("RETRY_MAX_ATTEMPTS", _integer(1, 20)))
    tracing_enabled: bool = field(default=False, metadata=_env("TRACING_ENABLED", _boolean))


@dataclass(frozen=True, kw_only=True)
class StorageScalerSettings(CommonSettings):
    idempotency_table: str = field(metadata=_env("IDEMPOTENCY_TABLE_NAME", _text))
    alarm_prefix: str = field(
        default="msk-autopilot-disk-", metadata=_env("DISK_ALARM_PREFIX", _text)
    )
    alarm_threshold_percent: float = field(
        default=75.0, metadata=_env("DISK_ALARM_THRESHOLD_PERCENT", _number(10, 95))
    )
    alarm_evaluation_periods: int = field(
        default=1, metadata=_env("DISK_ALARM_EVALUATION_PERIODS", _integer(1, 12))
    )
    target_percent: float = field(
        default=60.0, metadata=_env("STORAGE_TARGET_PERCENT", _number(10, 90))
    )
    cooldown_hours: float = field(
        default=6.0, metadata=_env("STORAGE_COOLDOWN_HOURS", _number(6, 72))
    )
    max_volume_gib: int = field(
        default=16384, metadata=_env("STORAGE_MAX_VOLUME_GIB", _integer(10, 16384))
    )
    scale_throughput: bool = field(
        default=False, metadata=_env("STORAGE_SCALE_THROUGHPUT", _boolean)
    )


@dataclass(frozen=True, kw_only=True)
class ConfigRotatorSettings(CommonSettings):
    idempotency_table: str = field(metadata=_env("IDEMPOTENCY_TABLE_NAME", _text))
    parameter_prefix: str = field(
        default="/msk-autopilot/configurations/", metadata=_env("CONFIG_PARAMETER_PREFIX", _text)
    )
    configuration_tag_key: str = field(
        default="msk-autopilot:configuration", metadata=_env("CONFIG_TAG_KEY", _text)
    )


@dataclass(frozen=True, kw_only=True)
class ScramRotatorSettings(CommonSettings):
    pass


@dataclass(frozen=True, kw_only=True)
class SecurityAuditorSettings(CommonSettings):
    audit_regions: tuple[str, ...] = field(default=(), metadata=_env("AUDIT_REGIONS", _names))
    member_accounts: tuple[str, ...] = field(
        default=(), metadata=_env("MEMBER_ACCOUNT_IDS", _names)
    )
    member_role_name: str = field(
        default="msk-autopilot-audit", metadata=_env("MEMBER_ROLE_NAME", _text)
    )
    report_bucket: str = field(metadata=_env("REPORT_BUCKET", _text))


@dataclass(frozen=True, kw_only=True)
class RecordConsumerSettings(CommonSettings):
    pass


def load[S: CommonSettings](settings_type: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Read `settings_type` from the environment, reporting every bad variable at once."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for spec in fields(settings_type):
        name = cast(str, spec.metadata["env"])
        parse = cast(Callable[[str], Any], spec.metadata["parse"])
        raw = env.get(name)
        if raw is None or (not raw.strip() and spec.default is not MISSING):
            if spec.default is MISSING:
                problems.append(f"{name} is required")
            continue
        try:
            values[spec.name] = parse(raw)
        except ValueError as error:
            problems.append(f"{name}={raw!r} {error}")
    if problems:
        raise SettingsError(problems)
    return settings_type(**values)
