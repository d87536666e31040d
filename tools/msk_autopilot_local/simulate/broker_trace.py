"""CPU and throughput traces for `msk-autopilot simulate --broker-trace`: format, parser, suite.

A broker trace describes the demand on a cluster, not how busy its brokers are: the simulator
derives each broker's CPU and throughput from the demand and the size and count provisioned at
the time, so both policies face the same load.

Format: `#` header lines (`# key: value`), then CSV with a header row.

    # description: a daily cycle peaking at 75 % CPU
    # instance_type: kafka.m5.xlarge   starting broker size (required)
    # broker_count: 3                  starting broker count (required)
    # zone_count: 3                    Availability Zones (default 3)
    # duration_hours: 336              length of the simulation (required)
    # partitions: 1500                 replicas in the cluster, leaders and followers (default 0)
    # rebalancing: ACTIVE              Express intelligent rebalancing (ACTIVE or PAUSED)
    # scale_out_opt_in: true           the cluster opted in to Standard scale-out (default false)
    hour,cpu_vcpus,mb_in,mb_out
    0,3.0,4,8
    12,9.0,12,24

- `hour`: the first row is at 0, hours increase strictly; values are linear between rows and
  the last row holds until `duration_hours`. Fractions are rounded to minutes.
- `cpu_vcpus`: vCPUs the cluster's work keeps busy (user + system), spread evenly over brokers.
- `mb_in`, `mb_out`: the cluster's BytesInPerSec and BytesOutPerSec in MB/s, spread evenly.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from msk_autopilot.capacity.sizes import INSTANCE_TYPES, is_express
from msk_autopilot_local.errors import LocalToolError
from msk_autopilot_local.simulate import trace_file

__all__ = [
    "BrokerTrace",
    "BrokerTraceError",
    "Demand",
    "load_broker_trace",
    "parse_broker_trace",
    "shipped_broker_traces",
]

_COLUMNS = ["hour", "cpu_vcpus", "mb_in", "mb_out"]
_REBALANCING = {"ACTIVE": True, "PAUSED": False}
_BOOLEANS = {"true": True, "false": False}


class BrokerTraceError(LocalToolError, ValueError):
    """The broker trace file is not in the documented format."""


@dataclass(frozen=True)
class Demand:
    """The cluster's demand at one point in time."""

    cpu_vcpus: float
    mb_in: float
    mb_out: float


@dataclass(frozen=True)
class BrokerTrace:
    name: str
    description: str
    instance_type: str
    broker_count: int
    zone_count: int
    duration_minutes: int
    partitions: int
    rebalancing_active: bool
    scale_out_opted_in: bool
    points: tuple[tuple[int, Demand], ...]  # (minute, demand), minutes increasing from 0

    def demand(self, minute: int) -> Demand:
        """The demand at `minute`, linear between the points."""
        index = bisect_right(self.points, minute, key=lambda point: point[0]) - 1
        if index + 1 >= len(self.points):
            return self.points[-1][1]
        (start, before), (end, after) = self.points[index], self.points[index + 1]
        share = (minute - start) / (end - start)
        return Demand(
            before.cpu_vcpus + share * (after.cpu_vcpus - before.cpu_vcpus),
            before.mb_in + share * (after.mb_in - before.mb_in),
            before.mb_out + share * (after.mb_out - before.mb_out),
        )


def load_broker_trace(path: Path) -> BrokerTrace:
    return trace_file.load(path, "broker trace", BrokerTraceError, parse_broker_trace)


def shipped_broker_traces() -> list[BrokerTrace]:
    """The repository's CPU and throughput traces, by name."""
    return trace_file.shipped("broker_traces", parse_broker_trace, key=lambda trace: trace.name)


def parse_broker_trace(text: str, name: str) -> BrokerTrace:
    header, rows = trace_file.read_sections(text)
    if not rows or [column.strip() for column in rows[0]] != _COLUMNS or len(rows) < 2:
        raise BrokerTraceError(
            f"broker trace {name}: needs the header row {','.join(_COLUMNS)} and data rows"
        )
    instance_type = header.get("instance_type", "")
    if instance_type not in INSTANCE_TYPES:
        raise BrokerTraceError(f"broker trace {name}: instance_type {instance_type!r} is unknown")
    zones = _whole(name, "zone_count", header.get("zone_count", "3"))
    count = _whole(name, "broker_count", header.get("broker_count"))
    if zones < 1 or count < zones or count % zones:
        raise BrokerTraceError(
            f"broker trace {name}: broker_count must be a multiple of zone_count (>= 1)"
        )
    points = [_point(name, number, row) for number, row in enumerate(rows[1:], start=2)]
    minutes = [minute for minute, _ in points]
    if minutes[0] != 0 or any(b <= a for a, b in itertools.pairwise(minutes)):
        raise BrokerTraceError(f"broker trace {name}: hours must start at 0 and increase")
    duration = round(_number(name, "duration_hours", header.get("duration_hours")) * 60)
    if duration <= minutes[-1]:
        raise BrokerTraceError(f"broker trace {name}: every row must start before duration_hours")
    rebalancing = header.get("rebalancing", "PAUSED").upper()
    opt_in = header.get("scale_out_opt_in", "false").lower()
    if rebalancing not in _REBALANCING or opt_in not in _BOOLEANS:
        raise BrokerTraceError(
            f"broker trace {name}: rebalancing is ACTIVE or PAUSED, scale_out_opt_in true or false"
        )
    if _REBALANCING[rebalancing] and not is_express(instance_type):
        raise BrokerTraceError(f"broker trace {name}: rebalancing exists on Express only")
    return BrokerTrace(
        name=name,
        description=header.get("description", ""),
        instance_type=instance_type,
        broker_count=count,
        zone_count=zones,
        duration_minutes=duration,
        partitions=_whole(name, "partitions", header.get("partitions", "0")),
        rebalancing_active=_REBALANCING[rebalancing],
        scale_out_opted_in=_BOOLEANS[opt_in],
        points=tuple(points),
    )


def _point(name: str, number: int, row: list[str]) -> tuple[int, Demand]:
    if len(row) != len(_COLUMNS):
        raise BrokerTraceError(f"broker trace {name}: row {number} needs {len(_COLUMNS)} values")
    hour, cpu, mb_in, mb_out = (
        _number(name, f"row {number} {column}", value)
        for column, value in zip(_COLUMNS, row, strict=True)
    )
    if min(hour, cpu, mb_in, mb_out) < 0:
        raise BrokerTraceError(f"broker trace {name}: row {number} has a negative value")
    return round(hour * 60), Demand(cpu, mb_in, mb_out)


def _number(name: str, what: str, raw: str | None) -> float:
    return trace_file.TraceFields("broker trace", name, BrokerTraceError).number(what, raw)


def _whole(name: str, what: str, raw: str | None) -> int:
    return trace_file.TraceFields("broker trace", name, BrokerTraceError).whole(what, raw)
