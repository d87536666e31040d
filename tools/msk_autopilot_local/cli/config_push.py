"""`msk-autopilot config push DIR`: validate a folder of server.properties files and upload them.

Each `<name>.properties` becomes the Parameter Store parameter `<prefix><name>`, the desired text
of configuration `<name>` that the configuration rotator rolls out. Every file is validated first
(the same checks the rotator applies, guardrails included); if any has a problem, every problem
is printed as `file:line: message` and nothing is uploaded (exit status 1). A setting that
weakens durability or security is refused unless the parameter already carries the tag
`msk-autopilot:allow:<property>=<value>` (read from Parameter Store, so only then are AWS
credentials needed for --check). Pushing a file again, even unchanged, is how a halted rollout is
retried.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from msk_autopilot_local.cli.options import Subparsers
from msk_autopilot_local.configurations import (
    DEFAULT_PREFIX,
    check_prefix,
    check_push,
    refusal,
    upload,
)
from msk_autopilot_local.errors import LocalToolError

__all__ = ["register"]


def _push(args: argparse.Namespace) -> int:
    prefix: str = args.prefix
    check_prefix(prefix)
    files, problems, overrides = check_push(Path(args.directory), prefix, lambda: _ssm(args))
    for line in (*overrides, *problems):
        print(line, file=sys.stderr)
    if problems:
        print(f"error: {refusal(problems)}", file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(files)} configurations are valid")
        return 0
    for pushed in upload(files, prefix, _ssm(args)):
        print(pushed)
    return 0


def _ssm(args: argparse.Namespace) -> Any:
    import boto3  # noqa: PLC0415  keeps `msk-autopilot --help` fast

    from msk_autopilot.aws import ClientFactory  # noqa: PLC0415

    region = args.region or boto3.Session().region_name
    if not region:
        raise LocalToolError("no AWS Region; pass --region or set AWS_REGION")
    return ClientFactory(region=region).client("ssm")


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "config",
        help="configuration as code: push server.properties files to Parameter Store",
        description="Configuration as code for MSK: desired server.properties per name.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    push = actions.add_parser(
        "push",
        help="validate DIR/*.properties and upload them (all or none)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    push.add_argument("directory", metavar="DIR", help="folder of <name>.properties files")
    push.add_argument(
        "--prefix",
        default=DEFAULT_PREFIX,
        help=f"Parameter Store path of the configurations (default {DEFAULT_PREFIX})",
    )
    push.add_argument("--region", help="AWS Region (default: the AWS SDK's)")
    push.add_argument("--check", action="store_true", help="validate only; upload nothing")
    push.set_defaults(func=_push)
