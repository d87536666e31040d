"""`msk-autopilot demo`: the autopilot end to end on this machine, with no AWS account.

It grows as the functions do: today it cold-starts every function on every sample event it
accepts (events/), exactly as Lambda would deliver them, and prints what each one decided.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from msk_autopilot_local.invoke import invoke_function
from msk_autopilot_local.stack import LocalStack, find_template

__all__ = ["register", "run_demo"]

# Which sample events reach which function in AWS (the template's triggers).
TRIGGERS = {
    "storage_scaler": ("alarm_state_change", "scheduled_event", "scale_request"),
    "config_rotator": ("parameter_store_change", "cloudtrail_update_monitoring", "scheduled_event"),
    "scram_rotator": ("secret_rotation_create",),
    "security_auditor": ("scheduled_event", "cloudtrail_update_monitoring", "scheduler_event"),
    "record_consumer": ("msk_records",),
}


# The demo prints its own summary; the functions' JSON logs and EMF lines would drown it.
_QUIET = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}


def run_demo(stack: LocalStack) -> list[tuple[str, str, str, str]]:
    """Invoke every function on its sample events; returns (function, event, status, reason)."""
    rows = []
    # Local credentials: nothing here may reach a real AWS account.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    for function, samples in TRIGGERS.items():
        for sample in samples:
            event = json.loads((stack.root / "events" / f"{sample}.json").read_text())
            result = invoke_function(function, event, stack=stack, env_overrides=_QUIET)
            rows.append((function, sample, result["status"], result["reason"]))
    return rows


def _run(args: argparse.Namespace) -> int:
    stack = LocalStack(Path(args.template) if args.template else find_template())
    rows = run_demo(stack)
    print("\nmsk-autopilot demo: every function on the events that trigger it\n")
    print(f"{'function':<18} {'event':<30} {'status':<9} reason")
    for function, sample, status, reason in rows:
        print(f"{function:<18} {sample:<30} {status:<9} {reason}")
    rejected = [row for row in rows if row[2] == "rejected"]
    print(f"\n{len(rows)} invocations, {len(rejected)} rejected")
    return 1 if rejected else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="run the autopilot end to end on this machine")
    parser.add_argument("--template", "-t", help="SAM template (default: nearest template.yaml)")
    parser.set_defaults(func=_run)
