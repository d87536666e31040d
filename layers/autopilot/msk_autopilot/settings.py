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
from pathlib import Path
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
    """The configuration rotator: where desired configurations live and what drift does."""

    @staticmethod
    def _parameter_path(raw: str) -> str:
        value = raw.strip()
        if not re.match(r"^/[A-Za-z0-9_.\-/]*/$", value) or "//" in value:
            raise ValueError("must be a Parameter Store path that starts and ends with '/'")
        return value

    # Notices already sent (see msk_autopilot.config.notices) are remembered in this table.
    idempotency_table: str = field(metadata=_env("IDEMPOTENCY_TABLE_NAME", _text))
    parameter_prefix: str = field(
        default="/msk-autopilot/configurations/",
        metadata=_env("CONFIG_PARAMETER_PREFIX", _parameter_path),
    )
    configuration_tag_key: str = field(
        default="msk-autopilot:configuration", metadata=_env("CONFIG_TAG_KEY", _text)
    )
    drift_action: Literal["repair", "report"] = field(
        default="repair", metadata=_env("CONFIG_DRIFT_ACTION", _choice("repair", "report"))
    )


@dataclass(frozen=True, kw_only=True)
class ScramRotatorSettings(CommonSettings):
    """The SCRAM rotator: how testSecret checks credentials against the brokers."""

    @staticmethod
    def _callable_path(raw: str) -> str:
        value = raw.strip()
        if not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", value):
            raise ValueError("must be module:function")
        return value

    authenticator: str = field(
        default="msk_autopilot.scram.handshake:authenticate",
        metadata=_env("SCRAM_AUTHENTICATOR", _callable_path),
    )


@dataclass(frozen=True, kw_only=True)
class SecurityAuditorSettings(CommonSettings):
    """The security auditor: where it audits, what it may fix, where its report goes."""

    # The controls msk_autopilot.audit.remediate can fix in place (a test keeps them equal).
    REMEDIABLE_CONTROLS = ("MSK.2", "MSK.4", "AUTOPILOT.1", "AUTOPILOT.3")

    @staticmethod
    def _account_ids(raw: str) -> tuple[str, ...]:
        accounts = _names(raw)
        if not all(re.fullmatch(r"\d{12}", account) for account in accounts):
            raise ValueError("must be comma-separated 12-digit account IDs")
        return accounts

    @staticmethod
    def _remediable(raw: str) -> tuple[str, ...]:
        controls = _names(raw)
        unknown = [c for c in controls if c not in SecurityAuditorSettings.REMEDIABLE_CONTROLS]
        if unknown:
            allowed = ", ".join(SecurityAuditorSettings.REMEDIABLE_CONTROLS)
            raise ValueError(f"names controls that cannot be fixed in place ({allowed} can)")
        return controls

    audit_regions: tuple[str, ...] = field(default=(), metadata=_env("AUDIT_REGIONS", _names))
    member_accounts: tuple[str, ...] = field(
        default=(), metadata=_env("MEMBER_ACCOUNT_IDS", _account_ids)
    )
    member_role_name: str = field(
        default="msk-autopilot-audit", metadata=_env("MEMBER_ROLE_NAME", _text)
    )
    report_bucket: str = field(metadata=_env("REPORT_BUCKET", _text))
    remediate_controls: tuple[str, ...] = field(
        default=(), metadata=_env("REMEDIATE_CONTROLS", _remediable)
    )
    broker_log_group: str = field(default="", metadata=_env("BROKER_LOG_GROUP", _text))

    def __post_init__(self) -> None:
        if "AUTOPILOT.3" in self.remediate_controls and not self.broker_log_group:
            raise SettingsError(
                ["BROKER_LOG_GROUP is required when REMEDIATE_CONTROLS has AUTOPILOT.3"]
            )


@dataclass(frozen=True, kw_only=True)
class RecordConsumerSettings(CommonSettings):
    """The MSK record consumer: how keys and values are decoded and where records go."""

    @staticmethod
    def _schema_file(raw: str) -> Path:
        path = Path(raw.strip())
        if not path.is_file():
            raise ValueError("must name an existing schema file")
        return path

    @staticmethod
    def _http_url(raw: str) -> str:
        value = raw.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @staticmethod
    def _hook(raw: str) -> str:
        value = raw.strip()
        if not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", value):
            raise ValueError("must be module:function")
        return value

    value_format: Literal["json", "avro", "raw"] = field(
        default="raw", metadata=_env("VALUE_FORMAT", _choice("json", "avro", "raw"))
    )
    value_schema: Path | None = field(default=None, metadata=_env("VALUE_SCHEMA", _schema_file))
    key_format: Literal["json", "avro", "raw"] = field(
        default="raw", metadata=_env("KEY_FORMAT", _choice("json", "avro", "raw"))
    )
    key_schema: Path | None = field(default=None, metadata=_env("KEY_SCHEMA", _schema_file))
    avro_wire_format: Literal["plain", "confluent", "glue"] = field(
        default="plain",
        metadata=_env("AVRO_WIRE_FORMAT", _choice("plain", "confluent", "glue")),
    )
    schema_registry: Literal["none", "confluent", "glue"] = field(
        default="none", metadata=_env("SCHEMA_REGISTRY", _choice("none", "confluent", "glue"))
    )
    schema_registry_url: str = field(default="", metadata=_env("SCHEMA_REGISTRY_URL", _http_url))
    # Kafka's default message.max.bytes; a larger key or value is quarantined, not decoded.
    max_value_bytes: int = field(
        default=1_048_576, metadata=_env("MAX_VALUE_BYTES", _integer(1, 6 * 1024 * 1024))
    )
    sink: Literal["s3", "eventbridge", "discard"] = field(
        default="s3", metadata=_env("SINK", _choice("s3", "eventbridge", "discard"))
    )
    archive_bucket: str = field(default="", metadata=_env("ARCHIVE_BUCKET", _text))
    event_bus_name: str = field(default="", metadata=_env("EVENT_BUS_NAME", _text))
    failure_bucket: str = field(metadata=_env("FAILURE_BUCKET", _text))
    record_hook: str = field(default="", metadata=_env("RECORD_HOOK", _hook))

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.sink == "s3" and not self.archive_bucket:
            problems.append("ARCHIVE_BUCKET is required when SINK=s3")
        if self.sink == "eventbridge" and not self.event_bus_name:
            problems.append("EVENT_BUS_NAME is required when SINK=eventbridge")
        for part, payload_format, schema in (
            ("KEY", self.key_format, self.key_schema),
            ("VALUE", self.value_format, self.value_schema),
        ):
            if payload_format == "raw" and schema is not None:
                problems.append(f"{part}_SCHEMA applies only to {part}_FORMAT=json or avro")
            if payload_format == "avro" and schema is None and self.schema_registry == "none":
                problems.append(f"{part}_FORMAT=avro needs {part}_SCHEMA or a SCHEMA_REGISTRY")
        if self.schema_registry not in ("none", self.avro_wire_format):
            problems.append(
                f"SCHEMA_REGISTRY={self.schema_registry} needs "
                f"AVRO_WIRE_FORMAT={self.schema_registry} (the schema id is in that prefix)"
            )
        if self.schema_registry == "confluent" and not self.schema_registry_url:
            problems.append("SCHEMA_REGISTRY_URL is required when SCHEMA_REGISTRY=confluent")
        if problems:
            raise SettingsError(problems)


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
