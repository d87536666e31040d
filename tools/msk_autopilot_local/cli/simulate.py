"""`msk-autopilot simulate`: replay a disk-usage trace through a storage scaling policy, or a
CPU and throughput trace through the broker policy.

    msk-autopilot simulate --trace FILE [--policy autopilot|msk-native] [--target PCT]
                           [--cooldown-hours H] [--json] [--plot FILE]
    msk-autopilot simulate --suite [--target PCT] [--json] [--plot FILE]
                           every shipped trace, both policies, 6 h and 24 h cool-downs: the
                           autopilot's GiB-hours, operations and full minutes against MSK's
    msk-autopilot simulate --sweep [--target PCT]
                           the suite for each grow-at threshold: the trade-off the default takes
    msk-autopilot simulate --broker-trace FILE [--cooldown-hours H] [--json] [--plot FILE]
    msk-autopilot simulate --broker-suite [...]   every shipped broker trace, both policies

The trace format and the two policies are described in `msk_autopilot_local.simulate`; the
shipped traces are in tools/msk_autopilot_local/simulate/traces/. Broker traces (format in
`msk_autopilot_local.simulate.broker_trace`, shipped in simulate/broker_traces/) run through the
broker policy and a plain threshold rule (`msk_autopilot_local.simulate.broker_simulator`).
`--plot FILE` (.png or .svg) draws utilization and provisioned size over time, one chart per
trace with both policies on it.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import asdict
from pathlib import Path

from msk_autopilot_local.cli.options import Subparsers, add_command
from msk_autopilot_local.errors import LocalToolError
from msk_autopilot_local.simulate.broker_simulator import (
    BROKER_POLICIES,
    broker_comparison_table,
    simulate_brokers,
)
from msk_autopilot_local.simulate.broker_trace import load_broker_trace, shipped_broker_traces
from msk_autopilot_local.simulate.simulator import (
    POLICIES,
    PolicyName,
    comparison_table,
    efficiency,
    efficiency_table,
    run_suite,
    simulate,
    sweep,
)
from msk_autopilot_local.simulate.trace import Trace, load_trace, shipped_traces

__all__ = ["register"]

# The storage policy names its settings by field; a user of this command sets options.
_OPTIONS = {
    "target_percent": "--target",
    "cooldown_hours": "--cooldown-hours",
    "grow_at_percent": "the grow-at threshold",
    "trigger_percent": "the disk alarm threshold",
}
_OPTION_NAMES = re.compile(r"\b(?:" + "|".join(_OPTIONS) + r")\b")
_SWEEP_GROW_AT = (60.0, 65.0, 70.0, 75.0, 80.0)


def _run(args: argparse.Namespace) -> int:
    if args.plot:
        # matplotlib loads only for --plot
        from msk_autopilot_local.simulate.plot import check_plot_path  # noqa: PLC0415

        check_plot_path(args.plot)
    if args.broker_trace or args.broker_suite:
        return _run_brokers(args)
    policies: tuple[PolicyName, ...] = (args.policy,) if args.policy else POLICIES
    try:
        if args.sweep:
            print(sweep(_SWEEP_GROW_AT, target_percent=args.target))
            return 0
        if args.suite:
            results = run_suite(policies=policies, target_percent=args.target)
        else:
            trace = load_trace(args.trace)
            results = [
                simulate(
                    trace, policy, target_percent=args.target, cooldown_hours=args.cooldown_hours
                )
                for policy in policies
            ]
    except LocalToolError:
        raise
    except ValueError as error:  # the policy's settings out of range, named as options here
        raise LocalToolError(_OPTION_NAMES.sub(lambda m: _OPTIONS[m[0]], str(error))) from None
    if args.json:
        print(json.dumps([asdict(result) for result in results], indent=2))
    elif args.suite and len(policies) == len(POLICIES):
        print(efficiency_table(efficiency(results)))
    else:
        print(comparison_table(results))
    if args.plot:
        traces = shipped_traces() if args.suite else [load_trace(args.trace)]
        options = {"target_percent": args.target, "cooldown_hours": args.cooldown_hours}
        _plot_storage(args.plot, traces, policies, options)
    return 0


def _plot_storage(
    path: Path, traces: list[Trace], policies: tuple[PolicyName, ...], options: dict[str, float]
) -> None:
    from msk_autopilot_local.simulate.plot import StorageTimeline, write_plot  # noqa: PLC0415

    timelines = []
    for trace in traces:
        for policy in policies:
            timeline = StorageTimeline(trace.name, policy)
            simulate(trace, policy, **options, observe=timeline.observe)
            timelines.append(timeline)
    write_plot(path, storage_timelines=timelines)


def _run_brokers(args: argparse.Namespace) -> int:
    if args.policy:
        raise LocalToolError(
            "--policy chooses a storage policy; broker traces always run the broker policy "
            "beside the threshold rule"
        )
    traces = (
        [load_broker_trace(args.broker_trace)] if args.broker_trace else shipped_broker_traces()
    )
    runs = [
        simulate_brokers(trace, policy, cooldown_hours=args.cooldown_hours)
        for trace in traces
        for policy in BROKER_POLICIES
    ]
    if args.json:
        print(json.dumps([run.figures() for run in runs], indent=2))
    else:
        print(broker_comparison_table(runs))
    if args.plot:
        from msk_autopilot_local.simulate.plot import write_plot  # noqa: PLC0415

        write_plot(args.plot, broker_runs=runs)
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "simulate",
        help="replay disk-usage traces through the storage policy or MSK's auto scaling",
        description=__doc__,
        run=_run,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--trace", type=Path, metavar="FILE", help="a trace CSV to replay")
    source.add_argument(
        "--suite",
        action="store_true",
        help="replay every shipped trace with 6 h and 24 h cool-downs and compare",
    )
    source.add_argument(
        "--sweep",
        action="store_true",
        help="the suite for each grow-at threshold (60-80 %%): GiB-hours against safety",
    )
    source.add_argument(
        "--broker-trace", type=Path, metavar="FILE", help="a CPU and throughput trace CSV"
    )
    source.add_argument(
        "--broker-suite", action="store_true", help="replay every shipped broker trace"
    )
    parser.add_argument(
        "--policy", choices=POLICIES, help="one policy only (default: both, compared)"
    )
    parser.add_argument(
        "--target", type=float, default=60.0, metavar="PCT", help="target utilization (60)"
    )
    parser.add_argument(
        "--cooldown-hours",
        type=float,
        default=6.0,
        metavar="H",
        help="cool-down after each change, both policies, --trace or --broker-trace (6, >= 6)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--plot", type=Path, metavar="FILE", help="also draw the runs into FILE (.png or .svg)"
    )
