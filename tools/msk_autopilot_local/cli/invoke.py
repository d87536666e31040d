"""`msk-autopilot invoke`: run a function's handler in this process, as Lambda would.

For people without Docker (which `sam local invoke` needs). The environment is the template's
Globals and function variables, resolved for this machine, overridden by an `--env-vars` file in
`sam local invoke`'s format: `{"Parameters": {...}}` applies to every function,
`{"<LogicalId>": {...}}` to one. AWS is whatever the environment points at: start
`msk-autopilot local-aws` and set AWS_ENDPOINT_URL to use the local account. The sample events
in events/ name the clusters of examples/fleet.yaml; `--now` makes an event's time current, since
the functions read metrics as of the event's time.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from msk_autopilot_local.cli.options import (
    Subparsers,
    add_command,
    add_template_option,
    deployed_stack,
)
from msk_autopilot_local.documents import read_document
from msk_autopilot_local.errors import LocalToolError, unreachable_aws
from msk_autopilot_local.local_lambda import emulated_now, invoke_function, read_env_vars_file
from msk_autopilot_local.template.resolve import find_template, function_in_template

__all__ = ["register"]


def _delivered_now(event: object) -> object:
    """The event with its `time` set to now (the emulated account's, when AWS_ENDPOINT_URL points
    at one), as if EventBridge delivered it this minute."""
    if not isinstance(event, dict) or "time" not in event:
        raise LocalToolError("--now: this event has no 'time' (only EventBridge events have one)")
    return {**event, "time": emulated_now().strftime("%Y-%m-%dT%H:%M:%SZ")}


def _run(args: argparse.Namespace) -> int:
    event = read_document(args.event, "event file")
    if args.now:
        event = _delivered_now(event)
    function_in_template(args.template or find_template(), args.function)  # a typo, before AWS
    stack = deployed_stack(args)
    logical_id = stack.function_logical_id(args.function)
    overrides = read_env_vars_file(args.env_vars, logical_id) if args.env_vars else {}
    try:
        result = invoke_function(args.function, event, env_overrides=overrides, stack=stack)
    except LocalToolError:
        raise
    except Exception as error:  # noqa: BLE001  the handler raised: show it as Lambda would
        cause = unreachable_aws(error)
        if cause:
            print(f"error: {cause}", file=sys.stderr)
        print(json.dumps({"errorType": type(error).__name__, "stackTrace": traceback.format_exc()}))
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "invoke",
        help="run a function's handler locally on an event (no Docker needed)",
        description=__doc__,
        run=_run,
    )
    parser.add_argument("function", help="folder name (storage_scaler) or logical ID")
    parser.add_argument(
        "--event", "-e", type=Path, required=True, help="JSON event file (see events/)"
    )
    parser.add_argument(
        "--env-vars", "-n", type=Path, help="JSON overrides, sam local invoke's format"
    )
    parser.add_argument(
        "--now",
        action="store_true",
        help="set the event's time to now (the functions read metrics as of the event's time)",
    )
    add_template_option(parser)
