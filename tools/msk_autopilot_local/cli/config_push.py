"""`msk-autopilot config push DIR`: validate a folder of server.properties files and upload them.

Each `<name>.properties` becomes the Parameter Store parameter `<prefix><name>`, the desired text
of configuration `<name>` that the configuration rotator rolls out. Every file is validated first
(the same checks the rotator applies); if any has a problem, every problem is printed as
`file:line: message` and nothing is uploaded. Pushing a file again, even unchanged, is how a
halted rollout is retried.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PushFile", "check_directory", "register"]

DEFAULT_PREFIX = "/msk-autopilot/configurations/"


@dataclass(frozen=True)
class PushFile:
    name: str
    path: Path
    text: str


def check_directory(directory: Path) -> tuple[list[PushFile], list[str]]:
    """The configurations in `directory` and every problem with them, as `file:line: message`."""
    from msk_autopilot.config.desired import MAX_PARAMETER_BYTES, name_problem  # noqa: PLC0415
    from msk_autopilot.config.properties import validate  # noqa: PLC0415

    if not directory.is_dir():
        return [], [f"{directory}: not a directory"]
    paths = sorted(directory.glob("*.properties"))
    if not paths:
        return [], [f"{directory}: no *.properties files"]
    found: list[PushFile] = []
    problems: list[str] = []
    for path in paths:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            problems.append(f"{path}:{line}: not UTF-8 text")
            continue
        name_issue = name_problem(path.stem)
        if name_issue is not None:
            problems.append(f"{path}: {name_issue}")
        if len(raw) > MAX_PARAMETER_BYTES:
            problems.append(
                f"{path}: {len(raw)} bytes; Parameter Store holds at most {MAX_PARAMETER_BYTES}"
            )
        problems.extend(problem.located(str(path)) for problem in validate(text).problems)
        found.append(PushFile(path.stem, path, text))
    return found, problems


def _push(args: argparse.Namespace) -> int:
    prefix: str = args.prefix
    if not (prefix.startswith("/") and prefix.endswith("/")):
        print(f"error: --prefix {prefix!r} must start and end with '/'", file=sys.stderr)
        return 2
    files, problems = check_directory(Path(args.directory))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"error: {len(problems)} problems; nothing uploaded", file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(files)} configurations are valid")
        return 0
    return _upload(files, prefix, args.region)


def _upload(files: list[PushFile], prefix: str, region: str | None) -> int:
    import boto3  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from msk_autopilot.aws import ClientFactory  # noqa: PLC0415

    region = region or boto3.Session().region_name
    if not region:
        print("error: no AWS Region; pass --region or set AWS_REGION", file=sys.stderr)
        return 2
    ssm = ClientFactory(region=region).client("ssm")
    for done, item in enumerate(files):
        parameter = prefix + item.name
        try:
            response = ssm.put_parameter(
                Name=parameter,
                Value=item.text,
                Type="String",
                Overwrite=True,
                # Standard up to 4 KB, advanced beyond, without choosing by hand.
                Tier="Intelligent-Tiering",
                Description=f"server.properties of MSK configuration {item.name}",
            )
        except (BotoCoreError, ClientError) as error:
            pushed = ", ".join(f.name for f in files[:done]) or "none"
            print(f"error: {parameter}: {error} (already pushed: {pushed})", file=sys.stderr)
            return 1
        print(f"{item.path} -> {parameter} (version {response['Version']})")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
