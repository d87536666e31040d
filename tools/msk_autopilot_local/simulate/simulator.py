"""Replaying a disk-usage trace through a storage scaling policy (`msk-autopilot simulate`).

A trace is a CSV file (full specification in `msk_autopilot_local.simulate.trace`): header lines
`# volume_gib: N`, `# duration_hours: H` and optionally `# history_hours: H`, then rows
`hour,retention_hours,broker_<id>,...` giving, from that hour on, the retention and the GiB per
hour written to each broker. The simulator derives disk usage minute by minute: the data written
during the last retention window, at most the volume size (a full disk refuses writes). Both
policies live in the same world:

- a storage change runs for 30 minutes, then the new size is available;
- after it completes, a cool-down (6 h unless `--cooldown-hours`) allows no further change;
- volumes never shrink and never exceed 16384 GiB.

Policies:

- `autopilot`: the real `msk_autopilot.storage.policy.decide`, called the way the storage scaler
  is: every 15 minutes and whenever the highest broker utilization crosses the alarm
  threshold (`PolicySettings.trigger_percent`) upwards, skipped while an operation runs or the
  cool-down lasts (the I/O layer's guards), given the KafkaDataLogsDiskUsed samples of its
  look-back at a 10-minute period and the retention bound the scaler computes: the highest
  broker's peak ingest over the look-back times the current retention.
- `msk-native`: MSK's documented auto scaling: every minute, when the highest broker utilization
  is at or above the target, add max(10 GiB, 10 % of the current size, rounded up).

Figures per run: minutes at 100 % (some broker refused writes), peak utilization, minutes above
85 %, provisioned GiB-hours over all brokers (what EBS bills), what they cost at the built-in
table's us-east-1 storage price (`msk_autopilot.capacity.pricing`) and storage operations.

`run_suite` replays every shipped trace with both cool-downs MSK may impose (6 h and 24 h),
`efficiency_table` puts the autopilot's figures as ratios to MSK's, and `sweep` does so for a
range of `grow_at_percent`: the trade-off between GiB-hours and headroom the default is chosen on.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Literal, get_args

from msk_autopilot.capacity.pricing import HOURS_PER_MONTH, PriceTable
from msk_autopilot.outcome import plural
from msk_autopilot.storage.policy import (
    MAX_VOLUME_GIB,
    MIN_STEP_GIB,
    PolicySettings,
    StorageObservation,
    UsageSample,
    decide,
)
from msk_autopilot_local.simulate.trace import (
    Trace,
    TraceError,
    TraceSegment,
    shipped_traces,
)

__all__ = [
    "COOLDOWNS_HOURS",
    "POLICIES",
    "Efficiency",
    "PolicyName",
    "SimulationResult",
    "comparison_table",
    "efficiency",
    "efficiency_table",
    "run_suite",
    "simulate",
    "sweep",
]

PolicyName = Literal["autopilot", "msk-native"]
POLICIES: tuple[PolicyName, ...] = get_args(PolicyName)

OPERATION_MINUTES = 30  # an UpdateBrokerStorage operation, start to new size available
SCHEDULE_MINUTES = 15  # the storage scaler's schedule
METRIC_PERIOD_MINUTES = 10  # GetMetricData period the scaler reads KafkaDataLogsDiskUsed at
HIGH_PERCENT = 85.0  # "minutes above 85 %"
NATIVE_STEP_PERCENT = 10  # MSK auto scaling adds max(10 GiB, 10 % of current)
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)  # simulated minute 0; only differences matter
_INSTANCE_TYPE = "kafka.m5.2xlarge"  # throughput is not simulated
_PRICING_REGION = "us-east-1"
COOLDOWNS_HOURS = (6.0, 24.0)  # MSK's cool-down: at least 6 h, sometimes more than 24
_DEFAULTS = PolicySettings()


@dataclass(frozen=True)
class SimulationResult:
    trace: str
    policy: PolicyName
    hours: float
    minutes_full: int  # minutes in which some broker's disk was full and refused writes
    peak_percent: float  # highest utilization of any broker
    minutes_above_85: int
    gib_hours: float  # provisioned storage, all brokers
    operations: int  # storage changes started
    final_gib: int  # volume size per broker at the end
    storage_cost: float | None = None  # USD for the GiB-hours; None without a storage price
    cooldown_hours: float = 6.0
    held_out: bool = False  # the trace's


def simulate(
    trace: Trace,
    policy: PolicyName,
    *,
    target_percent: float = 60.0,
    cooldown_hours: float = 6.0,
    grow_at_percent: float = _DEFAULTS.grow_at_percent,
    observe: Callable[[int, float, int, bool], None] | None = None,
) -> SimulationResult:
    """Replay `trace` minute by minute under `policy`; deterministic. `observe` sees each scored
    minute: (minute, highest utilization %, volume GiB, some disk full)."""
    settings = PolicySettings(
        target_percent=target_percent,
        grow_at_percent=grow_at_percent,
        cooldown_hours=cooldown_hours,
    )
    cooldown_minutes = round(cooldown_hours * 60)
    disks = _Disks(trace)
    autopilot = _Autopilot(trace.broker_ids, settings) if policy == "autopilot" else None
    volume = trace.volume_gib
    operation_ends: int | None = None  # minute the running operation completes
    operation_target = volume
    change_allowed_at = -trace.history_minutes
    resized_at: int | None = None
    minutes_full = minutes_high = operations = 0
    peak = gib_minutes = 0.0
    segment = 0
    # Minutes before 0 replay the first row's ingest as history: they fill the disks and the
    # metric look-back, and are neither scored nor acted on.
    for minute in range(-trace.history_minutes, trace.duration_minutes):
        while (
            segment + 1 < len(trace.segments) and trace.segments[segment + 1].start_minute <= minute
        ):
            segment += 1
        if minute == operation_ends:
            volume, resized_at, operation_ends = operation_target, minute, None
            change_allowed_at = minute + cooldown_minutes
        refused = disks.advance(minute, trace.segments[segment], volume)
        percents = [100.0 * used / volume for used in disks.used]
        highest = max(percents)
        if autopilot is not None:
            autopilot.record(minute, percents, trace.segments[segment])
        if minute < 0:
            if refused:
                raise TraceError(f"trace {trace.name}: the history overfills {volume} GiB volumes")
            continue
        minutes_full += refused
        if observe is not None:
            observe(minute, highest, volume, refused)
        minutes_high += highest > HIGH_PERCENT
        peak = max(peak, highest)
        gib_minutes += volume * len(trace.broker_ids)
        if operation_ends is not None or minute < change_allowed_at:
            continue
        if autopilot is not None:
            new_gib = autopilot.choose(minute, volume, resized_at)
        else:
            new_gib = _native_size(volume, highest, target_percent)
        if new_gib is not None:
            operation_target, operation_ends = new_gib, minute + OPERATION_MINUTES
            operations += 1
    return SimulationResult(
        trace=trace.name,
        policy=policy,
        hours=trace.duration_minutes / 60,
        minutes_full=minutes_full,
        peak_percent=round(peak, 2),
        minutes_above_85=minutes_high,
        gib_hours=round(gib_minutes / 60, 1),
        operations=operations,
        final_gib=volume,
        storage_cost=_storage_cost(gib_minutes / 60),
        cooldown_hours=cooldown_hours,
        held_out=trace.held_out,
    )


def _storage_cost(gib_hours: float) -> float | None:
    price = PriceTable.built_in().region(_PRICING_REGION).storage_gib_month
    return None if price is None else round(gib_hours * price / HOURS_PER_MONTH, 2)


def _native_size(volume: int, highest_percent: float, target_percent: float) -> int | None:
    """MSK auto scaling's next size, or None when it would not act."""
    if highest_percent < target_percent:
        return None
    step = max(MIN_STEP_GIB, math.ceil(volume * NATIVE_STEP_PERCENT / 100))
    new_gib = min(volume + step, MAX_VOLUME_GIB)
    return new_gib if new_gib - volume >= MIN_STEP_GIB else None


