"""What the storage and broker trace formats share: `# key: value` header lines, then CSV with a
header row; numbers that name the trace and the field when they are wrong; the shipped folder."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from msk_autopilot_local.errors import LocalToolError

__all__ = ["TraceFields", "load", "read_sections", "shipped"]


def read_sections(text: str) -> tuple[dict[str, str], list[list[str]]]:
    """The `# key: value` header lines before the table, and the table's rows (header first)."""
    header: dict[str, str] = {}
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            key, colon, value = stripped.lstrip("#").partition(":")
            if colon and not lines:
                header[key.strip()] = value.strip()
        elif stripped:
            lines.append(stripped)
    return header, list(csv.reader(lines))


@dataclass(frozen=True)
class TraceFields:
    """Reads the values of one trace; a bad one raises `error` naming the trace and the field."""

    kind: str  # "trace", "broker trace": how messages name the file
    name: str
    error: type[LocalToolError]

    def fail(self, problem: str) -> LocalToolError:
        return self.error(f"{self.kind} {self.name}: {problem}")

    def number(self, what: str, raw: str | None) -> float:
        if raw is None:
            raise self.fail(f"{what} is missing")
        try:
            return float(raw)
        except ValueError:
            raise self.fail(f"{what} must be a number, got {raw!r}") from None

    def whole(self, what: str, raw: str | None) -> int:
        value = self.number(what, raw)
        if not value.is_integer() or value < 0:
            raise self.fail(f"{what} must be a whole number, got {raw!r}")
        return int(value)


def load[T](
    path: Path, kind: str, error: type[LocalToolError], parse: Callable[[str, str], T]
) -> T:
    """Parse the trace file at `path`, named by its stem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as problem:
        raise error(f"cannot read {kind} {path}: {problem.strerror}") from None
    return parse(text, path.stem)


def shipped[T](folder: str, parse: Callable[[str, str], T], key: Callable[[T], str]) -> list[T]:
    """Every trace of a folder of the `msk_autopilot_local.simulate` package, sorted by `key`."""
    entries = (files("msk_autopilot_local.simulate") / folder).iterdir()
    return sorted(
        (
            parse(entry.read_text(encoding="utf-8"), entry.name.removesuffix(".csv"))
            for entry in entries
            if entry.name.endswith(".csv")
        ),
        key=key,
    )
