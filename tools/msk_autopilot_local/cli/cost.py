"""`msk-autopilot cost`: each cluster's monthly cost, part by part, and what right-sizing saves.

    msk-autopilot cost [--cluster ARN] [--region R] [--prices FILE] [--json]

Every provisioned cluster of the account the environment points at (AWS, or `msk-autopilot
local-aws` via AWS_ENDPOINT_URL), opted in or not: broker-hours, storage and provisioned
throughput for Standard brokers; broker-hours, storage used and data for Express brokers.
Right-sized is the size the broker policy would take the cluster to now, from the same hourly
load, partitions and zones the broker scaler reads; it saves what that size costs less. Prices
come from the table shipped in msk_autopilot/capacity/prices.json (its sources are named there);
a price it lacks shows as unknown, and `--prices FILE` (the same JSON shape) fills it in or
replaces it. A month is 730 hours.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msk_autopilot_local.cli.options import Subparsers, add_command, aws_region, cluster_arn
from msk_autopilot_local.errors import LocalToolError

if TYPE_CHECKING:
    from msk_autopilot.capacity.pricing import BilledShape, PriceTable, RightSizing
    from msk_autopilot.msk import ClusterSnapshot

__all__ = ["register"]

_HEADERS = (
    "cluster",
    "opted in",
    "brokers",
    "broker-hours",
    "storage",
    "throughput",
    "Express storage",
    "Express data",
    "total / month",
    "right-sized",
    "saves / month",
)


def _right_sizing(region: str) -> RightSizing:
    """What the broker policy would size each cluster to now: the broker scaler's own reading
    (hourly load since the last size or count change, partitions, zones) and decision, whether
    it would carry the change out or only recommend it, and whether the cluster opted in or not.
    A cluster the policy cannot judge (too little history, busy) keeps its size."""
    from msk_autopilot.aws import ClientFactory  # noqa: PLC0415  keeps --help fast
    from msk_autopilot.capacity.policy import BrokerPolicySettings  # noqa: PLC0415
    from msk_autopilot.capacity.pricing import SizeRecommendation, keep_size  # noqa: PLC0415
    from msk_autopilot.capacity.scaler import BrokerPlanner  # noqa: PLC0415
    from msk_autopilot.msk import MskReader  # noqa: PLC0415
    from msk_autopilot_local.local_lambda import emulated_now  # noqa: PLC0415

    clients = ClientFactory(region)
    planner = BrokerPlanner(
        reader=MskReader(clients.client("kafka")),
        cloudwatch=clients.client("cloudwatch"),
        policy=BrokerPolicySettings(),
        scale_out_tag_key=_setting("BROKER_SCALE_OUT_TAG_KEY", "scale_out_tag_key"),
    )
    now = emulated_now()

    def right_size(cluster: ClusterSnapshot, shape: BilledShape) -> SizeRecommendation:
        decision = planner.plan_cluster(cluster, now=now).decision
        if decision is None or decision.change is None:
            return keep_size(cluster, shape)
        return SizeRecommendation(
            instance_type=decision.target_type, broker_count=decision.target_count
        )

    return right_size


def _prices(path: Path | None) -> PriceTable:
    from msk_autopilot.capacity.pricing import PriceTable, PricingError  # noqa: PLC0415

    try:
        return PriceTable.with_overrides(path) if path else PriceTable.built_in()
    except PricingError as error:
        raise LocalToolError(f"{error} (see msk_autopilot/capacity/prices.json)") from None


def _region(args: argparse.Namespace) -> str:
    region: str | None = args.region or os.environ.get("AWS_REGION")
    if region is None:
        import boto3  # noqa: PLC0415

        region = boto3.Session().region_name
    if not region:
        raise LocalToolError("no AWS Region: pass --region or set AWS_REGION")
    return region


def _clusters(args: argparse.Namespace, region: str) -> list[ClusterSnapshot]:
    from msk_autopilot.aws import ClientFactory  # noqa: PLC0415
    from msk_autopilot.msk import ClusterNotFoundError, MskReader  # noqa: PLC0415

    reader = MskReader(ClientFactory(region).client("kafka"))
    if args.cluster is None:
        return list(reader.clusters())
    try:
        return [reader.cluster(args.cluster)]
    except ClusterNotFoundError:
        raise LocalToolError(
            f"no cluster {args.cluster} in {region} (`msk-autopilot cost` lists every cluster)"
        ) from None


def _setting(variable: str, field: str) -> str:
    """A tag key as the functions read it: the environment, else the settings' default."""
    import msgspec  # noqa: PLC0415

    from msk_autopilot.settings import BrokerScalerSettings  # noqa: PLC0415

    default = {f.name: f.default for f in msgspec.structs.fields(BrokerScalerSettings)}
    return os.environ.get(variable) or str(default[field])


