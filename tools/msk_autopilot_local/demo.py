"""`msk-autopilot demo`: the autopilot end to end on this machine, with no AWS account.

Everything runs against `local-aws` started in this process (never a real account): a fleet is
seeded, a disk fills on one cluster, and every function is cold-started on the events that
trigger it (events/), exactly as Lambda would deliver them; the demo prints what each decided.
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import timedelta
from pathlib import Path

from msk_autopilot_local.invoke import invoke_function
from msk_autopilot_local.local_aws import local_aws, pointed_at
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


FLEET = {
    "clusters": [
        {
            "name": "orders",
            "brokers": 3,
            "volumeSizeGiB": 1000,
            "subnets": ["subnet-a", "subnet-b", "subnet-c"],
            "tags": {"msk-autopilot:managed": "true"},
        }
    ]
}


def run_demo(stack: LocalStack) -> list[tuple[str, str, str, str]]:
    """Invoke every function on its sample events; returns (function, event, status, reason)."""
    from msk_autopilot_local.emulator import control, put_linear_series  # noqa: PLC0415

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server's access log
    rows = []
    with local_aws(stack, fleet=FLEET) as account, pointed_at(account):
        now = control.clock.now()
        put_linear_series(  # the orders disks fill at 5 % an hour
            account.client("cloudwatch"),
            "orders",
            broker_ids=[1, 2, 3],
            start=now - timedelta(hours=6),
            end=now,
            start_value=40,
            end_value=70,
            period_seconds=300,
        )
        for function, samples in TRIGGERS.items():
            for sample in samples:
                event = json.loads((stack.root / "events" / f"{sample}.json").read_text())
                if event.get("detail-type") == "Scheduled Event":
                    event["time"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
                result = invoke_function(function, event, stack=stack, env_overrides=_QUIET)
                rows.append((function, sample, *_summary(result)))
    return rows


def _summary(result: dict[str, object]) -> tuple[str, str]:
    """(status, reason) of an outcome, or of a record batch's partial batch response."""
    if "batchItemFailures" in result:
        failures = result["batchItemFailures"]
        assert isinstance(failures, list)
        if not failures:
            return "acted", "every record archived or quarantined"
        return "partial", f"{len(failures)} partition(s) to be redelivered"
    return str(result["status"]), str(result["reason"])


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
