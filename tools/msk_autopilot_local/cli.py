"""`msk-autopilot`: the command line for running, testing and demonstrating the autopilot locally.

Each subcommand lives in its own module exposing `register(subparsers)`; a module keeps its
heavy imports (moto, Kafka clients) inside its run function so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main"]

SUBCOMMAND_MODULES = (
    "msk_autopilot_local.invoke",
    "msk_autopilot_local.demo",
    "msk_autopilot_local.simulate",
    "msk_autopilot_local.plan_storage",
    "msk_autopilot_local.local_aws",
    "msk_autopilot_local.audit_cli",
    "msk_autopilot_local.config_push",
    "msk_autopilot_local.esm",
    "msk_autopilot_local.fault_proxy",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    return code


if __name__ == "__main__":
    sys.exit(main())
