"""Configuration as code: a folder of `<name>.properties` files, checked and pushed to Parameter
Store, where each is the desired text of MSK configuration `<name>` that the configuration
rotator rolls out.

`check_directory` validates every file with the checks the rotator applies and finds the
settings its guardrails refuse; `judge_guardrails` weighs those against the overrides tagged on
the parameters (the rotator's own rule, `msk_autopilot.config.guardrails`); `upload` writes them
as `<prefix><name>` parameters. Used by `msk-autopilot config push` and the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from msk_autopilot_local.errors import LocalToolError

if TYPE_CHECKING:
    from msk_autopilot.config.guardrails import Weakening

__all__ = [
    "DEFAULT_PREFIX",
    "CheckedPush",
    "ConfigurationUploadError",
    "PushFile",
    "Pushed",
    "check_directory",
    "check_prefix",
    "check_push",
    "judge_guardrails",
    "refusal",
    "upload",
]

DEFAULT_PREFIX = "/msk-autopilot/configurations/"


class ConfigurationUploadError(LocalToolError):
    """Parameter Store refused a configuration; the message says which were already pushed."""


@dataclass(frozen=True)
class PushFile:
    name: str
    path: Path
    text: str
    # What the guardrails refuse unless the parameter's tags allow it; the clusters are not
    # known here, so default.replication.factor is held to the rotator's lower floor (2).
    weakenings: tuple[Weakening, ...] = ()


@dataclass(frozen=True)
class Pushed:
    file: PushFile
    parameter: str
    version: int

    def __str__(self) -> str:
        return f"{self.file.path} -> {self.parameter} (version {self.version})"


def check_prefix(prefix: str) -> None:
    """A Parameter Store path: raises `LocalToolError` unless it starts and ends with '/'."""
    if not (prefix.startswith("/") and prefix.endswith("/")):
        raise LocalToolError(f"--prefix {prefix!r} must start and end with '/'")


def check_directory(directory: Path) -> tuple[list[PushFile], list[str]]:
    """The configurations in `directory` and every problem with them, as `file:line: message`."""
    from msk_autopilot.config.desired import MAX_PARAMETER_BYTES, name_problem  # noqa: PLC0415
    from msk_autopilot.config.guardrails import weakenings  # noqa: PLC0415
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
        checked = validate(text)
        problems.extend(problem.located(str(path)) for problem in checked.problems)
        refused = weakenings(checked.properties, availability_zones=None) if checked.valid else []
        found.append(PushFile(path.stem, path, text, tuple(refused)))
    return found, problems


def judge_guardrails(files: list[PushFile], prefix: str, ssm: Any) -> tuple[list[str], list[str]]:
    """(problems, overrides) as `file:line: message`: each weakening is refused unless the tags
    of parameter `<prefix><name>` allow it, exactly as the rotator decides."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from msk_autopilot.config.guardrails import judge, read_overrides  # noqa: PLC0415

    problems: list[str] = []
    overrides: list[str] = []
    for item in files:
        if not item.weakenings:
            continue
        parameter = prefix + item.name
        try:
            tags = read_overrides(ssm, parameter)
        except (BotoCoreError, ClientError) as error:
            raise LocalToolError(
                f"{item.path} needs a guardrail override, but the tags of {parameter} could not "
                f"be read: {error}"
            ) from None
        refused, allowed = judge(item.weakenings, tags)
        problems.extend(f"{item.path}:{w.line}: {w.refusal()}" for w in refused)
        overrides.extend(
            f"{item.path}:{w.line}: GUARDRAIL OVERRIDE: {w} allowed by tag {w.override_tag} "
            f"on {parameter}"
            for w in allowed
        )
    return problems, overrides


class CheckedPush(NamedTuple):
    files: list[PushFile]
    problems: list[str]  # file:line: message; any problem means nothing is uploaded
    overrides: list[str]  # weakenings a parameter tag allows, called out


def check_push(directory: Path, prefix: str, ssm: Callable[[], Any]) -> CheckedPush:
    """Everything `config push` checks before it uploads: each file valid, and each weakening
    refused unless its parameter's tags allow it. `ssm` makes the client, called only when a
    file weakens a guardrail (its override lives in the parameter's tags)."""
    files, problems = check_directory(directory)
    overrides: list[str] = []
    if not problems and any(item.weakenings for item in files):
        problems, overrides = judge_guardrails(files, prefix, ssm())
    return CheckedPush(files, problems, overrides)


def refusal(problems: list[str]) -> str:
    """The line that closes a list of problems: nothing was uploaded because of them."""
    count = len(problems)
    return f"{count} problem{'' if count == 1 else 's'}; nothing uploaded"


def upload(files: list[PushFile], prefix: str, ssm: Any) -> list[Pushed]:
    """Write each file as parameter `<prefix><name>` through the `ssm` client, in order; raises
    `ConfigurationUploadError` at the first refusal, naming those already pushed."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    pushed: list[Pushed] = []
    for item in files:
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
            done = ", ".join(p.file.name for p in pushed) or "none"
            raise ConfigurationUploadError(
                f"{parameter}: {error} (already pushed: {done})"
            ) from None
        pushed.append(Pushed(item, parameter, int(response["Version"])))
    return pushed
