"""server.properties as MSK takes it: strict parsing, validation against what MSK lets customers
set, a canonical rendering, and diffs. Pure: no AWS, no I/O.

The syntax is java.util.Properties (the format Kafka reads): `#` and `!` comment lines, a
trailing odd backslash continues a line, backslash escapes. Stricter than Java where Java's
leniency hides mistakes: a key must be separated from its value by `=` (MSK's own examples and
its parser expect key=value), a key set twice is an error rather than "last one wins", and a
continuation at the end of the text is an error.

One directive may ride in a comment, because MSK cannot change a configuration's Kafka versions
after creating it and the versions belong next to the properties they were tested with::

    # msk-autopilot:kafka-versions = 3.6.0, 3.7.x

Every problem carries the line it starts on, so a file with many mistakes is fixed in one pass.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

import msgspec

from msk_autopilot.config.catalogue import CUSTOMER_SETTABLE

__all__ = [
    "KAFKA_VERSIONS_DIRECTIVE",
    "Checked",
    "Entry",
    "Problem",
    "PropertiesDiff",
    "ServerProperties",
    "decode_revision",
    "diff",
    "parse",
    "validate",
]

KAFKA_VERSIONS_DIRECTIVE = "msk-autopilot:kafka-versions"
# A comment `msk-autopilot:<name> = <value>` is a directive; any other comment is just a comment.
_DIRECTIVE = re.compile(r"(msk-autopilot:[A-Za-z-]+)\s*=(.*)")
_KAFKA_VERSION = re.compile(r"\d+\.\d+\.(\d+|x)(\.[a-z0-9]+)*")
_WHITESPACE = " \t\f"
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_ESCAPED = {char: letter for letter, char in _ESCAPES.items()}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Problem(msgspec.Struct, frozen=True):
    """One thing wrong with a text; `line` is 1-based, 0 for the text as a whole."""

    line: int
    message: str

    def located(self, source: str) -> str:
        """`file:line: message`, the form editors and CI annotate."""
        return f"{source}:{self.line}: {self.message}" if self.line else f"{source}: {self.message}"


class Entry(msgspec.Struct, frozen=True):
    key: str
    value: str  # trimmed, as Kafka trims every typed value before parsing it
    line: int


class ServerProperties(msgspec.Struct, frozen=True):
    """Parsed properties in file order, plus the Kafka versions the directive names."""

    entries: tuple[Entry, ...] = ()
    kafka_versions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, str]:
        """Key -> value; a repeated key keeps its last value, as Kafka would."""
        return {entry.key: entry.value for entry in self.entries}

    def render(self) -> str:
        """The canonical text sent to MSK: one `key=value` per line in file order, no comments.

        Non-ASCII characters are written as \\uXXXX because Kafka reads the file as ISO-8859-1.
        """
        return "".join(
            f"{_escape(key, key=True)}={_escape(value)}\n" for key, value in self.as_dict().items()
        )


class Checked(msgspec.Struct, frozen=True):
    """A text's properties and everything wrong with it; only a valid one may be applied."""

    properties: ServerProperties
    problems: tuple[Problem, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems


class PropertiesDiff(msgspec.Struct, frozen=True):
    added: dict[str, str] = msgspec.field(default_factory=dict)
    removed: dict[str, str] = msgspec.field(default_factory=dict)
    changed: dict[str, tuple[str, str]] = msgspec.field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def summary(self) -> list[str]:
        """One line per difference, e.g. `log.retention.hours: 168 -> 72`."""
        return [
            *(f"+ {key}={value}" for key, value in sorted(self.added.items())),
            *(f"- {key}={value}" for key, value in sorted(self.removed.items())),
            *(f"~ {key}: {old} -> {new}" for key, (old, new) in sorted(self.changed.items())),
        ]


def diff(before: Mapping[str, str], after: Mapping[str, str]) -> PropertiesDiff:
    return PropertiesDiff(
        added={key: after[key] for key in after.keys() - before.keys()},
        removed={key: before[key] for key in before.keys() - after.keys()},
        changed={
            key: (before[key], after[key])
            for key in before.keys() & after.keys()
            if before[key] != after[key]
        },
    )


def decode_revision(server_properties: bytes) -> ServerProperties:
    """The properties of an MSK configuration revision (bytes, read as Kafka reads them)."""
    return parse(server_properties.decode("iso-8859-1")).properties


def validate(text: str) -> Checked:
    """Parse `text` strictly and check every key and value against what MSK accepts."""
    parsed = parse(text)
    problems = list(parsed.problems)
    for entry in parsed.properties.entries:
        spec = CUSTOMER_SETTABLE.get(entry.key)
        if spec is None:
            problems.append(Problem(entry.line, _unknown_key(entry.key)))
            continue
        value_problem = spec.problem(entry.value)
        if value_problem is not None:
            problems.append(Problem(entry.line, f"{entry.key} {value_problem}"))
    if not parsed.properties.entries and not parsed.problems:
        problems.append(Problem(0, "sets no properties; MSK needs at least one"))
    problems.sort(key=lambda problem: problem.line)
    return Checked(parsed.properties, tuple(problems))


def _unknown_key(key: str) -> str:
    message = f"{key!r} is not a property MSK lets customers set"
    close = difflib.get_close_matches(key.lower(), CUSTOMER_SETTABLE, n=1, cutoff=0.8)
    return f"{message}; did you mean {close[0]!r}?" if close else message


def parse(text: str) -> Checked:
    """The properties of `text` and its syntax problems (not checked against MSK's list)."""
    problems: list[Problem] = []
    entries: list[Entry] = []
    first_line: dict[str, int] = {}
    kafka_versions: tuple[str, ...] | None = None
    if text.startswith("\ufeff"):
        problems.append(Problem(1, "starts with a byte-order mark; save the file without one"))
        text = text[1:]
    lines = _LINE_BREAK.split(text)
    number = 0
    while number < len(lines):
        start = number + 1
        stripped = lines[number].lstrip(_WHITESPACE)
        number += 1
        if not stripped:
            continue
        if stripped[0] in "#!":
            directive = _directive(stripped[1:].strip(), start)
            if directive is None:
                continue
            versions, directive_problems = directive
            problems.extend(directive_problems)
            if versions is None:
                continue
            if kafka_versions is not None:
                problems.append(Problem(start, f"{KAFKA_VERSIONS_DIRECTIVE} is given twice"))
            kafka_versions = versions
            continue
        logical = stripped
        while _continues(logical):
            logical = logical[:-1]
            if number >= len(lines):
                problems.append(Problem(start, "the last line ends with a continuation '\\'"))
                break
            logical += lines[number].lstrip(_WHITESPACE)
            number += 1
        entry, line_problems = _entry(logical, start)
        problems.extend(line_problems)
        if entry is None:
            continue
        if entry.key in first_line:
            problems.append(
                Problem(start, f"{entry.key} is set twice (first on line {first_line[entry.key]})")
            )
        else:
            first_line[entry.key] = start
        entries.append(entry)
    return Checked(ServerProperties(tuple(entries), kafka_versions or ()), tuple(problems))


def _continues(line: str) -> bool:
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1


def _entry(logical: str, line: int) -> tuple[Entry | None, list[Problem]]:
    index = 0
    while index < len(logical):
        char = logical[index]
        if char == "\\":
            index += 2
            continue
        if char in "=:" or char in _WHITESPACE:
            break
        index += 1
    raw_key = logical[:index]
    rest = logical[index:].lstrip(_WHITESPACE)
    problems: list[Problem] = []
    if not rest or rest[0] not in "=:":
        if not rest:
            return None, [Problem(line, f"{raw_key!r} is not a key=value pair")]
        problems.append(Problem(line, f"separate {raw_key!r} from its value with '='"))
    elif rest[0] == ":":
        problems.append(Problem(line, f"separate {raw_key!r} from its value with '=', not ':'"))
        rest = rest[1:]
    else:
        rest = rest[1:]
    if not raw_key:
        return None, [Problem(line, "a line starts with a separator and has no key")]
    key, key_problem = _unescape(raw_key)
    value, value_problem = _unescape(rest.lstrip(_WHITESPACE))
    problems.extend(Problem(line, p) for p in (key_problem, value_problem) if p is not None)
    return Entry(key, value.strip(), line), problems


def _unescape(raw: str) -> tuple[str, str | None]:
    out: list[str] = []
    problem: str | None = None
    index = 0
    while index < len(raw):
        char = raw[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        following = raw[index + 1 : index + 2]
        if following == "u":
            digits = raw[index + 2 : index + 6]
            if re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                out.append(chr(int(digits, 16)))
                index += 6
                continue
            problem = f"malformed \\uxxxx escape in {raw!r}"
            index += 2
            continue
        out.append(_ESCAPES.get(following, following))
        index += 2
    try:  # \uXXXX pairs may encode one character outside the Basic Multilingual Plane
        text = "".join(out).encode("utf-16-be", "surrogatepass").decode("utf-16-be")
    except UnicodeDecodeError:
        return "".join(out), f"unpaired \\uXXXX surrogate escape in {raw!r}"
    return text, problem


def _directive(comment: str, line: int) -> tuple[tuple[str, ...] | None, list[Problem]] | None:
    """The Kafka versions of `msk-autopilot:kafka-versions = ...` (None for an unknown
    directive) and its problems; None for an ordinary comment."""
    match = _DIRECTIVE.fullmatch(comment)
    if match is None:
        return None
    name, value = match.groups()
    if name != KAFKA_VERSIONS_DIRECTIVE:
        return None, [
            Problem(
                line,
                f"unknown directive {name!r}; the one directive is "
                f"'# {KAFKA_VERSIONS_DIRECTIVE} = 3.6.0, 3.7.x'",
            )
        ]
    versions = tuple(part.strip() for part in value.split(",") if part.strip())
    problems = [
        Problem(line, f"{version!r} is not an Apache Kafka version such as 3.6.0 or 3.7.x")
        for version in versions
        if not _KAFKA_VERSION.fullmatch(version)
    ]
    if not versions:
        problems.append(Problem(line, f"{KAFKA_VERSIONS_DIRECTIVE} lists no versions"))
    if len(set(versions)) != len(versions):
        problems.append(Problem(line, f"{KAFKA_VERSIONS_DIRECTIVE} lists a version twice"))
    return versions, problems


def _escape(text: str, *, key: bool = False) -> str:
    out: list[str] = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char in _ESCAPED:
            out.append("\\" + _ESCAPED[char])
        elif key and char in "=: #!":
            out.append("\\" + char)
        elif ord(char) > 0x7E or ord(char) < 0x20:
            # UTF-16 code units, as Java writes characters outside the Basic Multilingual Plane.
            units = char.encode("utf-16-be", "surrogatepass")
            out.extend(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
        else:
            out.append(char)
    return "".join(out)
