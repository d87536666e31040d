"""What several subcommands share: adding a subcommand, the --template option, value types."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from msk_autopilot_local.errors import LocalToolError

if TYPE_CHECKING:
    from msk_autopilot.settings import CommonSettings
    from msk_autopilot_local.stack import DeployedStack
    from msk_autopilot_local.template.resolve import ResolvedTemplate

__all__ = [
    "Subparsers",
    "add_command",
    "add_template_option",
    "aws_region",
    "cluster_arn",
    "deployed_stack",
    "function_settings",
    "positive_int",
    "resolved_template",
]

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
    """The template read with its defaults, for the planning commands (plan-storage,
    plan-upgrades): they run against an account before, or without, the stack deployed in it."""
    from msk_autopilot_local.template.resolve import (  # noqa: PLC0415
        ResolvedTemplate,
        find_template,
    )

    return ResolvedTemplate(args.template or find_template())


def deployed_stack(args: argparse.Namespace) -> DeployedStack:
    """The stack deployed from --template in the account the environment points at
    (AWS_ENDPOINT_URL: `local-aws` deploys it there)."""
    from msk_autopilot_local.stack import DeployedStack  # noqa: PLC0415
    from msk_autopilot_local.template.resolve import find_template  # noqa: PLC0415

    return DeployedStack.from_environment(args.template or find_template())


def function_settings[S: CommonSettings](
    args: argparse.Namespace, logical_id: str, settings_type: type[S], function: str
) -> S:
    """The settings `logical_id` gets from the template, overridden by environment variables of
    the same names and by `--env-vars`, in `--region` (or AWS_REGION, or the stack's Region).
    Invalid settings fail as the function's cold start would, in one line naming `function`."""
    from msk_autopilot.settings import SettingsError, load  # noqa: PLC0415  keeps --help fast
    from msk_autopilot_local.local_lambda import read_env_vars_file  # noqa: PLC0415

    stack = resolved_template(args)
    environment = stack.function_environment(logical_id)
    environment.update({k: v for k, v in os.environ.items() if k in environment})
    environment["AWS_REGION"] = args.region or os.environ.get("AWS_REGION", stack.region)
    if args.env_vars:
        environment.update(read_env_vars_file(args.env_vars, logical_id))
    try:
        return load(settings_type, environment)
    except SettingsError as error:
        problems = "; ".join(error.problems)
        raise LocalToolError(f"the {function}'s settings are invalid: {problems}") from None
    except ValueError as error:  # a setting out of range for another
        raise LocalToolError(f"the {function}'s settings are invalid: {error}") from None


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 ("must be a whole number of at least 1")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def cluster_arn(text: str) -> str:
    """argparse type: an MSK cluster ARN, as the functions accept it."""
    import re  # noqa: PLC0415

    from msk_autopilot.events import CLUSTER_ARN_PATTERN  # noqa: PLC0415

    if re.fullmatch(CLUSTER_ARN_PATTERN, text) is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an MSK cluster ARN "
            "(arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID; `aws kafka list-clusters-v2` "
            "lists them)"
        )
    return text


def aws_region(text: str) -> str:
    """argparse type: a Region this machine's AWS SDK knows to offer MSK in."""
    import boto3  # noqa: PLC0415

    session = boto3.Session()
    known = {
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("kafka", partition_name=partition)
    }
    if text not in known:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Region where MSK is offered (for example us-east-1, eu-west-1)"
        )
    return text
