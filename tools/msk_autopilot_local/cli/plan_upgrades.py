"""`msk-autopilot plan-upgrades`: the version upgrader's plan for every cluster now, without acting.

Per cluster: its Kafka version, target, path, end of support, maintenance window, what the
health gates say now (asked read-only) and its action and place in the rollout order. The plan is
the function's own (`msk_autopilot.versions`), from the settings the template gives it
(overridable with `--env-vars` or environment variables of the same names), against whatever
account the environment points at: AWS, or `msk-autopilot local-aws` via AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msk_autopilot_local.cli.options import (
    Subparsers,
    add_command,
    add_template_option,
    aws_region,
    function_settings,
)
from msk_autopilot_local.console import table
from msk_autopilot_local.local_lambda import emulated_now

if TYPE_CHECKING:
    from msk_autopilot.health.gates import GateVerdict
    from msk_autopilot.versions.plan import ClusterPlan, FleetPlan

__all__ = ["register"]

_FUNCTION = "VersionUpgraderFunction"
HEADERS = (
    "#",
    "cluster",
    "version",
    "target",
    "path",
    "end of support",
    "window",
    "gates",
    "action",
    "reason",
)


def _plan(args: argparse.Namespace) -> tuple[FleetPlan, dict[str, GateVerdict]]:
    """The function's plan now, and the gates' verdict for each cluster with work left."""
    from msk_autopilot.aws import ClientFactory  # noqa: PLC0415  keeps --help fast
    from msk_autopilot.health.change import ChangeKind  # noqa: PLC0415
    from msk_autopilot.health.gates import evaluate, gates_for  # noqa: PLC0415
    from msk_autopilot.health.reading import HealthReader  # noqa: PLC0415
    from msk_autopilot.msk import MskReader  # noqa: PLC0415
    from msk_autopilot.settings import VersionUpgraderSettings  # noqa: PLC0415
    from msk_autopilot.versions.facts import read_fleet  # noqa: PLC0415
    from msk_autopilot.versions.plan import plan_fleet  # noqa: PLC0415
    from msk_autopilot.versions.upgrader import rollout_policy  # noqa: PLC0415

    settings = function_settings(args, _FUNCTION, VersionUpgraderSettings, "version upgrader")
    clients = ClientFactory.for_settings(settings)
    kafka = clients.client("kafka")
    fleet = read_fleet(MskReader(kafka), settings.catalogue, opt_in_tag_key=settings.opt_in_tag_key)
    now = emulated_now()
    plan = plan_fleet(fleet.facts, fleet.catalogue, fleet.graph, rollout_policy(settings), now)
    health = HealthReader(clients.client("cloudwatch"))
    gates = gates_for(ChangeKind.KAFKA_VERSION)
    verdicts: dict[str, GateVerdict] = {}
    for cluster in plan.clusters:
        if cluster.position is not None:  # work left: what would the gates say now?
            reading = health.read(
                fleet.snapshots[cluster.arn], fleet.operations[cluster.arn], gates, now=now
            )
            verdicts[cluster.arn] = evaluate(reading, ChangeKind.KAFKA_VERSION)
    return plan, verdicts


def _document(plan: FleetPlan, verdicts: dict[str, GateVerdict]) -> dict[str, Any]:
    document = plan.to_dict()
    for entry in document["clusters"]:
        verdict = verdicts.get(entry["arn"])
        entry["gates"] = verdict.to_dict()["gates"] if verdict else None
        entry["gates_admit"] = verdict.admitted if verdict else None
    return document


def _gates(verdict: GateVerdict | None) -> str:
    if verdict is None:
        return ""
    deferral = verdict.deferral
    return "clear" if deferral is None else f"held: {deferral.gate}"


def _row(cluster: ClusterPlan, verdict: GateVerdict | None) -> list[str]:
    support = cluster.support
    end = "" if support.end_of_support is None else str(support.end_of_support)
    if support.state.value in {"past_end_of_support", "ending_soon"}:
        end = f"{end} ({support.state.value.replace('_', ' ')})"
    return [
        "" if cluster.position is None else str(cluster.position),
        cluster.name,
        cluster.current,
        cluster.target or "",
        " -> ".join(cluster.path),
        end or support.state.value,
        cluster.window or "any time",
        _gates(verdict),
        cluster.action.value,
        cluster.reason,
    ]


def _run(args: argparse.Namespace) -> int:
    plan, verdicts = _plan(args)
    if args.json:
        print(json.dumps(_document(plan, verdicts), indent=2, default=str))
        return 0
    rows = [_row(cluster, verdicts.get(cluster.arn)) for cluster in plan.clusters]
    table(sys.stdout, HEADERS, rows)
    if plan.halted:
        print(f"rollout halted: {plan.halted}")
    if plan.unknown_versions:
        print(f"versions MSK lists that the catalogue lacks: {', '.join(plan.unknown_versions)}")
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "plan-upgrades",
        help="show the version upgrader's plan for each cluster now, without acting",
        description=__doc__,
        run=_run,
    )
    parser.add_argument(
        "--region", type=aws_region, help="AWS Region (default: AWS_REGION or the template's)"
    )
    parser.add_argument(
        "--env-vars", "-n", type=Path, help="JSON overrides, sam local invoke's format"
    )
    add_template_option(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
