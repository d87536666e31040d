"""`msk-autopilot plan-storage`: the decision the storage scaler would take now, without acting.

Reads the same settings the function gets from the template (overridable with `--env-vars` or
environment variables of the same names) and the live cluster and CloudWatch data of whatever
account the environment points at: AWS, or `msk-autopilot local-aws` via AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from msk_autopilot_local.cli.options import (
    Subparsers,
    add_command,
    add_template_option,
    aws_region,
    cluster_arn,
    function_settings,
)
from msk_autopilot_local.local_lambda import emulated_now

__all__ = ["register"]

_FUNCTION = "StorageScalerFunction"


def _rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    from msk_autopilot.aws import ClientFactory  # noqa: PLC0415  keeps --help fast
    from msk_autopilot.settings import StorageScalerSettings  # noqa: PLC0415
    from msk_autopilot.storage.scaler import build_storage_scaler  # noqa: PLC0415

    settings = function_settings(args, _FUNCTION, StorageScalerSettings, "storage scaler")
    scaler = build_storage_scaler(settings, ClientFactory.for_settings(settings), idempotent=False)
    now = emulated_now()
    if args.cluster:
        plans = [scaler.plan(args.cluster, now=now)]
    else:
        plans = [scaler.plan_cluster(cluster, now=now) for cluster in scaler.msk.clusters()]
    rows = []
    for plan in plans:
        decision = plan.decision
        rows.append(
            {
                "cluster": plan.cluster.cluster_name if plan.cluster else args.cluster,
                "action": decision.action.value if decision else "skip",
                "current_gib": decision.current_gib if decision else None,
                "new_gib": decision.new_gib if decision else None,
                "severity": decision.severity.value if decision else None,
                "reason": decision.reason if decision else plan.skipped,
                "decision": decision.to_dict() if decision else None,
            }
        )
    return rows


def _run(args: argparse.Namespace) -> int:
    from msk_autopilot.observability import logger  # noqa: PLC0415  keeps --help fast

    # The scaler logs what it reads (a missing retention bound, a skip) as the function would;
    # here stdout is the report, so its log lines go to stderr.
    handler = logger.registered_handler
    stream = handler.setStream(sys.stderr) if isinstance(handler, logging.StreamHandler) else None
    try:
        rows = _rows(args)
    finally:
        if isinstance(handler, logging.StreamHandler) and stream is not None:
            handler.setStream(stream)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    print(f"{'cluster':<24} {'action':<12} {'GiB now':>8} {'GiB new':>8}  reason")
    for row in rows:
        now_gib = "" if row["current_gib"] is None else str(row["current_gib"])
        new_gib = "" if row["new_gib"] is None else str(row["new_gib"])
        print(
            f"{row['cluster']:<24} {row['action']:<12} {now_gib:>8} {new_gib:>8}  {row['reason']}"
        )
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "plan-storage",
        help="show the storage scaler's decision for each cluster now, without acting",
        description=__doc__,
        run=_run,
    )
    parser.add_argument(
        "--cluster", type=cluster_arn, metavar="ARN", help="one cluster (default: every cluster)"
    )
    parser.add_argument(
        "--region", type=aws_region, help="AWS Region (default: AWS_REGION or the template's)"
    )
    parser.add_argument(
        "--env-vars", "-n", type=Path, help="JSON overrides, sam local invoke's format"
    )
    add_template_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
