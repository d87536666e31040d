"""What the demo shows while it runs: step headers with the elapsed time, indented lines wrapped
to the page, and a spinner on a terminal."""

from __future__ import annotations

import contextlib
import textwrap
import time
from collections.abc import Callable
from typing import TextIO

from msk_autopilot_local.console import is_terminal, spinner

__all__ = ["STEPS", "Progress"]

STEPS = 8
_INDENT = " " * 9
_WIDTH = 110  # columns of wrapped text, after the indent


class Progress:
    """Step headers with the elapsed time; on a terminal, a spinner while something runs."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = is_terminal(out)
        self.started = time.monotonic()
        self.number = 0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def step(self, title: str) -> None:
        self.number += 1
        self.write(f"\n[{self.elapsed:5.1f}s] {self.number}/{STEPS}  {title}\n")

    def say(self, text: str = "", *, wrap: bool = True) -> None:
        """An indented line; a long one is wrapped, its continuation indented further."""
        for line in text.splitlines() or [""]:
            if not wrap or len(line) <= _WIDTH:
                self.write(f"{_INDENT}{line}".rstrip() + "\n")
                continue
            lead = " " * (len(line) - len(line.lstrip()))
            wrapped = textwrap.wrap(
                line,
                _WIDTH,
                subsequent_indent=lead + "    ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            self.write("".join(f"{_INDENT}{part}\n" for part in wrapped))

    def bad(self, text: str) -> None:
        self.write(f"  FAILED {text}\n")

    def activity(self, label: str) -> contextlib.AbstractContextManager[Callable[[str], None]]:
        """A spinner with `label` on a terminal (the yielded function changes it); nothing
        elsewhere."""
        return spinner(self.out, label)
