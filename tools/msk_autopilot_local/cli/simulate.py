"""`msk-autopilot simulate`: replay a disk-usage trace through a storage scaling policy.

    msk-autopilot simulate --trace FILE [--policy autopilot|msk-native] [--target PCT]
                           [--cooldown-hours H] [--json]
    msk-autopilot simulate --suite [...]     every shipped trace, both policies, one table

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
    run_suite,
    simulate,
)
from msk_autopilot_local.simulate.trace import load_trace

__all__ = ["register"]

# The storage policy names its settings by field; a user of this command sets options.
_OPTIONS = {
    "target_percent": "--target",
    "cooldown_hours": "--cooldown-hours",
    "trigger_percent": "the disk alarm threshold",
}
_OPTION_NAMES = re.compile(r"\b(?:" + "|".join(_OPTIONS) + r")\b")


def _run(args: argparse.Namespace) -> int:
    policies: tuple[PolicyName, ...] = (args.policy,) if args.policy else POLICIES
    options = {"target_percent": args.target, "cooldown_hours": args.cooldown_hours}
    try:
        if args.suite:
            results = run_suite(policies=policies, **options)
        else:
            trace = load_trace(args.trace)
            results = [simulate(trace, policy, **options) for policy in policies]
    except LocalToolError:
        raise
    except ValueError as error:  # the policy's settings out of range, named as options here
        raise LocalToolError(_OPTION_NAMES.sub(lambda m: _OPTIONS[m[0]], str(error))) from None
    if args.json:
        print(json.dumps([asdict(result) for result in results], indent=2))
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
        "--suite", action="store_true", help="replay every shipped trace and compare"
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
        help="cool-down after each storage change, for both policies (6, at least 6)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
