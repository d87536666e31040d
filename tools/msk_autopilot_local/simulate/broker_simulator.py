"""Replaying a CPU and throughput trace through the broker policy and a plain threshold rule.

The world, minute by minute (the same for both policies):

- each broker carries an equal share of the trace's demand: CPU % is the demand's vCPUs over
  the provisioned vCPUs (count x size), at most 100; throughput per broker is the demand's MB/s
  over the count; an Express broker beyond its ingress quota is throttled (1 ms per second for
  each percent of excess);
- a broker change (size or count) runs for `OPERATION_MINUTES`, then the new shape serves the
  load (new Standard brokers with their reassignment done); after it completes a cool-down
  (`cooldown_hours`, the same for both) allows no further change.

Policies:

- `autopilot`: the real `msk_autopilot.capacity.policy.decide`, run every hour on the hourly
  means since the last change (samples at another shape are not comparable); it acts on what it
  carries out and counts what it only recommends.
- `threshold-rule`: every minute, CPU above `cpu_threshold_percent` for the last 15 minutes: one
  size up; below `quiet_cpu_percent` for the last 15 minutes: one size down, where MSK allows it.

Figures per run: actions, recommendations, minutes over the CPU threshold, minutes saturated
(CPU demand beyond the vCPUs, or throughput beyond the size's guidance or quota), broker-hours
and cost in USD. Cost prices a broker-hour by `price` (instance type -> USD per hour); the default
is the built-in price table's us-east-1 list price (`msk_autopilot.capacity.pricing`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Literal, get_args

from msk_autopilot.capacity.guidance import throughput_guidance
from msk_autopilot.capacity.policy import (
    BrokerAction,
    BrokerPolicySettings,
    BrokerSample,
    ClusterShape,
    decide,
)
from msk_autopilot.capacity.pricing import PriceTable
from msk_autopilot.capacity.sizes import is_express, larger, smaller, type_change_refusal, vcpus
from msk_autopilot.health.limits import partition_limits
from msk_autopilot_local.simulate.broker_trace import BrokerTrace, shipped_broker_traces

__all__ = [
    "BROKER_POLICIES",
    "BrokerPolicyName",
    "BrokerRun",
    "broker_comparison_table",
    "list_price",
    "run_broker_suite",
    "simulate_brokers",
]

BrokerPolicyName = Literal["autopilot", "threshold-rule"]
BROKER_POLICIES: tuple[BrokerPolicyName, ...] = get_args(BrokerPolicyName)

OPERATION_MINUTES = 60  # a broker size or count change, start to new shape serving
RULE_MINUTES = 15  # the threshold rule's "for 15 minutes"
_PRICING_REGION = "us-east-1"
_MB = 1_000_000
# Called every simulated minute with a handful of distinct sizes.
_guidance = cache(throughput_guidance)
_vcpus = cache(vcpus)


def list_price(instance_type: str) -> float:
    """A broker-hour at the built-in table's us-east-1 price (every size has one there)."""
    price = PriceTable.built_in().region(_PRICING_REGION).broker_hour.get(instance_type)
    if price is None:
        raise ValueError(f"the price table has no {_PRICING_REGION} price for {instance_type}")
    return price


@dataclass(frozen=True)
class BrokerRun:
    trace: str
    policy: BrokerPolicyName
    hours: float
    actions: tuple[str, ...]  # "h<hour>: <from> -> <to>" per change started
    recommendations: int  # hours in which the policy recommended a change it does not carry out
    minutes_over_threshold: int  # CPU above the threshold
    minutes_saturated: int  # demand beyond the vCPUs, or throughput beyond guidance or quota
    peak_cpu_percent: float
    broker_hours: float
    cost: float
    final_shape: str
    # Per minute, for plots: CPU %, provisioned vCPUs and demanded vCPUs.
    cpu_percent: tuple[float, ...] = field(repr=False, default=())
    provisioned_vcpus: tuple[int, ...] = field(repr=False, default=())
    demand_vcpus: tuple[float, ...] = field(repr=False, default=())

    def figures(self) -> dict[str, object]:
        """The run's figures without the per-minute series (for JSON)."""
        return {
            key: value
            for key, value in asdict(self).items()
            if key not in {"cpu_percent", "provisioned_vcpus", "demand_vcpus"}
        }


