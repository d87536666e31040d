"""Charts of what `msk-autopilot simulate` replays (`--plot FILE`, PNG or SVG by extension).

One chart per trace, both policies on it: utilization (left axis, solid) and provisioned size
(right axis, dashed) over time. Broker traces show CPU % against the threshold and provisioned
vCPUs beside the demand; storage traces show the fullest broker's disk % and the volume size,
with the minutes a disk was full marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from msk_autopilot_local.errors import LocalToolError
from msk_autopilot_local.simulate.broker_simulator import BrokerRun

__all__ = ["FORMATS", "StorageTimeline", "check_plot_path", "write_plot"]

FORMATS = (".png", ".svg")
_MAX_POINTS = 2000  # per line: enough for a readable curve, small enough for an SVG
_COLOURS = {"autopilot": "tab:blue", "msk-native": "tab:orange", "threshold-rule": "tab:orange"}


@dataclass
class StorageTimeline:
    """Per minute of a storage simulation: the fullest broker, the volume, full disks."""

    trace: str
    policy: str
    hours: list[float] = field(default_factory=list)
    percent: list[float] = field(default_factory=list)
    volume_gib: list[int] = field(default_factory=list)
    full_hours: list[float] = field(default_factory=list)

    def observe(self, minute: int, highest_percent: float, volume_gib: int, full: bool) -> None:
        self.hours.append(minute / 60)
        self.percent.append(highest_percent)
        self.volume_gib.append(volume_gib)
        if full:
            self.full_hours.append(minute / 60)


def write_plot(
    path: Path,
    *,
    broker_runs: Sequence[BrokerRun] = (),
    storage_timelines: Sequence[StorageTimeline] = (),
    cpu_threshold_percent: float = 60.0,
) -> None:
    """Draw one chart per trace into `path` (.png or .svg)."""
    check_plot_path(path)
    broker_traces = _by_trace(broker_runs)
    storage_traces = _by_trace(storage_timelines)
    charts = len(broker_traces) + len(storage_traces)
    figure = Figure(figsize=(11, 3.2 * charts), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(charts, 1, squeeze=False)[:, 0]
    for ax, (trace, runs) in zip(axes, broker_traces.items(), strict=False):
        _broker_chart(ax, trace, runs, cpu_threshold_percent)
    for ax, (trace, timelines) in zip(
        axes[len(broker_traces) :], storage_traces.items(), strict=True
    ):
        _storage_chart(ax, trace, timelines)
    try:
        figure.savefig(path)
    except OSError as error:
        raise LocalToolError(f"cannot write {path}: {error.strerror}") from None


def check_plot_path(path: Path) -> None:
    """Refuse a file name whose format the chart cannot be written in, before any work."""
    if path.suffix.lower() not in FORMATS:
        raise LocalToolError(f"--plot {path}: the file name must end in .png or .svg")


def _by_trace[T: (BrokerRun, StorageTimeline)](items: Sequence[T]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = {}
    for item in items:
        grouped.setdefault(item.trace, []).append(item)
    return grouped


def _broker_chart(ax: Axes, trace: str, runs: list[BrokerRun], threshold: float) -> None:
    size = ax.twinx()
    for run in runs:
        hours = [minute / 60 for minute in range(len(run.cpu_percent))]
        colour = _COLOURS.get(run.policy)
        ax.plot(*_thin(hours, run.cpu_percent), color=colour, lw=1, label=f"{run.policy} CPU %")
        size.step(
            *_thin(hours, run.provisioned_vcpus),
            where="post",
            color=colour,
            ls="--",
            label=f"{run.policy} vCPUs",
        )
    first = runs[0]
    hours = [minute / 60 for minute in range(len(first.demand_vcpus))]
    size.plot(*_thin(hours, first.demand_vcpus), color="grey", lw=0.8, label="demand vCPUs")
    ax.axhline(threshold, color="red", lw=0.8, ls=":", label=f"{threshold:g} % threshold")
    ax.set_ylim(0, 105)
    ax.set_ylabel("CPU (user + system) %")
    size.set_ylabel("vCPUs provisioned")
    size.set_ylim(bottom=0)
    _finish(ax, size, trace)


def _storage_chart(ax: Axes, trace: str, timelines: list[StorageTimeline]) -> None:
    size = ax.twinx()
    for timeline in timelines:
        colour = _COLOURS.get(timeline.policy)
        ax.plot(
            *_thin(timeline.hours, timeline.percent),
            color=colour,
            lw=1,
            label=f"{timeline.policy} disk %",
        )
        size.step(
            *_thin(timeline.hours, timeline.volume_gib),
            where="post",
            color=colour,
            ls="--",
            label=f"{timeline.policy} GiB per broker",
        )
        if timeline.full_hours:
            ax.plot(
                timeline.full_hours,
                [100.0] * len(timeline.full_hours),
                "|",
                color="red",
                ms=10,
                label=f"{timeline.policy}: disk full ({len(timeline.full_hours)} min)",
            )
    ax.set_ylim(0, 105)
    ax.set_ylabel("fullest broker's disk %")
    size.set_ylabel("volume GiB per broker")
    size.set_ylim(bottom=0)
    _finish(ax, size, trace)


def _finish(ax: Axes, size: Axes, trace: str) -> None:
    ax.set_title(trace)
    ax.set_xlabel("hours")
    ax.margins(x=0)
    lines, labels = ax.get_legend_handles_labels()
    more_lines, more_labels = size.get_legend_handles_labels()
    ax.legend(
        lines + more_lines,
        labels + more_labels,
        loc="upper left",
        bbox_to_anchor=(1.07, 1),
        fontsize="small",
    )


def _thin[V: (float, int)](
    hours: Sequence[float], values: Sequence[V]
) -> tuple[Sequence[float], Sequence[V]]:
    """Every n-th point, so a month of minutes draws as at most `_MAX_POINTS` points."""
    step = max(1, len(hours) // _MAX_POINTS)
    return hours[::step], values[::step]
