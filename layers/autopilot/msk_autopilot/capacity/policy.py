"""Broker policy: whether a cluster needs larger, smaller, more or fewer brokers (pure).

Pure: no AWS calls, no clock. The caller reads the cluster's shape (DescribeClusterV2, the
rebalancing status, the topic APIs, its tags) and an hourly utilization history of each broker
(CpuUser + CpuSystem, BytesInPerSec, BytesOutPerSec and, on Express, the produce and fetch
throttle time) and acts on the returned `BrokerDecision`; `msk-autopilot simulate` runs the same
`decide`.

Signals, judged on the hottest broker of each hour (all brokers share one size):

- *Sustained* load: at least `sustained_hours` of the last `sustained_window_hours` hourly
  samples above the threshold (default 2 of 3), so one busy hour never resizes a cluster.
- *Quiet*: every one of the last `quiet_days` of hourly samples below the quiet thresholds;
  a history shorter than that is never quiet.
- Standard brokers are hot on CPU above `cpu_threshold_percent` or on throughput above the
  size's guidance (`capacity.guidance`); Express brokers on throughput above
  `express_out_percent` of the size's quota or on any throttling.

Rules and their precedence (the first that applies decides; one step at a time, never two):

1. Hot Standard cluster: one size up (`sizes.larger`, checked with `type_change_refusal`). At the
   top of its ladder: scale out instead (rule 3's horizontal step). A size up is immediate relief
   and keeps every partition where it is, so it goes before adding brokers, which stay empty until
   partitions move.
2. Hot Express cluster: one broker per zone more when intelligent rebalancing is ACTIVE (MSK moves
   partitions onto them, no rolling restart); otherwise one size up; at the top size without
   rebalancing, scale-out is only recommended (the new brokers need a reassignment).
3. Standard partitions per broker above the size's recommended count: one broker per zone more,
   recommended, carried out only when the cluster opted in (new brokers take no partitions until a
   reassignment moves them; the caller attaches `capacity.reassignment`'s plan).
4. Quiet cluster, each step down only when the load projected onto the smaller shape stays below
   the thresholds that would scale it back up:
   - Standard: one size down (`sizes.smaller`) when partitions per broker fit the smaller size's
     maximum (`health.limits`) and MSK allows the move; otherwise one broker per zone fewer, only
     recommended (brokers must be drained first: `reassignment.plan_drain`).
   - Express: one broker per zone fewer when rebalancing is ACTIVE (the policy reads it and never
     proposes pausing it); otherwise one size down.
5. Otherwise no change.

Counts stay multiples of the zone count and never go below it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum

import msgspec

from msk_autopilot.capacity.guidance import throughput_guidance
from msk_autopilot.capacity.sizes import larger, smaller, type_change_refusal, vcpus
from msk_autopilot.health.change import ChangeKind
from msk_autopilot.health.limits import is_express, partition_limits

__all__ = [
    "MAX_HISTORY_HOURS",
    "BrokerAction",
    "BrokerDecision",
    "BrokerPolicySettings",
    "BrokerSample",
    "ClusterShape",
    "decide",
]

MAX_HISTORY_HOURS = 14 * 24  # the longest history the policy reads
_MB = 1_000_000  # CloudWatch's BytesInPerSec / BytesOutPerSec are bytes; guidance is in MB/s


class BrokerSample(msgspec.Struct, frozen=True):
    """One hour of one broker: averages over the hour."""

    cpu_percent: float  # CpuUser + CpuSystem
    bytes_in_per_second: float
    bytes_out_per_second: float
    throttle_ms: float = 0.0  # Express: ProduceThrottleTime + FetchThrottleTime; Standard: 0


class ClusterShape(msgspec.Struct, frozen=True, kw_only=True):
    instance_type: str
    broker_count: int
    zone_count: int
    partitions_per_broker: int  # the most replicas (leaders and followers) any broker holds
    rebalancing_active: bool = False  # Express intelligent rebalancing Status == ACTIVE
    scale_out_opted_in: bool = False  # the cluster's tag lets the policy add Standard brokers

    def __post_init__(self) -> None:
        if self.zone_count < 1 or self.broker_count < self.zone_count:
            raise ValueError(
                f"broker_count ({self.broker_count}) must be at least zone_count "
                f"({self.zone_count}), itself at least 1"
            )
        if self.broker_count % self.zone_count:
            raise ValueError(
                f"broker_count ({self.broker_count}) must be a multiple of zone_count "
                f"({self.zone_count})"
            )


class BrokerPolicySettings(msgspec.Struct, frozen=True, kw_only=True):
    cpu_threshold_percent: float = 60.0  # Standard: CpuUser + CpuSystem above it is hot
    sustained_window_hours: int = 3
    sustained_hours: int = 2  # hot hours within the window that make load sustained
    quiet_days: float = 14.0
    quiet_cpu_percent: float = 30.0
    quiet_throughput_percent: float = 30.0  # of the size's guidance or quota
    express_out_percent: float = 80.0  # of the Express quota: above it is hot
    throttle_ms: float = 0.0  # Express: throttle time above it is hot

    def __post_init__(self) -> None:
        problems = []
        if not 0 < self.quiet_cpu_percent < self.cpu_threshold_percent <= 100:
            problems.append(
                "quiet_cpu_percent and cpu_threshold_percent must satisfy "
                f"0 < {self.quiet_cpu_percent:g} < {self.cpu_threshold_percent:g} <= 100"
            )
        if not 0 < self.quiet_throughput_percent < min(100.0, self.express_out_percent):
            problems.append(
                "quiet_throughput_percent must be above 0 and below express_out_percent and 100"
            )
        if not 1 <= self.sustained_hours <= self.sustained_window_hours:
            problems.append("sustained_hours must be between 1 and sustained_window_hours")
        if not self.sustained_window_hours <= self.quiet_days * 24 <= MAX_HISTORY_HOURS:
            problems.append(
                "quiet_days must cover at least sustained_window_hours and at most the "
                f"{MAX_HISTORY_HOURS // 24} days of history the policy reads"
            )
        if self.throttle_ms < 0:
            problems.append("throttle_ms must not be negative")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def quiet_hours(self) -> int:
        return math.ceil(self.quiet_days * 24)


class BrokerAction(StrEnum):
    NO_CHANGE = "no_change"
    TYPE_LARGER = "type_larger"
    TYPE_SMALLER = "type_smaller"
    COUNT_UP = "count_up"
    COUNT_DOWN = "count_down"


_CHANGE_KINDS = {
    BrokerAction.TYPE_LARGER: ChangeKind.BROKER_TYPE_LARGER,
    BrokerAction.TYPE_SMALLER: ChangeKind.BROKER_TYPE_SMALLER,
    BrokerAction.COUNT_UP: ChangeKind.BROKER_COUNT_UP,
    BrokerAction.COUNT_DOWN: ChangeKind.BROKER_COUNT_DOWN,
}


class BrokerDecision(msgspec.Struct, frozen=True, kw_only=True):
    action: BrokerAction
    reason: str  # one sentence naming the figures it rests on
    current_type: str
    target_type: str  # equals current_type unless the action changes the size
    current_count: int
    target_count: int  # equals current_count unless the action changes the count
    carried_out: bool  # False: no change, or a recommendation only

    @property
    def change(self) -> ChangeKind | None:
        """The kind of change for the health gates and MskPort, None for no change."""
        return _CHANGE_KINDS.get(self.action)


class _Load(msgspec.Struct, frozen=True):
    """The hottest broker of each hour, oldest first, as percentages of what the size takes."""

    cpu: tuple[float, ...]
    throughput: tuple[float, ...]  # max(ingress, egress) against the size's guidance or quota
    throttle_ms: tuple[float, ...]

    @property
    def hours(self) -> int:
        return len(self.cpu)


def decide(
    shape: ClusterShape,
    history: Mapping[str, Sequence[BrokerSample]],
    settings: BrokerPolicySettings | None = None,
) -> BrokerDecision:
    """The one step `shape` should take given `history` (broker id -> hourly samples, oldest
    first, all ending at the same hour). The history starts after the cluster's last size or
    count change: samples taken at another shape are not comparable, and a quiet period restarts
    with every step."""
    settings = settings or BrokerPolicySettings()
    load = _hottest(shape.instance_type, history)
    if load.hours < settings.sustained_window_hours:
        return _no_change(
            shape,
            f"only {load.hours} hours of utilization; the policy needs at least "
            f"{settings.sustained_window_hours}",
        )
    if is_express(shape.instance_type):
        return _decide_express(shape, load, settings)
    return _decide_standard(shape, load, settings)


def _decide_standard(
    shape: ClusterShape, load: _Load, settings: BrokerPolicySettings
) -> BrokerDecision:
    hot = _standard_heat(load, settings)
    if hot is not None:
        bigger = larger(shape.instance_type)
        if bigger is not None and type_change_refusal(shape.instance_type, bigger) is None:
            return _resize(shape, BrokerAction.TYPE_LARGER, bigger, f"{hot}; one size up")
        return _scale_out_standard(shape, f"{hot} at the largest size {shape.instance_type}")
    limits = partition_limits(shape.instance_type)
    if limits is not None and shape.partitions_per_broker > limits.recommended:
        return _scale_out_standard(
            shape,
            f"{shape.partitions_per_broker} partitions per broker exceed the "
            f"{limits.recommended} recommended for {shape.instance_type}",
        )
    quiet = _quiet(load, settings)
    if quiet is None:
        return _no_change(shape, "utilization is neither sustained high nor quiet")
    return _standard_down(shape, load, settings, quiet)


def _standard_down(
    shape: ClusterShape, load: _Load, settings: BrokerPolicySettings, quiet: str
) -> BrokerDecision:
    refusals = []
    down = smaller(shape.instance_type)
    if down is not None:
        refusal = _standard_smaller_refusal(shape, down, load, settings)
        if refusal is None:
            return _resize(shape, BrokerAction.TYPE_SMALLER, down, f"{quiet}; one size down")
        refusals.append(refusal)
    fewer = shape.broker_count - shape.zone_count
    refusal = _fewer_refusal(shape, fewer, load, settings)
    if refusal is None:
        return _decision(
            shape,
            BrokerAction.COUNT_DOWN,
            shape.instance_type,
            fewer,
            f"{quiet}; remove one broker per zone after draining them (Standard brokers keep "
            "their partitions until they are moved)",
            carried_out=False,
        )
    refusals.append(refusal)
    return _no_change(shape, f"{quiet}, but " + "; ".join(refusals))


def _decide_express(
    shape: ClusterShape, load: _Load, settings: BrokerPolicySettings
) -> BrokerDecision:
    hot = _express_heat(load, settings)
    if hot is not None:
        return _express_up(shape, hot)
    quiet = _quiet(load, settings)
    if quiet is None:
        return _no_change(shape, "throughput is neither sustained high nor quiet")
    return _express_down(shape, load, settings, quiet)


def _express_up(shape: ClusterShape, hot: str) -> BrokerDecision:
    more = shape.broker_count + shape.zone_count
    if shape.rebalancing_active:
        return _decision(
            shape,
            BrokerAction.COUNT_UP,
            shape.instance_type,
            more,
            f"{hot}; one broker per zone more, placed by intelligent rebalancing",
            carried_out=True,
        )
    bigger = larger(shape.instance_type)
    if bigger is not None and type_change_refusal(shape.instance_type, bigger) is None:
        return _resize(
            shape,
            BrokerAction.TYPE_LARGER,
            bigger,
            f"{hot}; one size up (intelligent rebalancing is not ACTIVE, so new brokers would "
            "stay empty)",
        )
    return _decision(
        shape,
        BrokerAction.COUNT_UP,
        shape.instance_type,
        more,
        f"{hot} at the largest size; one broker per zone more is recommended, with a "
        "reassignment of partitions onto them (intelligent rebalancing is not ACTIVE)",
        carried_out=False,
    )


def _express_down(
    shape: ClusterShape, load: _Load, settings: BrokerPolicySettings, quiet: str
) -> BrokerDecision:
    refusals = []
    fewer = shape.broker_count - shape.zone_count
    if shape.rebalancing_active:
        refusal = _fewer_refusal(shape, fewer, load, settings)
        if refusal is None:
            return _decision(
                shape,
                BrokerAction.COUNT_DOWN,
                shape.instance_type,
                fewer,
                f"{quiet}; one broker per zone fewer, drained by intelligent rebalancing",
                carried_out=True,
            )
        refusals.append(refusal)
    down = smaller(shape.instance_type)
    if down is None:
        refusals.append(f"{shape.instance_type} is the smallest Express size")
    else:
        projected = max(load.throughput) * _throughput_ratio(shape.instance_type, down)
        if projected < settings.express_out_percent:
            return _resize(shape, BrokerAction.TYPE_SMALLER, down, f"{quiet}; one size down")
        refusals.append(f"on {down} the peak throughput would be {projected:.0f} % of its quota")
    return _no_change(shape, f"{quiet}, but " + "; ".join(refusals))


def _standard_heat(load: _Load, settings: BrokerPolicySettings) -> str | None:
    """Why a Standard cluster's load is sustained high, or None."""
    window = settings.sustained_window_hours
    cpu_hot = _hot_hours(load.cpu, settings.cpu_threshold_percent, window)
    if cpu_hot >= settings.sustained_hours:
        return (
            f"CPU (user + system) of the busiest broker was above "
            f"{settings.cpu_threshold_percent:g} % in {cpu_hot} of the last {window} hours "
            f"(latest {load.cpu[-1]:.0f} %)"
        )
    throughput_hot = _hot_hours(load.throughput, 100.0, window)
    if throughput_hot >= settings.sustained_hours:
        return (
            f"throughput per broker exceeded the size's guidance in {throughput_hot} of the last "
            f"{window} hours (latest {load.throughput[-1]:.0f} % of it)"
        )
    return None