class _Disks:
    """Each broker's data logs: GiB written per minute, expired after the retention window."""

    def __init__(self, trace: Trace) -> None:
        self._offset = trace.history_minutes  # list index of minute 0
        slots = trace.history_minutes + trace.duration_minutes
        self._written = [[0.0] * slots for _ in trace.broker_ids]
        self._oldest = [0] * len(trace.broker_ids)  # first index not yet expired
        self.used = [0.0] * len(trace.broker_ids)

    def advance(self, minute: int, segment: TraceSegment, volume: int) -> bool:
        """Expire and write one minute; True when some broker had to refuse writes."""
        index = minute + self._offset
        expire_through = index - segment.retention_minutes
        refused = False
        for broker, rate in enumerate(segment.ingest_gib_per_hour):
            written = self._written[broker]
            oldest = self._oldest[broker]
            used = self.used[broker]
            while oldest <= expire_through:
                used -= written[oldest]
                oldest += 1
            wanted = rate / 60
            stored = min(wanted, max(0.0, volume - used))
            refused |= stored < wanted - 1e-9
            written[index] = stored
            self._oldest[broker] = oldest
            self.used[broker] = used + stored
        return refused


class _Autopilot:
    """The storage scaler's view: metric samples, its alarm, its schedule, the real policy."""

    def __init__(self, broker_ids: tuple[str, ...], settings: PolicySettings) -> None:
        self._broker_ids = broker_ids
        self._settings = settings
        self._sample_minutes: list[int] = []
        self._samples: list[list[UsageSample]] = [[] for _ in broker_ids]
        self._peak_ingest: list[float] = []  # highest broker's GiB/h, per sample
        self._retention_hours = 0.0
        self._alarm_on = False
        self._alarm_fired = False  # went into ALARM since the last evaluation could act
        self._operations = 0

    def record(self, minute: int, percents: list[float], segment: TraceSegment) -> None:
        self._retention_hours = segment.retention_minutes / 60
        if minute % METRIC_PERIOD_MINUTES == 0:
            at = _EPOCH + timedelta(minutes=minute)
            self._sample_minutes.append(minute)
            self._peak_ingest.append(max(segment.ingest_gib_per_hour))
            for samples, percent in zip(self._samples, percents, strict=True):
                samples.append(UsageSample(at, percent))
        alarm_on = max(percents) >= self._settings.trigger_percent
        self._alarm_fired = alarm_on and not self._alarm_on
        self._alarm_on = alarm_on

    def choose(self, minute: int, volume: int, resized_at: int | None) -> int | None:
        """The new size the scaler would set at `minute`, or None (not run, or no change)."""
        if minute % SCHEDULE_MINUTES != 0 and not self._alarm_fired:
            return None
        first = bisect_left(self._sample_minutes, minute - self._settings.look_back_hours * 60)
        observation = StorageObservation(
            now=_EPOCH + timedelta(minutes=minute),
            volume_gib=volume,
            broker_count=len(self._broker_ids),
            usage={
                broker: samples[first:]
                for broker, samples in zip(self._broker_ids, self._samples, strict=True)
            },
            instance_type=_INSTANCE_TYPE,
            resized_at=None if resized_at is None else _EPOCH + timedelta(minutes=resized_at),
            previous_operation_hours=OPERATION_MINUTES / 60 if self._operations else None,
            retention_bound_gib=max(self._peak_ingest[first:]) * self._retention_hours,
        )
        decision = decide(observation, self._settings)
        if not decision.resizes:
            return None
        self._operations += 1
        return decision.new_gib


