"""Storage sizing policy: whether to grow a cluster's broker volumes now, and to what size.

Pure: no AWS calls, no clock, no I/O; msgspec and the core's `Severity` only. The storage scaler
feeds it what it read (one GetMetricData call per cluster, the cluster's size, its last storage
operation) and acts on the returned `StorageDecision`; `msk-autopilot simulate` runs the very
same `decide`.

Why not MSK's own auto scaling: it adds max(10 GiB, 10 %) once utilization reaches its target and
may act only once per cool-down (at least 6 h), so a fast writer fills the disk between two steps.
This policy sizes each step for the growth expected until the *next* step can take effect:

1. Per broker, the KafkaDataLogsDiskUsed samples taken at the current size (since `resized_at`,
   within the look-back) are converted to GiB. Growth in GiB/h is the Theil-Sen slope (median of
   all pairwise slopes, robust to spikes and noise) over the look-back and over the last
   `burst_window_hours`, whichever is larger, so a burst shows within the hour; clipped at 0.
2. Horizon: the cool-down a change made now would start (longer after a slow previous operation)
   plus a safety margin for the operation's own run time, the scaler's schedule and the next
   operation.
3. Each broker is forecast at the horizon from its latest sample, but never above what retention
   lets it hold (`retention_bound_gib`: ingest over the retention period) when the caller knows
   it. All brokers share one size, so the broker with the highest forecast drives the decision.
4. Grow only when waiting is no longer safe: when the forecast at the *reaction* horizon (the
   scaler's next run and an operation's run time, `reaction_hours`, plus the margin) exceeds
   `grow_at_percent`. Storage never shrinks, so every GiB added early is paid for as long as the
   cluster lives, and a burst that ends before the disk needs more costs nothing. Then grow to
   the smallest whole size that keeps the forecast at the (cool-down) horizon at the target, by
   at least max(10 GiB, `min_step_percent`) because every change locks storage for a cool-down,
   and never above the cap (`max_gib`, at most 16384 GiB). When the target cannot be met within
   the cap the decision is CRITICAL and says what to do instead; near the cap it names tiered
   storage and whether the cluster can use it.

Guards (cluster ACTIVE, no operation in flight) belong to the caller; a cool-down still running is
an input (`hours_until_change_allowed`) so the decision can warn when the disk would fill first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from msk_autopilot.outcome import Severity

__all__ = [
    "MAX_VOLUME_GIB",
    "MIN_STEP_GIB",
    "NEAR_CAP_GIB",
    "BrokerForecast",
    "PolicySettings",
    "StorageAction",
    "StorageDecision",
    "StorageObservation",
    "UsageSample",
    "decide",
    "max_throughput_mibps",
    "theil_sen_slope",
    "tiered_storage_refusal",
]

MAX_VOLUME_GIB = 16384  # per broker (UpdateBrokerStorage)
MIN_STEP_GIB = 10  # "you must increase it by at least 10 GiB"
MIN_COOLDOWN_HOURS = 6.0  # MSK's cool-down after any storage change is at least this long
SLOPE_POINTS = 20  # the most points a slope is estimated from
NEAR_CAP_GIB = MAX_VOLUME_GIB * 3 // 4  # from here on, decisions name tiered storage

# Provisioned storage throughput: supported broker types and their maximum MiB/s
# (msk-provision-throughput.html). Other types cannot provision throughput.
_MAX_THROUGHPUT_MIBPS: Mapping[str, float] = {
    "kafka.m5.4xlarge": 593,
    "kafka.m5.8xlarge": 850,
    "kafka.m5.12xlarge": 1000,
    "kafka.m5.16xlarge": 1000,
    "kafka.m5.24xlarge": 1000,
    "kafka.m7g.2xlarge": 312.5,
    "kafka.m7g.4xlarge": 625,
    "kafka.m7g.8xlarge": 1000,
    "kafka.m7g.12xlarge": 1000,
    "kafka.m7g.16xlarge": 1000,
}

CAP_ADVICE = (
    "add brokers and reassign partitions, enable tiered storage, "
    "or shorten retention (retention.ms / retention.bytes) on the largest topics"
)


class StorageAction(StrEnum):
    GROW = "grow"  # new_gib > current_gib and keeps the forecast at or under the target
    HOLD = "hold"  # no change: none needed, or none allowed yet (cool-down)
    CAP_REACHED = "cap_reached"  # the target needs more than the cap; new_gib is the most allowed


_SEVERITY_ORDER = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)


def _worst(*severities: Severity) -> Severity:
    return max(severities, key=_SEVERITY_ORDER.index)


class UsageSample(msgspec.Struct, frozen=True):
    """One KafkaDataLogsDiskUsed datapoint of one broker."""

    at: datetime
    used_percent: float


class StorageObservation(msgspec.Struct, frozen=True, kw_only=True):
    """What the scaler knows about one cluster when it asks for a decision."""

    now: datetime
    volume_gib: int  # current EBS volume size per broker
    broker_count: int  # brokers in the cluster, to notice brokers without samples
    usage: Mapping[str, Sequence[UsageSample]]  # broker id -> samples, any order
    instance_type: str  # e.g. "kafka.m5.4xlarge"
    # When the current size took effect (end of the last storage operation): earlier samples are
    # percentages of the old size and are ignored. None: unchanged for longer than the look-back.
    resized_at: datetime | None = None
    hours_until_change_allowed: float = 0.0  # cool-down still running, 0 when a change is allowed
    previous_operation_hours: float | None = None  # run time of the last storage operation
    provisioned_throughput_mibps: int | None = None  # None: provisioned throughput is off
    # The most any broker's data logs can hold: its ingest rate times the retention period (the
    # highest broker). None: unknown, or retention is unlimited.
    retention_bound_gib: float | None = None
    storage_mode: str = "LOCAL"  # LOCAL or TIERED
    kafka_version: str | None = None

    def __post_init__(self) -> None:
        if self.volume_gib < 1:
            raise ValueError(f"volume_gib must be at least 1, got {self.volume_gib}")
        if self.broker_count < 1:
            raise ValueError(f"broker_count must be at least 1, got {self.broker_count}")
        if self.hours_until_change_allowed < 0:
            raise ValueError("hours_until_change_allowed must not be negative")


class PolicySettings(msgspec.Struct, frozen=True, kw_only=True):
    target_percent: float = 60.0  # a step sizes the volume for this utilization at the horizon
    # Grow when the forecast at the reaction horizon exceeds this (at least the target): the
    # trade-off between GiB-hours and headroom, chosen on the simulator's sweep (see the README).
    grow_at_percent: float = 75.0
    reaction_hours: float = 1.0  # the scaler's next run (15 min) + an operation's run time
    # The scaler's CloudWatch alarm threshold (crossing it invokes the scaler off schedule). A
    # broker already at or above it when the policy grows storage makes the decision a WARNING.
    trigger_percent: float = 85.0
    cooldown_hours: float = 6.0  # expected cool-down after a storage change
    slow_operation_hours: float = 1.0  # a previous operation longer than this was slow...
    slow_operation_cooldown_hours: float = 24.0  # ...and MSK's next cool-down can then be this long
    safety_margin_hours: float = 2.0  # operation run time + schedule + next operation + slack
    look_back_hours: float = 6.0
    burst_window_hours: float = 1.0  # recent window whose growth rate wins when larger
    min_step_percent: float = 10.0  # of the current size; keeps steps as rare as MSK's own
    max_gib: int = MAX_VOLUME_GIB
    scale_throughput: bool = False  # raise provisioned throughput in proportion to size

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.target_percent < 100:
            problems.append(f"target_percent must be between 0 and 100, got {self.target_percent}")
        if not self.target_percent <= self.grow_at_percent <= self.trigger_percent:
            problems.append(
                f"grow_at_percent ({self.grow_at_percent:g}) must be at least target_percent "
                f"({self.target_percent:g}) and at most trigger_percent ({self.trigger_percent:g})"
            )
        if not self.target_percent < self.trigger_percent <= 100:
            problems.append(
                f"target_percent ({self.target_percent:g}) must be below trigger_percent "
                f"({self.trigger_percent:g}), itself at most 100"
            )
        if self.cooldown_hours < MIN_COOLDOWN_HOURS:
            problems.append(
                f"cooldown_hours must be at least {MIN_COOLDOWN_HOURS:g} (MSK's minimum), "
                f"got {self.cooldown_hours}"
            )
        if self.slow_operation_hours <= 0 or self.slow_operation_cooldown_hours <= 0:
            problems.append("slow_operation_hours and slow_operation_cooldown_hours must be > 0")
        if self.reaction_hours <= 0:
            problems.append("reaction_hours must be > 0")
        if self.safety_margin_hours < 0 or self.min_step_percent < 0:
            problems.append("safety_margin_hours and min_step_percent must not be negative")
        if not 0 < self.burst_window_hours <= self.look_back_hours:
            problems.append("burst_window_hours must be > 0 and at most look_back_hours")
        if not MIN_STEP_GIB <= self.max_gib <= MAX_VOLUME_GIB:
            problems.append(
                f"max_gib must be between {MIN_STEP_GIB} and {MAX_VOLUME_GIB}, got {self.max_gib}"
            )
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def reaction_horizon_hours(self) -> float:
        """How far ahead holding now must stay safe: a later run can still grow the volume."""
        return self.reaction_hours + self.safety_margin_hours

    def planned_cooldown_hours(self, previous_operation_hours: float | None) -> float:
        """The cool-down to plan for after the next change."""
        if previous_operation_hours is not None and (
            previous_operation_hours > self.slow_operation_hours
        ):
            return max(self.cooldown_hours, self.slow_operation_cooldown_hours)
        return self.cooldown_hours


class BrokerForecast(msgspec.Struct, frozen=True):
    """The inputs the decision used for one broker."""

    broker_id: str
    samples: int  # samples used: at the current size and within the look-back
    used_percent: float  # latest sample
    growth_gib_per_hour: float | None  # None: fewer than two samples at the current size
    # How fast growth itself grows (a ramp), 0 unless it does: a linear forecast over a 24-hour
    # cool-down misses a ramp by half the acceleration times the horizon squared.
    acceleration_gib_per_hour_squared: float
    forecast_used_gib: float  # at the horizon
    forecast_percent: float  # at the horizon, at the current size
    reaction_percent: float  # at the reaction horizon, at the current size
    retention_bounded: bool = False  # the forecast is the retention bound, not the trend


class StorageDecision(msgspec.Struct, frozen=True, kw_only=True):
    action: StorageAction
    severity: Severity
    reason: str
    current_gib: int
    new_gib: int  # equals current_gib unless the volumes should grow
    target_percent: float
    horizon_hours: float
    driving_broker: BrokerForecast | None  # highest forecast; None without any samples
    brokers: tuple[BrokerForecast, ...] = ()
    cooldown_hours: float  # the cool-down planned for after a change (part of the horizon)
    current_throughput_mibps: int | None = None
    new_throughput_mibps: int | None = None  # None: leave throughput as it is

    @property
    def resizes(self) -> bool:
        """Whether the caller should call UpdateBrokerStorage with `new_gib`."""
        return self.new_gib > self.current_gib

    @property
    def new_forecast_percent(self) -> float | None:
        """The driving broker's forecast utilization at the horizon, at the new size."""
        if self.driving_broker is None:
            return None
        return 100.0 * self.driving_broker.forecast_used_gib / self.new_gib

    def to_dict(self) -> dict[str, Any]:
        driving = self.driving_broker
        return {
            "action": self.action.value,
            "severity": self.severity.value,
            "reason": self.reason,
            "current_gib": self.current_gib,
            "new_gib": self.new_gib,
            "target_percent": self.target_percent,
            "horizon_hours": self.horizon_hours,
            "cooldown_hours": self.cooldown_hours,
            "driving_broker": driving.broker_id if driving else None,
            "growth_gib_per_hour": driving.growth_gib_per_hour if driving else None,
            "forecast_percent": driving.forecast_percent if driving else None,
            "new_forecast_percent": self.new_forecast_percent,
            "current_throughput_mibps": self.current_throughput_mibps,
            "new_throughput_mibps": self.new_throughput_mibps,
            "brokers": [msgspec.structs.asdict(broker) for broker in self.brokers],
        }


