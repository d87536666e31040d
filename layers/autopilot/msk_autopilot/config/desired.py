"""Desired configurations: server.properties texts in Parameter Store, one parameter per name
(String or SecureString).

`<prefix><name>` holds the text of configuration `<name>`; the MSK configuration that serves it
is named `msk-autopilot-<name>`, so the mapping needs no state of its own. Names therefore follow
MSK's configuration-name rule (letters, digits and hyphens, starting with a letter or digit) and
leave room for the prefix within MSK's 64 characters.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec

from msk_autopilot.aws import pages

__all__ = [
    "MAX_PARAMETER_BYTES",
    "MSK_NAME_PREFIX",
    "DesiredConfiguration",
    "UnusableParameter",
    "msk_configuration_name",
    "name_problem",
    "read_desired",
]

MSK_NAME_PREFIX = "msk-autopilot-"
_MSK_NAME_LIMIT = 64
_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]*")
# Parameter Store's limit for an advanced (or intelligent-tiering) parameter value.
MAX_PARAMETER_BYTES = 8192
# A StringList is a list of values, not one text.
_TEXT_TYPES = frozenset({"String", "SecureString"})


class DesiredConfiguration(msgspec.Struct, frozen=True):
    name: str
    parameter: str
    text: str
    version: int
    last_modified: datetime

    @property
    def msk_name(self) -> str:
        return msk_configuration_name(self.name)


class UnusableParameter(msgspec.Struct, frozen=True):
    parameter: str
    reason: str


def msk_configuration_name(name: str) -> str:
    return MSK_NAME_PREFIX + name


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a configuration, or None."""
    if not _NAME.fullmatch(name):
        return (
            f"configuration name {name!r} must start with a letter or digit and contain only "
            "letters, digits and hyphens"
        )
    longest = _MSK_NAME_LIMIT - len(MSK_NAME_PREFIX)
    if len(name) > longest:
        return f"configuration name {name!r} is longer than {longest} characters"
    return None


def read_desired(
    ssm: Any, prefix: str
) -> tuple[list[DesiredConfiguration], list[UnusableParameter]]:
    """Every parameter under `prefix`: the usable ones as configurations, the others with why."""
    desired: list[DesiredConfiguration] = []
    unusable: list[UnusableParameter] = []
    listing = pages(
        ssm.get_parameters_by_path,
        Path=prefix.rstrip("/") or "/",
        Recursive=True,
        WithDecryption=True,  # a SecureString holds the text as well as a String does
    )
    for page in listing:
        for parameter in page["Parameters"]:
            full_name: str = parameter["Name"]
            name = full_name.removeprefix(prefix)
            problem = name_problem(name)
            if problem is None and parameter["Type"] not in _TEXT_TYPES:
                problem = (
                    f"is a {parameter['Type']} parameter; store server.properties as String "
                    "or SecureString"
                )
            if problem is not None:
                unusable.append(UnusableParameter(full_name, problem))
                continue
            desired.append(
                DesiredConfiguration(
                    name=name,
                    parameter=full_name,
                    text=parameter["Value"],
                    version=int(parameter["Version"]),
                    last_modified=parameter["LastModifiedDate"],
                )
            )
    desired.sort(key=lambda configuration: configuration.name)
    return desired, unusable