def run_suite(
    *,
    policies: tuple[PolicyName, ...] = POLICIES,
    target_percent: float = 60.0,
    cooldowns_hours: Sequence[float] = COOLDOWNS_HOURS,
    grow_at_percent: float = _DEFAULTS.grow_at_percent,
) -> list[SimulationResult]:
    """Every shipped trace under every policy in `policies`, with each cool-down."""
    return [
        simulate(
            trace,
            policy,
            target_percent=target_percent,
            cooldown_hours=cooldown,
            grow_at_percent=grow_at_percent,
        )
        for cooldown in cooldowns_hours
        for trace in shipped_traces()
        for policy in policies
    ]


@dataclass(frozen=True)
class Efficiency:
    """The autopilot against MSK's policy on one trace and cool-down."""

    trace: str
    held_out: bool
    cooldown_hours: float
    gib_hours_ratio: float  # autopilot / msk-native
    operations: tuple[int, int]  # autopilot, msk-native
    minutes_full: tuple[int, int]  # autopilot, msk-native

    @property
    def msk_fills(self) -> bool:
        return self.minutes_full[1] > 0


def efficiency(results: Iterable[SimulationResult]) -> list[Efficiency]:
    """Pair each autopilot run with MSK's run of the same trace and cool-down."""
    runs = {(r.trace, r.cooldown_hours, r.policy): r for r in results}
    pairs = []
    for (trace, cooldown, policy), ours in runs.items():
        theirs = runs.get((trace, cooldown, "msk-native"))
        if policy != "autopilot" or theirs is None:
            continue
        pairs.append(
            Efficiency(
                trace=trace,
                held_out=ours.held_out,
                cooldown_hours=cooldown,
                gib_hours_ratio=ours.gib_hours / theirs.gib_hours,
                operations=(ours.operations, theirs.operations),
                minutes_full=(ours.minutes_full, theirs.minutes_full),
            )
        )
    return pairs