def theil_sen_slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Median of the slopes between every pair of (x, y) points with distinct x.

    Up to about 29 % of the points can be arbitrary outliers without moving the result much.
    None when no two points have distinct x. Quadratic, so more than `SLOPE_POINTS` points are
    thinned evenly (the latest kept): the scaler decides for every broker every 15 minutes, and
    the simulator replays thousands of such decisions per trace.
    """
    ordered = sorted(points)
    stride = math.ceil(len(ordered) / SLOPE_POINTS)
    if stride > 1:
        ordered = ordered[::-1][::stride][::-1]
    slopes = sorted(
        (y2 - y1) / (x2 - x1)
        for index, (x1, y1) in enumerate(ordered)
        for x2, y2 in ordered[index + 1 :]
        if x2 != x1
    )
    if not slopes:
        return None
    middle = len(slopes) // 2
    # statistics.median would cost a few milliseconds of cold-start imports (fractions, decimal).
    return slopes[middle] if len(slopes) % 2 else (slopes[middle - 1] + slopes[middle]) / 2


def tiered_storage_refusal(kafka_version: str | None, instance_type: str) -> str | None:
    """Why a Standard cluster cannot use tiered storage as it is; None when it can.

    MSK supports tiered storage from Apache Kafka 3.6.0 (and on 2.8.2.tiered), not on
    kafka.t3.small brokers (msk-tiered-storage.html, msk-enable-cluster-tiered-storage-cli.html).
    """
    if instance_type == "kafka.t3.small":
        return "tiered storage is not available on kafka.t3.small brokers"
    if kafka_version is None:
        return "the Kafka version is unknown"
    if kafka_version == "2.8.2.tiered":
        return None
    numbers = []
    for part in kafka_version.split(".")[:3]:
        if not part.isdigit():
            break
        numbers.append(int(part))
    if tuple(numbers) < (3, 6, 0):
        return f"Kafka {kafka_version} cannot use it: upgrade to 3.6.0 or later first"
    return None


def max_throughput_mibps(instance_type: str) -> float | None:
    """Highest provisioned storage throughput of a broker type; None if it cannot provision."""
    return _MAX_THROUGHPUT_MIBPS.get(instance_type)


def decide(
    observation: StorageObservation, settings: PolicySettings | None = None
) -> StorageDecision:
    """Decide whether and how far to grow the cluster's broker volumes."""
    settings = settings or PolicySettings()
    current = observation.volume_gib
    target = settings.target_percent
    cooldown = settings.planned_cooldown_hours(observation.previous_operation_hours)
    waiting = observation.hours_until_change_allowed > 0
    # While a cool-down runs, look as far as the first change that could still land.
    horizon = (
        observation.hours_until_change_allowed if waiting else cooldown
    ) + settings.safety_margin_hours
    forecasts = _forecast_brokers(observation, settings, horizon)
    driving = max(forecasts, key=lambda broker: broker.forecast_used_gib, default=None)
    notes = _data_gaps(observation, forecasts)

    def decision(
        action: StorageAction, severity: Severity, reason: str, new_gib: int = current
    ) -> StorageDecision:
        throughput = _scaled_throughput(observation, settings, new_gib)
        if throughput is not None:
            reason += (
                f"; provisioned throughput {observation.provisioned_throughput_mibps} -> "
                f"{throughput} MiB/s (in proportion to size, within the "
                f"{observation.instance_type} maximum)"
            )
        tiered = _tiered_storage_note(observation, new_gib)
        attention = [*notes, tiered] if tiered else notes
        return StorageDecision(
            action=action,
            severity=_worst(severity, Severity.WARNING) if attention else severity,
            reason="; ".join([reason, *attention]),
            current_gib=current,
            new_gib=new_gib,
            target_percent=target,
            horizon_hours=horizon,
            cooldown_hours=cooldown,
            driving_broker=driving,
            brokers=forecasts,
            current_throughput_mibps=observation.provisioned_throughput_mibps,
            new_throughput_mibps=throughput,
        )

    if driving is None:
        return decision(
            StorageAction.HOLD,
            Severity.WARNING,
            f"no KafkaDataLogsDiskUsed samples at the current size in the last "
            f"{settings.look_back_hours:g} h: cannot size storage",
        )
    outlook = (
        f"broker {driving.broker_id} at {driving.used_percent:.1f} % of {current} GiB, "
        f"growing {driving.growth_gib_per_hour or 0.0:.2f} GiB/h"
        f"{_accelerating(driving.acceleration_gib_per_hour_squared)}, "
        f"forecast {driving.forecast_percent:.1f} % in {horizon:.1f} h"
    )
    if driving.retention_bounded:
        outlook += (
            f" (no more than retention lets it hold: {observation.retention_bound_gib:.0f} GiB)"
        )

    if waiting:
        reason = (
            f"no storage change allowed for {observation.hours_until_change_allowed:.1f} h "
            f"(cool-down); {outlook}"
        )
        if driving.forecast_percent >= 100:
            return decision(
                StorageAction.HOLD,
                Severity.CRITICAL,
                f"{reason}: the disk fills before storage can grow; act now: {CAP_ADVICE}",
            )
        severity = (
            Severity.WARNING
            if driving.forecast_percent >= settings.trigger_percent
            else Severity.INFO
        )
        return decision(StorageAction.HOLD, severity, reason)

    soon = max(broker.reaction_percent for broker in forecasts)
    if soon <= settings.grow_at_percent:
        return decision(
            StorageAction.HOLD,
            Severity.INFO,
            f"{outlook}; {soon:.1f} % in {settings.reaction_horizon_hours:g} h, when a later "
            f"run could still grow it: within the {settings.grow_at_percent:g} % at which it grows",
        )

    limit = min(settings.max_gib, MAX_VOLUME_GIB)
    # Smallest whole size holding the forecast at the target (the epsilon absorbs float noise).
    needed = math.ceil(driving.forecast_used_gib * 100 / target - 1e-9)
    smallest_step = max(MIN_STEP_GIB, math.ceil(current * settings.min_step_percent / 100))
    new_gib = min(max(needed, current + smallest_step), limit)
    if new_gib < current + MIN_STEP_GIB:
        new_gib = current  # no room left under the cap for the 10 GiB minimum step
    at_new = 100.0 * driving.forecast_used_gib / new_gib
    outlook += f" (cool-down {cooldown:.1f} h + margin {settings.safety_margin_hours:g} h)"

    if needed > limit or new_gib == current:
        change = (
            f"growing to {new_gib} GiB, the most allowed, leaves it at {at_new:.1f} %"
            if new_gib > current
            else f"no step of at least {MIN_STEP_GIB} GiB fits under the cap"
        )
        return decision(
            StorageAction.CAP_REACHED,
            Severity.CRITICAL,
            f"{outlook}; the {target:g} % target needs {needed} GiB per broker, above the "
            f"{limit} GiB cap; {change}. Act instead: {CAP_ADVICE}",
            new_gib,
        )

    reason = f"{outlook}; growing to {new_gib} GiB holds it at {at_new:.1f} % (target {target:g} %)"
    if new_gib > needed:
        reason += f"; a step is at least max({MIN_STEP_GIB} GiB, {settings.min_step_percent:g} %)"
    urgent = [b.broker_id for b in forecasts if b.used_percent >= settings.trigger_percent]
    if urgent:
        reason += (
            f"; broker(s) {', '.join(urgent)} already at or above the "
            f"{settings.trigger_percent:g} % alarm threshold"
        )
    return decision(
        StorageAction.GROW, Severity.WARNING if urgent else Severity.INFO, reason, new_gib
    )