def _rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    from msk_autopilot.capacity.pricing import (  # noqa: PLC0415
        BilledShape,
        monthly_cost,
        right_sizing_savings,
    )

    region = _region(args)
    prices = _prices(args.prices)
    right_sizing = _right_sizing(region)
    tag_key = _setting("OPT_IN_TAG_KEY", "opt_in_tag_key")
    rows = []
    for cluster in _clusters(args, region):
        row: dict[str, Any] = {
            "cluster": cluster.cluster_name,
            "cluster_arn": cluster.cluster_arn,
            "opted_in": cluster.opted_in(tag_key),
        }
        shape = BilledShape.of(cluster)
        if shape is None:
            rows.append({**row, "skipped": "serverless clusters are not priced by this table"})
            continue
        recommended, change = right_sizing_savings(cluster, shape, prices, region, right_sizing)
        rows.append(
            {
                **row,
                "instance_type": shape.instance_type,
                "broker_count": shape.broker_count,
                "cost": monthly_cost(shape, prices, region).to_dict(),
                "right_sized": {
                    "instance_type": recommended.instance_type,
                    "broker_count": recommended.broker_count,
                },
                "savings": None
                if change.before is None or change.after is None
                else round(change.before - change.after, 2),
            }
        )
    return rows


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.2f}"


def _table_row(row: dict[str, Any]) -> list[str]:
    opted_in = "yes" if row["opted_in"] else "no"
    if "skipped" in row:
        return [row["cluster"], opted_in, row["skipped"], *[""] * (len(_HEADERS) - 3)]
    cost, sized = row["cost"], row["right_sized"]
    return [
        row["cluster"],
        opted_in,
        f"{row['broker_count']} x {row['instance_type']}",
        *(
            _money(cost[part])
            for part in ("brokers", "storage", "throughput", "express_storage", "express_data")
        ),
        _money(cost["total"]),
        f"{sized['broker_count']} x {sized['instance_type']}",
        _money(row["savings"]),
    ]


def _run(args: argparse.Namespace) -> int:
    from msk_autopilot_local import console  # noqa: PLC0415

    rows = _rows(args)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    console.table(sys.stdout, _HEADERS, [_table_row(row) for row in rows])
    currency = next((row["cost"]["currency"] for row in rows if "cost" in row), "USD")
    unknown = sorted({reason for row in rows for reason in row.get("cost", {}).get("unknown", ())})
    print(f"Amounts in {currency} per month of 730 hours.")
    if unknown:
        print("Unknown: " + "; ".join(unknown) + " (give them with --prices FILE).")
    return 0


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "cost",
        help="each cluster's monthly cost by part, and the savings right-sizing would give",
        description=__doc__,
        run=_run,
    )
    parser.add_argument(
        "--cluster", type=cluster_arn, metavar="ARN", help="one cluster (default: every cluster)"
    )
    parser.add_argument(
        "--region", type=aws_region, help="AWS Region (default: AWS_REGION or the SDK's)"
    )
    parser.add_argument(
        "--prices", type=Path, metavar="FILE", help="a price file merged over the built-in table"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
