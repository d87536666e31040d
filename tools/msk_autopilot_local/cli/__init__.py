"""`msk-autopilot`: the command line for running, testing and demonstrating the autopilot locally.

Each subcommand lives in its own module of this package exposing `register(subparsers)`; a module
keeps its heavy imports (moto, Kafka clients) inside its run function so `--help` stays fast.
Exit status: 0 ran and found nothing wrong, 1 ran and found problems (or the invoked handler
failed), 2 could not run (one line on stderr says why and what to do).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from msk_autopilot_local.errors import LocalToolError, unreachable_aws

__all__ = ["main"]

SUBCOMMAND_MODULES = (
    "msk_autopilot_local.cli.invoke",
    "msk_autopilot_local.cli.demo",
    "msk_autopilot_local.cli.simulate",
    "msk_autopilot_local.cli.plan_storage",
    "msk_autopilot_local.cli.cost",
    "msk_autopilot_local.cli.plan_upgrades",
    "msk_autopilot_local.cli.local_aws",
    "msk_autopilot_local.cli.audit",
    "msk_autopilot_local.cli.config_push",
    "msk_autopilot_local.cli.esm",
    "msk_autopilot_local.cli.broker",
    "msk_autopilot_local.cli.produce",
    "msk_autopilot_local.cli.fault_proxy",
    "msk_autopilot_local.cli.replay",
    "msk_autopilot_local.cli.schema_registry",
    "msk_autopilot_local.cli.deploy",
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line: what is wrong and where to read more."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="msk-autopilot",
        description="Serverless operations autopilot for Amazon MSK: local tools.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except LocalToolError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        cause = unreachable_aws(error)
        if cause is None:
            raise
        print(f"error: {cause}", file=sys.stderr)
        return 2
    return code
