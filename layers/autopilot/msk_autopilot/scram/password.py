"""A password that cannot be formatted by accident.

Redaction by construction: a `Password` shows `***` to `str`, `repr`, f-strings and `%`, and
JSON encoders either refuse it or write `***` (with `default=str`, as the logger does), so no
message, log line, notification or outcome can carry its text in any encoding (escaped,
URL-encoded, base64) unless code asks for it with `reveal()`. Only the SCRAM arithmetic (hashing
it) and the secret's own value (storing it) do.
"""

from __future__ import annotations

from typing import final

__all__ = ["Password"]

_REDACTED = "***"


@final
class Password:
    """A password's text, shown as `***`; `reveal()` gives it."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def reveal(self) -> str:
        """The password's text: only for hashing it or storing it, never for a message."""
        return self._text

    def __repr__(self) -> str:
        return f"Password({_REDACTED!r})"

    def __str__(self) -> str:
        return _REDACTED

    def __format__(self, spec: str) -> str:
        return _REDACTED