def _express_heat(load: _Load, settings: BrokerPolicySettings) -> str | None:
    """Why an Express cluster's load is sustained high, or None."""
    window = settings.sustained_window_hours
    hot = _hot_hours(load.throughput, settings.express_out_percent, window)
    if hot >= settings.sustained_hours:
        return (
            f"throughput per broker was above {settings.express_out_percent:g} % of the size's "
            f"quota in {hot} of the last {window} hours (latest {load.throughput[-1]:.0f} %)"
        )
    throttled = _hot_hours(load.throttle_ms, settings.throttle_ms, window)
    if throttled >= settings.sustained_hours:
        return f"brokers were throttled in {throttled} of the last {window} hours"
    return None


def _quiet(load: _Load, settings: BrokerPolicySettings) -> str | None:
    """The quiet period in words when every hour of it was quiet, or None."""
    hours = settings.quiet_hours
    if load.hours < hours:
        return None
    cpu, throughput = max(load.cpu[-hours:]), max(load.throughput[-hours:])
    if cpu >= settings.quiet_cpu_percent or throughput >= settings.quiet_throughput_percent:
        return None
    if max(load.throttle_ms[-hours:]) > settings.throttle_ms:
        return None
    return (
        f"over the last {settings.quiet_days:g} days CPU peaked at {cpu:.0f} % (under "
        f"{settings.quiet_cpu_percent:g} %) and throughput at {throughput:.0f} % of the size's "
        f"capacity (under {settings.quiet_throughput_percent:g} %)"
    )