def _forecast_brokers(
    observation: StorageObservation, settings: PolicySettings, horizon: float
) -> tuple[BrokerForecast, ...]:
    now = observation.now
    cutoff = now - timedelta(hours=settings.look_back_hours)
    if observation.resized_at is not None:
        cutoff = max(cutoff, observation.resized_at)
    gib_per_percent = observation.volume_gib / 100.0
    forecasts = []
    for broker_id, samples in sorted(observation.usage.items()):
        # (hours relative to now, used GiB) at the current size, oldest first.
        points = sorted(
            ((sample.at - now).total_seconds() / 3600, sample.used_percent * gib_per_percent)
            for sample in samples
            if sample.at >= cutoff
        )
        if not points:
            continue
        latest_hours, latest_gib = points[-1]
        slopes = [
            theil_sen_slope(points),
            theil_sen_slope([p for p in points if p[0] >= -settings.burst_window_hours]),
        ]
        known = [slope for slope in slopes if slope is not None]
        growth = max(0.0, *known) if known else None
        acceleration = _acceleration(points)
        # The latest sample may be minutes old: forecast from its time, not from now.
        # Acceleration sizes a step for a ramp over the cool-down; it does not trigger one, since
        # over the reaction horizon a jump in ingest (a burst that may end) would look like it.
        ahead = horizon - latest_hours
        forecast_gib = latest_gib + (growth or 0.0) * ahead + acceleration * ahead**2 / 2
        reaction_gib = latest_gib + (growth or 0.0) * (
            settings.reaction_horizon_hours - latest_hours
        )
        # Retention deletes what is older than the retention period, so at the current ingest
        # usage cannot pass ingest times retention (nor fall below what is already there).
        ceiling = max(observation.retention_bound_gib or math.inf, latest_gib)
        bounded = forecast_gib > ceiling
        forecast_gib = min(forecast_gib, ceiling)
        reaction_gib = min(reaction_gib, ceiling)
        forecasts.append(
            BrokerForecast(
                broker_id=broker_id,
                samples=len(points),
                used_percent=latest_gib / gib_per_percent,
                growth_gib_per_hour=growth,
                acceleration_gib_per_hour_squared=acceleration,
                forecast_used_gib=forecast_gib,
                forecast_percent=forecast_gib / gib_per_percent,
                reaction_percent=reaction_gib / gib_per_percent,
                retention_bounded=bounded,
            )
        )
    return tuple(forecasts)


