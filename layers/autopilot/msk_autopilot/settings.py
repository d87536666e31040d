"""Typed settings per function, read from environment variables and validated at cold start.

A function module loads its settings at import time; a bad or missing variable raises
`SettingsError` naming every offending variable, so the cold start fails with one clear message
instead of the first invocation failing halfway through.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_args

import msgspec

from msk_autopilot.capacity.policy import BrokerPolicySettings
from msk_autopilot.capacity.pricing import PriceTable
from msk_autopilot.versions.catalogue import Catalogue

__all__ = [
    "PAYLOAD_FORMATS",
    "BrokerScalerSettings",
    "CommonSettings",
    "ConfigRotatorSettings",
    "HealthMonitorSettings",
    "PayloadFormat",
    "RecordConsumerSettings",
    "ScramRotatorSettings",
    "SecurityAuditorSettings",
    "SettingsError",
    "StorageScalerSettings",
    "VersionUpgraderSettings",
    "load",
]

RetryMode = Literal["standard", "adaptive"]

# How the record consumer reads a key or value: plain, or `<registry>-<encoding>` behind a
# schema registry's wire-format prefix (msk_autopilot.consume.wire).
PayloadFormat = Literal[
    "raw",
    "json",
    "avro",
    "confluent-avro",
    "confluent-json",
    "confluent-protobuf",
    "glue-avro",
    "glue-json",
]
PAYLOAD_FORMATS: tuple[PayloadFormat, ...] = get_args(PayloadFormat)


class SettingsError(ValueError):
    """One or more environment variables are missing or invalid."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings: " + "; ".join(problems))


def _env(name: str, parse: Callable[[str], Any]) -> msgspec.Meta:
    """A setting's annotation: the variable it is read from and how that is parsed."""
    return msgspec.Meta(extra={"env": name, "parse": parse})


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


_ARN = re.compile(r"arn:aws[a-z-]*:([a-z0-9-]+):[a-z0-9-]*:\d{12}:.+")