@dataclass
class _Shape:
    instance_type: str
    count: int

    def __str__(self) -> str:
        return f"{self.instance_type} x {self.count}"


def simulate_brokers(
    trace: BrokerTrace,
    policy: BrokerPolicyName,
    *,
    cooldown_hours: float = 6.0,
    settings: BrokerPolicySettings | None = None,
    price: Callable[[str], float] = list_price,
) -> BrokerRun:
    """Replay `trace` minute by minute under `policy`; deterministic."""
    settings = settings or BrokerPolicySettings()
    price = cache(price)
    shape = _Shape(trace.instance_type, trace.broker_count)
    chooser = (
        _Autopilot(trace, settings) if policy == "autopilot" else _ThresholdRule(trace, settings)
    )
    operation_ends: int | None = None
    pending = shape
    change_allowed_at = 0
    actions: list[str] = []
    cpu_series: list[float] = []
    provisioned: list[int] = []
    demanded: list[float] = []
    over = saturated = 0
    cost = broker_minutes = 0.0
    for minute in range(trace.duration_minutes):
        if minute == operation_ends:
            shape, operation_ends = pending, None
            change_allowed_at = minute + round(cooldown_hours * 60)
            chooser.reset()
        demand = trace.demand(minute)
        capacity = shape.count * _vcpus(shape.instance_type)
        cpu = min(100.0, 100 * demand.cpu_vcpus / capacity)
        sample = _sample(shape, demand.mb_in, demand.mb_out, cpu)
        over += cpu > settings.cpu_threshold_percent
        saturated += demand.cpu_vcpus > capacity or _beyond_guidance(shape, sample)
        cost += shape.count * price(shape.instance_type) / 60
        broker_minutes += shape.count
        cpu_series.append(round(cpu, 2))
        provisioned.append(capacity)
        demanded.append(demand.cpu_vcpus)
        chooser.record(minute, sample)
        if operation_ends is not None or minute < change_allowed_at:
            continue
        target = chooser.choose(minute, shape)
        if target is not None:
            pending, operation_ends = target, minute + OPERATION_MINUTES
            actions.append(f"h{minute // 60}: {shape} -> {target}")
    return BrokerRun(
        trace=trace.name,
        policy=policy,
        hours=trace.duration_minutes / 60,
        actions=tuple(actions),
        recommendations=chooser.recommendations,
        minutes_over_threshold=over,
        minutes_saturated=saturated,
        peak_cpu_percent=max(cpu_series),
        broker_hours=round(broker_minutes / 60, 1),
        cost=round(cost, 1),
        final_shape=str(shape),
        cpu_percent=tuple(cpu_series),
        provisioned_vcpus=tuple(provisioned),
        demand_vcpus=tuple(demanded),
    )


def _sample(shape: _Shape, mb_in: float, mb_out: float, cpu: float) -> BrokerSample:
    per_broker_in = mb_in / shape.count
    guidance = _guidance(shape.instance_type)
    throttle = 0.0
    if is_express(shape.instance_type) and guidance is not None:
        throttle = max(0.0, 100 * (per_broker_in / guidance.ingress_mbps - 1))
    return BrokerSample(cpu, per_broker_in * _MB, mb_out / shape.count * _MB, throttle)


def _beyond_guidance(shape: _Shape, sample: BrokerSample) -> bool:
    guidance = _guidance(shape.instance_type)
    return guidance is not None and (
        sample.bytes_in_per_second / _MB > guidance.ingress_mbps
        or sample.bytes_out_per_second / _MB > guidance.egress_mbps
    )


