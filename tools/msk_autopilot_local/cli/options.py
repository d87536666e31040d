"""What several subcommands share: adding a subcommand, the --template option, value types."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from msk_autopilot_local.template.resolve import ResolvedTemplate

__all__ = ["Subparsers", "add_command", "add_template_option", "positive_int", "resolved_template"]

type Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_command(
    subparsers: Subparsers,
    name: str,
    *,
    help: str,
    description: str | None,
    run: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    """A subcommand whose --help shows `description` (the module docstring) as written."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=run)
    return parser


def add_template_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--template", "-t", type=Path, help="SAM template (default: nearest template.yaml)"
    )


def resolved_template(args: argparse.Namespace) -> ResolvedTemplate:
    from msk_autopilot_local.template.resolve import (  # noqa: PLC0415
        ResolvedTemplate,
        find_template,
    )

    return ResolvedTemplate(args.template or find_template())


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 ("must be a whole number of at least 1")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