def _standard_smaller_refusal(
    shape: ClusterShape, down: str, load: _Load, settings: BrokerPolicySettings
) -> str | None:
    """Why a Standard cluster may not move to `down`, or None."""
    refusal = type_change_refusal(shape.instance_type, down)
    if refusal is not None:
        return refusal
    limits = partition_limits(down)
    if limits is not None and shape.partitions_per_broker > limits.maximum:
        return (
            f"{shape.partitions_per_broker} partitions per broker exceed the {limits.maximum} "
            f"{down} allows"
        )
    cpu = max(load.cpu) * vcpus(shape.instance_type) / vcpus(down)
    throughput = max(load.throughput) * _throughput_ratio(shape.instance_type, down)
    if cpu > settings.cpu_threshold_percent or throughput > 100.0:
        return f"on {down} the peak would be {cpu:.0f} % CPU and {throughput:.0f} % of guidance"
    return None


def _fewer_refusal(
    shape: ClusterShape, fewer: int, load: _Load, settings: BrokerPolicySettings
) -> str | None:
    """Why the cluster may not shrink to `fewer` brokers, or None."""
    if fewer < shape.zone_count:
        return f"{shape.broker_count} brokers is one per zone already"
    ratio = shape.broker_count / fewer
    partitions = math.ceil(shape.partitions_per_broker * ratio)
    limits = partition_limits(shape.instance_type)
    if limits is not None and partitions > limits.recommended:
        return (
            f"{fewer} brokers would hold {partitions} partitions each, above the "
            f"{limits.recommended} recommended"
        )
    throughput_limit = settings.express_out_percent if is_express(shape.instance_type) else 100.0
    cpu, throughput = max(load.cpu) * ratio, max(load.throughput) * ratio
    if cpu > settings.cpu_threshold_percent or throughput > throughput_limit:
        return (
            f"{fewer} brokers would peak at {cpu:.0f} % CPU and {throughput:.0f} % of "
            "throughput capacity"
        )
    return None