class _Autopilot:
    """The broker scaler's view: hourly means since the last change, the real policy hourly."""

    def __init__(self, trace: BrokerTrace, settings: BrokerPolicySettings) -> None:
        self._trace = trace
        self._settings = settings
        self._hours: list[BrokerSample] = []
        self._minutes: list[BrokerSample] = []
        self.recommendations = 0

    def reset(self) -> None:
        self._hours, self._minutes = [], []

    def record(self, minute: int, sample: BrokerSample) -> None:
        self._minutes.append(sample)
        if len(self._minutes) == 60:
            count = len(self._minutes)
            self._hours.append(
                BrokerSample(
                    sum(s.cpu_percent for s in self._minutes) / count,
                    sum(s.bytes_in_per_second for s in self._minutes) / count,
                    sum(s.bytes_out_per_second for s in self._minutes) / count,
                    sum(s.throttle_ms for s in self._minutes) / count,
                )
            )
            self._minutes = []

    def choose(self, minute: int, shape: _Shape) -> _Shape | None:
        if minute % 60 or not self._hours:
            return None
        decision = decide(
            ClusterShape(
                instance_type=shape.instance_type,
                broker_count=shape.count,
                zone_count=self._trace.zone_count,
                partitions_per_broker=-(-self._trace.partitions // shape.count),
                rebalancing_active=self._trace.rebalancing_active,
                scale_out_opted_in=self._trace.scale_out_opted_in,
            ),
            # Brokers share the load equally: one series stands for each.
            {"1": self._hours},
            self._settings,
        )
        if decision.action is BrokerAction.NO_CHANGE:
            return None
        if not decision.carried_out:
            self.recommendations += 1
            return None
        return _Shape(decision.target_type, decision.target_count)


class _ThresholdRule:
    """CPU above the threshold for 15 minutes: a size up; below the quiet level: a size down."""

    def __init__(self, trace: BrokerTrace, settings: BrokerPolicySettings) -> None:
        self._trace = trace
        self._settings = settings
        self._hot = self._cold = 0  # consecutive minutes above the threshold / below quiet
        self.recommendations = 0

    def reset(self) -> None:
        self._hot = self._cold = 0

    def record(self, minute: int, sample: BrokerSample) -> None:
        cpu = sample.cpu_percent
        self._hot = self._hot + 1 if cpu > self._settings.cpu_threshold_percent else 0
        self._cold = self._cold + 1 if cpu < self._settings.quiet_cpu_percent else 0

    def choose(self, minute: int, shape: _Shape) -> _Shape | None:
        if self._hot >= RULE_MINUTES:
            target = larger(shape.instance_type)
        elif self._cold >= RULE_MINUTES:
            target = smaller(shape.instance_type)
            limits = None if target is None else partition_limits(target)
            if limits is not None and self._trace.partitions / shape.count > limits.maximum:
                return None  # MSK refuses the move
        else:
            return None
        if target is None or type_change_refusal(shape.instance_type, target) is not None:
            return None
        return _Shape(target, shape.count)


def run_broker_suite(*, cooldown_hours: float = 6.0) -> list[BrokerRun]:
    """Every shipped broker trace under both policies."""
    return [
        simulate_brokers(trace, policy, cooldown_hours=cooldown_hours)
        for trace in shipped_broker_traces()
        for policy in BROKER_POLICIES
    ]


def broker_comparison_table(runs: list[BrokerRun]) -> str:
    """A Markdown table of `runs`; autopilot rows compare their cost with the rule's."""
    rule_cost = {run.trace: run.cost for run in runs if run.policy == "threshold-rule"}
    lines = [
        "| trace | policy | actions | recommended | min > threshold | min saturated "
        "| peak CPU % | broker-hours | cost USD | vs rule | final shape |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        baseline = rule_cost.get(run.trace)
        versus = (
            f"{100 * (run.cost / baseline - 1):+.1f} %"
            if baseline and run.policy != "threshold-rule"
            else ""
        )
        lines.append(
            f"| {run.trace} | {run.policy} | {len(run.actions)} | {run.recommendations} "
            f"| {run.minutes_over_threshold} | {run.minutes_saturated} "
            f"| {run.peak_cpu_percent:.1f} | {run.broker_hours:,.0f} | {run.cost:,.0f} "
            f"| {versus} | {run.final_shape} |"
        )
    return "\n".join(lines)
