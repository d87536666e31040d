"""Reading the files users hand the commands (events, --env-vars files, fleet files): one place
that turns an unreadable or malformed file into a one-line `LocalToolError`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from msk_autopilot_local.errors import LocalToolError

__all__ = ["read_document"]


def read_document(path: Path, what: str, *, expect_object: bool = False) -> Any:
    """The JSON document in `path` (YAML too, unless the name ends in .json); `what` names the
    file in errors ("event file", "fleet file")."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise LocalToolError(f"cannot read {what} {path}: {error.strerror}") from None
    if path.suffix == ".json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise LocalToolError(f"{what} {path} is not valid JSON: {error}") from None
    else:
        import yaml  # noqa: PLC0415  only fleet files are YAML

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise LocalToolError(f"{what} {path} is not valid JSON or YAML: {error}") from None
    if expect_object and not isinstance(document, dict):
        raise LocalToolError(f"{what} {path} must hold an object")
    return document