def _scale_out_standard(shape: ClusterShape, why: str) -> BrokerDecision:
    opted_in = shape.scale_out_opted_in
    return _decision(
        shape,
        BrokerAction.COUNT_UP,
        shape.instance_type,
        shape.broker_count + shape.zone_count,
        f"{why}; one broker per zone more"
        + (
            ", then the reassignment that moves partitions onto them"
            if opted_in
            else " is recommended (the cluster has not opted in to scale-out)"
        ),
        carried_out=opted_in,
    )


def _hottest(instance_type: str, history: Mapping[str, Sequence[BrokerSample]]) -> _Load:
    """Per hour, the busiest broker's figures; series are aligned on their last hour."""
    series = [samples[-MAX_HISTORY_HOURS:] for samples in history.values() if samples]
    hours = min((len(samples) for samples in series), default=0)
    guidance = throughput_guidance(instance_type)
    cpu, throughput, throttle = [], [], []
    for hour in range(-hours, 0):
        samples = [broker[hour] for broker in series]
        cpu.append(max(sample.cpu_percent for sample in samples))
        throttle.append(max(sample.throttle_ms for sample in samples))
        if guidance is None:
            throughput.append(0.0)
            continue
        ingress = max(s.bytes_in_per_second for s in samples) / _MB / guidance.ingress_mbps
        egress = max(s.bytes_out_per_second for s in samples) / _MB / guidance.egress_mbps
        throughput.append(100 * max(ingress, egress))
    return _Load(tuple(cpu), tuple(throughput), tuple(throttle))