def efficiency_table(pairs: Sequence[Efficiency]) -> str:
    """Markdown: per trace and cool-down, the autopilot's figures as ratios to MSK's policy."""
    lines = [
        "| trace | cool-down | GiB-hours vs MSK | ops (autopilot / MSK) "
        "| min at 100 % (autopilot / MSK) |",
        "|---|---:|---:|---:|---:|",
    ]
    for pair in pairs:
        name = f"{pair.trace} (held out)" if pair.held_out else pair.trace
        lines.append(
            f"| {name} | {pair.cooldown_hours:g} h | {pair.gib_hours_ratio:.3f}x "
            f"| {pair.operations[0]} / {pair.operations[1]} "
            f"| {pair.minutes_full[0]:,} / {pair.minutes_full[1]:,} |"
        )
    coping = [pair.gib_hours_ratio for pair in pairs if not pair.msk_fills]
    if coping:
        lines.append("")
        lines.append(
            f"Where MSK's policy never fills ({plural(len(coping), 'run')}): GiB-hours "
            f"{fmean(coping):.3f}x MSK's on average, {max(coping):.3f}x at most."
        )
    return "\n".join(lines)


def sweep(grow_at_percents: Sequence[float], *, target_percent: float = 60.0) -> str:
    """The trade-off over `grow_at_percent`: a Markdown row per value, on the whole suite."""
    native = run_suite(policies=("msk-native",), target_percent=target_percent)
    lines = [
        "| grow at % | mean GiB-hours vs MSK | max | runs with more ops than MSK "
        "| min at 100 % (all runs) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for grow_at in grow_at_percents:
        ours = run_suite(
            policies=("autopilot",), target_percent=target_percent, grow_at_percent=grow_at
        )
        pairs = efficiency([*ours, *native])
        coping = [pair.gib_hours_ratio for pair in pairs if not pair.msk_fills]
        more_ops = sum(pair.operations[0] > pair.operations[1] for pair in pairs)
        full = sum(pair.minutes_full[0] for pair in pairs)
        lines.append(
            f"| {grow_at:g} | {fmean(coping):.3f}x | {max(coping):.3f}x | {more_ops} | {full:,} |"
        )
    return "\n".join(lines)


def comparison_table(results: list[SimulationResult]) -> str:
    """A Markdown table of `results`; autopilot rows compare their cost with msk-native's."""
    native_cost = {r.trace: r.gib_hours for r in results if r.policy == "msk-native"}
    lines = [
        "| trace | policy | min at 100 % | peak % | min > 85 % | GiB-hours | storage USD "
        "| vs msk-native | ops | final GiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        baseline = native_cost.get(r.trace)
        versus = (
            f"{100 * (r.gib_hours / baseline - 1):+.1f} %"
            if baseline and r.policy != "msk-native"
            else ""
        )
        cost = "unknown" if r.storage_cost is None else f"{r.storage_cost:,.2f}"
        lines.append(
            f"| {r.trace} | {r.policy} | {r.minutes_full} | {r.peak_percent:.1f} "
            f"| {r.minutes_above_85} | {r.gib_hours:,.0f} | {cost} | {versus} | {r.operations} "
            f"| {r.final_gib} |"
        )
    return "\n".join(lines)
