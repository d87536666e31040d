"""`msk-autopilot deploy`: the SAM template deployed through CloudFormation into local AWS.

Runs `make build` (sam build --cached), zips each built function and layer into the
msk-autopilot-artifacts bucket, transforms the template with the SAM translator, then creates
the stack (CreateStack) or updates it (a change set, executed), waits for it and prints each
resource: logical ID, type, physical ID, status.

Local AWS only: AWS_ENDPOINT_URL must point at this machine (`msk-autopilot local-aws`); for an
AWS account use `sam deploy`.
"""

from __future__ import annotations

import argparse
import os
import sys

from msk_autopilot_local.cli.options import Subparsers, add_command, add_template_option

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    import boto3  # noqa: PLC0415  keeps `msk-autopilot --help` fast

    from msk_autopilot_local.console import spinner, table  # noqa: PLC0415
    from msk_autopilot_local.deploy import (  # noqa: PLC0415
        deploy,
        local_endpoint,
        parse_parameter_overrides,
    )
    from msk_autopilot_local.template.resolve import find_template  # noqa: PLC0415

    endpoint = local_endpoint(os.environ)
    parameters = parse_parameter_overrides(args.parameter_overrides)
    template = args.template or find_template()
    session = boto3.Session(region_name=args.region or os.environ.get("AWS_REGION") or "us-east-1")
    with spinner(sys.stderr, "deploying") as relabel:
        deployment = deploy(
            template,
            cloudformation=session.client("cloudformation", endpoint_url=endpoint),
            s3=session.client("s3", endpoint_url=endpoint),
            stack_name=args.stack_name,
            parameters=parameters,
            build_first=not args.no_build,
            progress=relabel,
        )
    rows = [
        (each.logical_id, each.resource_type, each.physical_id, each.status)
        for each in sorted(deployment.resources, key=lambda each: each.logical_id)
    ]
    table(sys.stdout, ("LogicalId", "Type", "PhysicalId", "Status"), rows)
    verb = {"CREATE": "created", "UPDATE": "updated", "NONE": "unchanged"}[deployment.action]
    print(f"stack {deployment.stack_name} {verb}: {deployment.status}, {len(rows)} resources")
    return 0


def register(subparsers: Subparsers) -> None:
    from msk_autopilot_local.deploy import DEFAULT_STACK_NAME  # noqa: PLC0415

    parser = add_command(
        subparsers,
        "deploy",
        help="deploy the template through CloudFormation into local AWS",
        description=__doc__,
        run=_run,
    )
    parser.add_argument("--stack-name", default=DEFAULT_STACK_NAME, help="default %(default)s")
    parser.add_argument(
        "--parameter-overrides",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="template parameters, as `sam deploy --parameter-overrides` takes them",
    )
    parser.add_argument("--region", help="default AWS_REGION, else us-east-1")
    parser.add_argument(
        "--no-build", action="store_true", help="deploy the last `make build` as it is"
    )
    add_template_option(parser)