def _hot_hours(series: Sequence[float], threshold: float, window: int) -> int:
    return sum(value > threshold for value in series[-window:])


def _throughput_ratio(current: str, target: str) -> float:
    """How much busier, against its guidance, a broker of `target` is than one of `current`
    under the same load (1 where either has no guidance: throughput is then not judged)."""
    now, then = throughput_guidance(current), throughput_guidance(target)
    return 1.0 if now is None or then is None else now.ingress_mbps / then.ingress_mbps


def _resize(
    shape: ClusterShape, action: BrokerAction, target_type: str, reason: str
) -> BrokerDecision:
    return _decision(shape, action, target_type, shape.broker_count, reason, carried_out=True)


def _decision(
    shape: ClusterShape,
    action: BrokerAction,
    target_type: str,
    target_count: int,
    reason: str,
    *,
    carried_out: bool,
) -> BrokerDecision:
    target = f"{target_type} x {target_count}"
    return BrokerDecision(
        action=action,
        reason=f"{reason[0].upper()}{reason[1:]} ({shape.instance_type} x {shape.broker_count}"
        + (f" -> {target})." if action is not BrokerAction.NO_CHANGE else ")."),
        current_type=shape.instance_type,
        target_type=target_type,
        current_count=shape.broker_count,
        target_count=target_count,
        carried_out=carried_out,
    )


def _no_change(shape: ClusterShape, reason: str) -> BrokerDecision:
    return _decision(
        shape,
        BrokerAction.NO_CHANGE,
        shape.instance_type,
        shape.broker_count,
        reason,
        carried_out=False,
    )
