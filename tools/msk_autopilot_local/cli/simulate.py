"""`msk-autopilot simulate`: replay a disk-usage trace through a storage scaling policy.

    msk-autopilot simulate --trace FILE [--policy autopilot|msk-native] [--target PCT]
                           [--cooldown-hours H] [--json]
    msk-autopilot simulate --suite [--target PCT] [--json]
                           every shipped trace, both policies, 6 h and 24 h cool-downs: the
                           autopilot's GiB-hours, operations and full minutes against MSK's
    msk-autopilot simulate --sweep [--target PCT]
                           the suite for each grow-at threshold: the trade-off the default takes

The trace format and the two policies are described in `msk_autopilot_local.simulate`; the
shipped traces are in tools/msk_autopilot_local/simulate/traces/.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import asdict
from pathlib import Path

from msk_autopilot_local.cli.options import Subparsers, add_command
from msk_autopilot_local.errors import LocalToolError
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
from msk_autopilot_local.simulate.trace import load_trace

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
        help="cool-down after each storage change, for both policies, with --trace (6, >= 6)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