def _accelerating(acceleration: float) -> str:
    return f" (+{acceleration:.2f} GiB/h each hour)" if acceleration > 0 else ""


def _acceleration(points: Sequence[tuple[float, float]]) -> float:
    """Growth of the newer half of `points` over the older half's, per hour; 0 when not rising."""
    middle = (points[0][0] + points[-1][0]) / 2
    older = theil_sen_slope([p for p in points if p[0] < middle])
    newer = theil_sen_slope([p for p in points if p[0] >= middle])
    if older is None or newer is None:
        return 0.0
    return max(0.0, (newer - older) / (middle - points[0][0]))


def _data_gaps(observation: StorageObservation, forecasts: Sequence[BrokerForecast]) -> list[str]:
    notes = []
    if forecasts and len(forecasts) < observation.broker_count:
        notes.append(
            f"only {len(forecasts)} of {observation.broker_count} brokers reported disk usage"
        )
    unknown = [b.broker_id for b in forecasts if b.growth_gib_per_hour is None]
    if unknown:
        notes.append(
            f"growth unknown (fewer than two samples at the current size) for broker(s) "
            f"{', '.join(unknown)}"
        )
    return notes


def _tiered_storage_note(observation: StorageObservation, new_gib: int) -> str | None:
    """Near the 16 TiB cap, what tiered storage would take, unless the cluster already has it."""
    if new_gib < NEAR_CAP_GIB or observation.storage_mode == "TIERED":
        return None
    note = f"{new_gib} GiB per broker nears the {MAX_VOLUME_GIB} GiB cap and tiered storage is off"
    refusal = tiered_storage_refusal(observation.kafka_version, observation.instance_type)
    if refusal is None:
        return (
            f"{note}: this cluster supports it (UpdateStorage StorageMode=TIERED, with "
            "log.cleanup.policy=delete), which moves older segments off the broker volumes"
        )
    return f"{note}, and {refusal}"


def _scaled_throughput(
    observation: StorageObservation, settings: PolicySettings, new_gib: int
) -> int | None:
    """Provisioned throughput raised with size, within the broker type's maximum."""
    current = observation.provisioned_throughput_mibps
    maximum = max_throughput_mibps(observation.instance_type)
    if not settings.scale_throughput or current is None or maximum is None:
        return None
    # VolumeThroughput is a whole number of MiB/s, so 312.5 rounds down to 312.
    proposed = min(math.floor(maximum), current * new_gib // observation.volume_gib)
    return proposed if proposed > current else None