def _arn(service: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip()
        match = _ARN.fullmatch(value)
        if not match or match.group(1) != service:
            raise ValueError(f"must be an arn:aws:{service}:... ARN")
        return value

    return parse


def _parameter_path(raw: str) -> str:
    value = raw.strip()
    if not re.fullmatch(r"/[A-Za-z0-9_.\-/]*/", value) or "//" in value:
        raise ValueError("must be a Parameter Store path that starts and ends with '/'")
    return value


def _module_function(raw: str) -> str:
    value = raw.strip()
    if not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", value):
        raise ValueError("must be module:function")
    return value


def _account_ids(raw: str) -> tuple[str, ...]:
    accounts = _names(raw)
    if not all(re.fullmatch(r"\d{12}", account) for account in accounts):
        raise ValueError("must be comma-separated 12-digit account IDs")
    return accounts


def _remediable(raw: str) -> tuple[str, ...]:
    controls = _names(raw)
    unknown = [c for c in controls if c not in SecurityAuditorSettings.REMEDIABLE_CONTROLS]
    if unknown:
        allowed = ", ".join(SecurityAuditorSettings.REMEDIABLE_CONTROLS)
        raise ValueError(f"names controls that cannot be fixed in place ({allowed} can)")
    return controls


def _schema_file(raw: str) -> Path:
    path = Path(raw.strip())
    if not path.is_file():
        raise ValueError("must name an existing schema file")
    return path


def _catalogue(raw: str) -> Catalogue:
    """The built-in version catalogue with a JSON override merged over it (CatalogueError is a
    ValueError naming the offending field)."""
    return Catalogue.with_overrides(raw)


def _price_table(raw: str) -> PriceTable:
    """The built-in price table with a price file merged over it (PricingError is a ValueError
    naming the file and the key)."""
    return PriceTable.with_overrides(Path(raw.strip()))


def _http_url(raw: str) -> str:
    value = raw.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


class CommonSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Settings every function shares (the template's Globals)."""

    region: Annotated[str, _env("AWS_REGION", _text)]
    # Set by Lambda; lets a function recognise its own calls in CloudTrail.
    function_name: Annotated[str, _env("AWS_LAMBDA_FUNCTION_NAME", _text)] = ""
    dry_run: Annotated[bool, _env("DRY_RUN", _boolean)] = False
    opt_in_tag_key: Annotated[str, _env("OPT_IN_TAG_KEY", _text)] = "msk-autopilot:managed"
    notification_topic_arn: Annotated[str, _env("NOTIFICATION_TOPIC_ARN", _arn("sns"))]
    retry_mode: Annotated[RetryMode, _env("RETRY_MODE", _choice("standard", "adaptive"))] = (
        "standard"
    )
    max_attempts: Annotated[int, _env("RETRY_MAX_ATTEMPTS", _integer(1, 20))] = 5
    tracing_enabled: Annotated[bool, _env("TRACING_ENABLED", _boolean)] = False


class StorageScalerSettings(CommonSettings, frozen=True, kw_only=True):
    idempotency_table: Annotated[str, _env("IDEMPOTENCY_TABLE_NAME", _text)]
    # The disk alarms' threshold (the health monitor keeps them): the scaler's trigger.
    alarm_threshold_percent: Annotated[
        float, _env("DISK_ALARM_THRESHOLD_PERCENT", _number(10, 95))
    ] = 75.0
    target_percent: Annotated[float, _env("STORAGE_TARGET_PERCENT", _number(10, 90))] = 60.0
    cooldown_hours: Annotated[float, _env("STORAGE_COOLDOWN_HOURS", _number(6, 72))] = 6.0
    max_volume_gib: Annotated[int, _env("STORAGE_MAX_VOLUME_GIB", _integer(10, 16384))] = 16384
    scale_throughput: Annotated[bool, _env("STORAGE_SCALE_THROUGHPUT", _boolean)] = False
    # Prices for the monthly cost change a growth's notice carries.
    prices: Annotated[PriceTable, _env("PRICING_FILE", _price_table)] = msgspec.field(
        default_factory=PriceTable.built_in
    )

    def __post_init__(self) -> None:
        # The sizing policy grows storage to the target; an alarm at or below it would fire again
        # right after every step.
        if self.target_percent >= self.alarm_threshold_percent:
            target, threshold = _variables(self, "target_percent", "alarm_threshold_percent")
            raise SettingsError(
                [
                    f"{target} ({self.target_percent:g}) must be below "
                    f"{threshold} ({self.alarm_threshold_percent:g})"
                ]
            )


class BrokerScalerSettings(CommonSettings, frozen=True, kw_only=True):
    """The broker scaler: the broker policy's thresholds, cool-downs and the scale-out opt-in."""

    # The per-cluster lease and the notices of recommendations sent once a day.
    idempotency_table: Annotated[str, _env("IDEMPOTENCY_TABLE_NAME", _text)]
    # The health monitor's CPU alarm threshold: the alarm wakes the scaler where the policy acts.
    cpu_threshold_percent: Annotated[
        float, _env("BROKER_CPU_THRESHOLD_PERCENT", _number(1, 100))
    ] = 60.0
    express_out_percent: Annotated[float, _env("BROKER_EXPRESS_OUT_PERCENT", _number(1, 100))] = (
        80.0
    )
    quiet_days: Annotated[float, _env("BROKER_QUIET_DAYS", _number(1, 14))] = 14.0
    quiet_cpu_percent: Annotated[float, _env("BROKER_QUIET_CPU_PERCENT", _number(1, 99))] = 30.0
    quiet_throughput_percent: Annotated[
        float, _env("BROKER_QUIET_THROUGHPUT_PERCENT", _number(1, 99))
    ] = 30.0
    # Hours after the last size or count change before an action of each kind.
    larger_cooldown_hours: Annotated[
        float, _env("BROKER_LARGER_COOLDOWN_HOURS", _number(0, 336))
    ] = 6.0
    smaller_cooldown_hours: Annotated[
        float, _env("BROKER_SMALLER_COOLDOWN_HOURS", _number(0, 336))
    ] = 24.0
    count_up_cooldown_hours: Annotated[
        float, _env("BROKER_COUNT_UP_COOLDOWN_HOURS", _number(0, 336))
    ] = 6.0
    count_down_cooldown_hours: Annotated[
        float, _env("BROKER_COUNT_DOWN_COOLDOWN_HOURS", _number(0, 336))
    ] = 24.0
    # Standard clusters tagged <key>=true get brokers added, not only recommended.
    scale_out_tag_key: Annotated[str, _env("BROKER_SCALE_OUT_TAG_KEY", _text)] = (
        "msk-autopilot:broker-scale-out"
    )
    # Prices for the monthly cost change every decision's notice carries.
    prices: Annotated[PriceTable, _env("PRICING_FILE", _price_table)] = msgspec.field(
        default_factory=PriceTable.built_in
    )

    def __post_init__(self) -> None:
        try:
            self.policy()
        except ValueError as error:
            raise SettingsError([f"broker policy: {error}"]) from None

    def policy(self) -> BrokerPolicySettings:
        return BrokerPolicySettings(
            cpu_threshold_percent=self.cpu_threshold_percent,
            quiet_days=self.quiet_days,
            quiet_cpu_percent=self.quiet_cpu_percent,
            quiet_throughput_percent=self.quiet_throughput_percent,
            express_out_percent=self.express_out_percent,
        )


class HealthMonitorSettings(CommonSettings, frozen=True, kw_only=True):
    """The health monitor: the names it owns and the thresholds of the alarms it keeps."""

    # Notices of maintenance muting already sent are remembered in this table.
    idempotency_table: Annotated[str, _env("IDEMPOTENCY_TABLE_NAME", _text)]
    # Alarms, dashboards, metric filters and query definitions are named under this prefix.
    name_prefix: Annotated[str, _env("HEALTH_NAME_PREFIX", _text)] = "msk-autopilot-health-"
    disk_alarm_prefix: Annotated[str, _env("DISK_ALARM_PREFIX", _text)] = "msk-autopilot-disk-"
    disk_alarm_threshold_percent: Annotated[
        float, _env("DISK_ALARM_THRESHOLD_PERCENT", _number(10, 95))
    ] = 75.0
    disk_alarm_evaluation_periods: Annotated[
        int, _env("DISK_ALARM_EVALUATION_PERIODS", _integer(1, 12))
    ] = 1
    cpu_alarm_percent: Annotated[float, _env("CPU_ALARM_PERCENT", _number(1, 100))] = 60.0
    disk_backstop_percent: Annotated[
        float, _env("DISK_BACKSTOP_ALARM_PERCENT", _number(10, 100))
    ] = 85.0
    heap_alarm_percent: Annotated[float, _env("HEAP_ALARM_PERCENT", _number(1, 100))] = 60.0
    connection_alarm_count: Annotated[int, _env("CONNECTION_ALARM_COUNT", _integer(1, 3000))] = 2700
    express_throughput_percent: Annotated[
        float, _env("EXPRESS_THROUGHPUT_ALARM_PERCENT", _number(1, 100))
    ] = 80.0

    def __post_init__(self) -> None:
        # The backstop alarms after the scaler's trigger failed to keep up; at or below the
        # trigger it would fire on every ordinary growth.
        if self.disk_backstop_percent <= self.disk_alarm_threshold_percent:
            backstop, trigger = _variables(
                self, "disk_backstop_percent", "disk_alarm_threshold_percent"
            )
            raise SettingsError(
                [
                    f"{backstop} ({self.disk_backstop_percent:g}) must be above "
                    f"{trigger} ({self.disk_alarm_threshold_percent:g})"
                ]
            )


class ConfigRotatorSettings(CommonSettings, frozen=True, kw_only=True):
    """The configuration rotator: where desired configurations live and what drift does."""

    # Notices already sent (see msk_autopilot.config.notices) are remembered in this table.
    idempotency_table: Annotated[str, _env("IDEMPOTENCY_TABLE_NAME", _text)]
    parameter_prefix: Annotated[str, _env("CONFIG_PARAMETER_PREFIX", _parameter_path)] = (
        "/msk-autopilot/configurations/"
    )
    configuration_tag_key: Annotated[str, _env("CONFIG_TAG_KEY", _text)] = (
        "msk-autopilot:configuration"
    )
    drift_action: Annotated[
        Literal["repair", "report"], _env("CONFIG_DRIFT_ACTION", _choice("repair", "report"))
    ] = "repair"


class VersionUpgraderSettings(CommonSettings, frozen=True, kw_only=True):
    """The version upgrader: the rollout's pace and the version catalogue."""

    # The run lease and notices sent once live in this table.
    idempotency_table: Annotated[str, _env("IDEMPOTENCY_TABLE_NAME", _text)]
    soak_hours: Annotated[float, _env("VERSION_SOAK_HOURS", _number(0, 168))] = 6.0
    deadline_margin_days: Annotated[int, _env("VERSION_DEADLINE_MARGIN_DAYS", _integer(1, 365))] = (
        30
    )
    max_concurrent: Annotated[int, _env("VERSION_MAX_CONCURRENT", _integer(1, 10))] = 1
    catalogue: Annotated[Catalogue, _env("VERSION_CATALOGUE_OVERRIDE", _catalogue)] = msgspec.field(
        default_factory=Catalogue.built_in
    )


class ScramRotatorSettings(CommonSettings, frozen=True, kw_only=True):
    """The SCRAM rotator: how testSecret checks credentials against the brokers."""

    # Health-gate deferral notices already sent (msk_autopilot.health.gatekeeper).
    idempotency_table: Annotated[str, _env("IDEMPOTENCY_TABLE_NAME", _text)]
    authenticator: Annotated[str, _env("SCRAM_AUTHENTICATOR", _module_function)] = (
        "msk_autopilot.scram.handshake:authenticate"
    )


class SecurityAuditorSettings(CommonSettings, frozen=True, kw_only=True):
    """The security auditor: where it audits, what it may fix, where its report goes."""

    # The controls msk_autopilot.audit.remediate can fix in place (a test keeps them equal).
    REMEDIABLE_CONTROLS = ("MSK.2", "MSK.4", "AUTOPILOT.1", "AUTOPILOT.3")

    # Health-gate deferral notices already sent (msk_autopilot.health.gatekeeper).
    idempotency_table: Annotated[str, _env("IDEMPOTENCY_TABLE_NAME", _text)]
    audit_regions: Annotated[tuple[str, ...], _env("AUDIT_REGIONS", _names)] = ()
    member_accounts: Annotated[tuple[str, ...], _env("MEMBER_ACCOUNT_IDS", _account_ids)] = ()
    member_role_name: Annotated[str, _env("MEMBER_ROLE_NAME", _text)] = "msk-autopilot-audit"
    report_bucket: Annotated[str, _env("REPORT_BUCKET", _text)]
    remediate_controls: Annotated[tuple[str, ...], _env("REMEDIATE_CONTROLS", _remediable)] = ()
    broker_log_group: Annotated[str, _env("BROKER_LOG_GROUP", _text)] = ""

    def __post_init__(self) -> None:
        if "AUTOPILOT.3" in self.remediate_controls and not self.broker_log_group:
            raise SettingsError(
                ["BROKER_LOG_GROUP is required when REMEDIATE_CONTROLS has AUTOPILOT.3"]
            )


class RecordConsumerSettings(CommonSettings, frozen=True, kw_only=True):
    """The MSK record consumer: how keys and values are decoded and where records go."""

    value_format: Annotated[PayloadFormat, _env("VALUE_FORMAT", _choice(*PAYLOAD_FORMATS))] = "raw"
    value_schema: Annotated[Path | None, _env("VALUE_SCHEMA", _schema_file)] = None
    key_format: Annotated[PayloadFormat, _env("KEY_FORMAT", _choice(*PAYLOAD_FORMATS))] = "raw"
    key_schema: Annotated[Path | None, _env("KEY_SCHEMA", _schema_file)] = None
    schema_registry_url: Annotated[str, _env("SCHEMA_REGISTRY_URL", _http_url)] = ""
    # Kafka's default message.max.bytes; a larger key or value is quarantined, not decoded.
    max_value_bytes: Annotated[int, _env("MAX_VALUE_BYTES", _integer(1, 6 * 1024 * 1024))] = (
        1_048_576
    )
    sink: Annotated[
        Literal["s3", "eventbridge", "discard"],
        _env("SINK", _choice("s3", "eventbridge", "discard")),
    ] = "s3"
    archive_bucket: Annotated[str, _env("ARCHIVE_BUCKET", _text)] = ""
    event_bus_name: Annotated[str, _env("EVENT_BUS_NAME", _text)] = ""
    failure_bucket: Annotated[str, _env("FAILURE_BUCKET", _text)]
    record_hook: Annotated[str, _env("RECORD_HOOK", _module_function)] = ""

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
            # A registry's JSON Schema or Protobuf schema is the one that applies; a registry's
            # Avro schema is the writer's, which a schema file can resolve into its own.
            if schema is not None and not (
                payload_format in ("json", "avro") or payload_format.endswith("-avro")
            ):
                problems.append(f"{part}_SCHEMA applies only to {part}_FORMAT=json, avro or *-avro")
            if payload_format == "avro" and schema is None:
                problems.append(f"{part}_FORMAT=avro needs {part}_SCHEMA")
            if payload_format.startswith("confluent-") and not self.schema_registry_url:
                problems.append(f"{part}_FORMAT={payload_format} needs SCHEMA_REGISTRY_URL")
        if problems:
            raise SettingsError(problems)


def _source(spec: msgspec.structs.FieldInfo) -> tuple[str, Callable[[str], Any]]:
    """The variable a setting is read from and how it is parsed, from its annotation."""
    for meta in get_args(spec.type)[1:]:
        if isinstance(meta, msgspec.Meta) and meta.extra:
            return cast(str, meta.extra["env"]), cast(Callable[[str], Any], meta.extra["parse"])
    raise TypeError(f"setting {spec.name} names no environment variable")


def _variables(settings: CommonSettings, *fields: str) -> list[str]:
    """The environment variables `fields` of `settings` are read from, for messages."""
    specs = {spec.name: spec for spec in msgspec.structs.fields(settings)}
    return [_source(specs[field])[0] for field in fields]


def load[S: CommonSettings](settings_type: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Read `settings_type` from the environment, reporting every bad variable at once."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for spec in msgspec.structs.fields(settings_type):
        name, parse = _source(spec)
        required = spec.required
        raw = env.get(name)
        if raw is None or (not raw.strip() and not required):
            if required:
                problems.append(f"{name} is required")
            continue
        try:
            values[spec.name] = parse(raw)
        except ValueError as error:
            problems.append(f"{name}={raw!r} {error}")
    if problems:
        raise SettingsError(problems)
    return settings_type(**values)
