"""Disk-usage traces for `msk-autopilot simulate`: the CSV format, its parser, the shipped suite.

A trace describes what is written to each broker's disks, not how full they are: the simulator
derives usage from ingest and retention, so both policies face the same load and a full disk
refuses writes instead of growing past its size.

Format: `#` header lines (`# key: value`), then CSV with a header row.

    # description: a 10x ingest burst on a steady cluster
    # volume_gib: 1000          initial EBS volume per broker (required)
    # duration_hours: 240       length of the simulation (required)
    # history_hours: 72         how long the first row's ingest had been running before hour 0
    #                           (optional; default: its retention, i.e. a steady state)
    # held_out: true            the policy's defaults were not tuned on this trace (optional)
    hour,retention_hours,broker_1,broker_2,broker_3
    0,72,5.0,5.0,5.5
    48,72,50.0,50.0,55.0

- `hour`: when the row takes effect; the first row is at 0, hours increase strictly, and a row
  holds until the next one (the last until `duration_hours`). Fractions are rounded to minutes.
- `retention_hours`: the topics' retention (cluster-wide) from that hour on.
- `broker_<id>`: GiB per hour written to that broker's data logs (its leader and follower
  replicas), one column per broker.

Disk usage per broker is the data written during the last retention window, at most the volume
size: when the disk is full, writes are refused (and never stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from msk_autopilot.storage.policy import MAX_VOLUME_GIB
from msk_autopilot_local.errors import LocalToolError
from msk_autopilot_local.simulate import trace_file

__all__ = ["Trace", "TraceError", "TraceSegment", "load_trace", "parse_trace", "shipped_traces"]

_BROKER_PREFIX = "broker_"


class TraceError(LocalToolError, ValueError):
    """The trace file is not in the documented format."""


@dataclass(frozen=True)
class TraceSegment:
    """One CSV row: a load that holds from `start_minute` until the next segment."""

    start_minute: int
    retention_minutes: int
    ingest_gib_per_hour: tuple[float, ...]  # per broker, in `Trace.broker_ids` order


@dataclass(frozen=True)
class Trace:
    name: str
    description: str
    volume_gib: int
    duration_minutes: int
    history_minutes: int
    broker_ids: tuple[str, ...]
    segments: tuple[TraceSegment, ...]
    held_out: bool = False  # kept out of tuning, to check the policy on loads it was not fit to


def load_trace(path: Path) -> Trace:
    return trace_file.load(path, "trace", TraceError, parse_trace)


def shipped_traces() -> list[Trace]:
    """The traces in the repository's suite, by name."""
    return trace_file.shipped("traces", parse_trace, key=lambda trace: trace.name)


def parse_trace(text: str, name: str) -> Trace:
    header, table = _read(text, name)
    columns = [column.strip() for column in table[0]]
    if columns[:2] != ["hour", "retention_hours"] or len(columns) < 3:
        raise TraceError(f"trace {name}: columns must be hour,retention_hours,broker_<id>,...")
    if not all(c.startswith(_BROKER_PREFIX) and c != _BROKER_PREFIX for c in columns[2:]):
        raise TraceError(f"trace {name}: broker columns must be named broker_<id>")
    volume_gib = _whole(name, "volume_gib", header.get("volume_gib"))
    if not 1 <= volume_gib <= MAX_VOLUME_GIB:
        raise TraceError(f"trace {name}: volume_gib must be between 1 and {MAX_VOLUME_GIB}")
    duration = _minutes(name, "duration_hours", header.get("duration_hours"))
    segments: list[TraceSegment] = []
    for number, row in enumerate(table[1:], start=2):
        segment = _segment(name, number, columns, row)
        if segment.start_minute <= segments[-1].start_minute if segments else segment.start_minute:
            raise TraceError(f"trace {name}: row {number}: hours must start at 0 and increase")
        segments.append(segment)
    if segments[-1].start_minute >= duration:
        raise TraceError(f"trace {name}: every row must start before duration_hours")
    history = header.get("history_hours")
    held_out = header.get("held_out", "false")
    if held_out not in {"true", "false"}:
        raise TraceError(f"trace {name}: held_out must be true or false, got {held_out!r}")
    return Trace(
        name=name,
        description=header.get("description", ""),
        volume_gib=volume_gib,
        duration_minutes=duration,
        history_minutes=(
            segments[0].retention_minutes
            if history is None
            else _minutes(name, "history_hours", history, allow_zero=True)
        ),
        broker_ids=tuple(c.removeprefix(_BROKER_PREFIX) for c in columns[2:]),
        segments=tuple(segments),
        held_out=held_out == "true",
    )


def _read(text: str, name: str) -> tuple[dict[str, str], list[list[str]]]:
    header, rows = trace_file.read_sections(text)
    if len(rows) < 2:
        raise TraceError(f"trace {name}: needs a header row and at least one data row")
    return header, rows


def _segment(name: str, number: int, columns: list[str], row: list[str]) -> TraceSegment:
    if len(row) != len(columns):
        raise TraceError(
            f"trace {name}: row {number} has {len(row)} values, expected {len(columns)}"
        )
    ingest = tuple(
        _number(name, f"row {number} {column}", value)
        for column, value in zip(columns[2:], row[2:], strict=True)
    )
    if any(rate < 0 for rate in ingest):
        raise TraceError(f"trace {name}: row {number} has a negative ingest rate")
    return TraceSegment(
        start_minute=_minutes(name, f"row {number} hour", row[0], allow_zero=True),
        retention_minutes=_minutes(name, f"row {number} retention_hours", row[1]),
        ingest_gib_per_hour=ingest,
    )


def _number(trace: str, what: str, raw: str | None) -> float:
    return trace_file.TraceFields("trace", trace, TraceError).number(what, raw)


def _whole(trace: str, what: str, raw: str | None) -> int:
    return trace_file.TraceFields("trace", trace, TraceError).whole(what, raw)


def _minutes(trace: str, what: str, raw: str | None, *, allow_zero: bool = False) -> int:
    minutes = round(_number(trace, what, raw) * 60)
    if minutes < 0 or (minutes == 0 and not allow_zero):
        raise TraceError(f"trace {trace}: {what} must be {'>= 0' if allow_zero else '> 0'}")
    return minutes
