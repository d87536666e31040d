"""Terminal output for the local tools: a spinner, a refreshing status line and a progress bar on a
terminal (drawn by rich), plain lines everywhere else.

Output that is not a terminal (a pipe, a file, a test's capture) gets exactly the text written,
with no control sequences, so it can be read and asserted on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["StatusLine", "is_terminal", "progress_bar", "spinner"]


def is_terminal(stream: IO[str]) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def _rich_console(stream: IO[str]) -> Console:
    from rich.console import Console  # noqa: PLC0415  only a terminal needs rich

    return Console(file=stream, highlight=False, markup=False, emoji=False, soft_wrap=True)


@contextlib.contextmanager
def spinner(stream: IO[str], label: str) -> Iterator[Callable[[str], None]]:
    """A spinner with `label` and the seconds elapsed while the block runs, on a terminal;
    nothing elsewhere. The yielded function changes the label."""
    if not is_terminal(stream):
        yield lambda _label: None
        return
    started = time.monotonic()
    console = _rich_console(stream)
    with console.status(label, spinner="line") as status:

        def relabel(text: str) -> None:
            status.update(f"{text} ({time.monotonic() - started:.0f}s)")

        yield relabel


class StatusLine:
    """A line redrawn in place on a terminal (at most twice a second), a plain line every
    `interval` seconds elsewhere; `message` prints a line above it."""

    def __init__(self, stream: IO[str], interval: float) -> None:
        self.stream = stream
        self.tty = is_terminal(stream)
        self.interval = 0.5 if self.tty else interval
        self._next = time.monotonic() + self.interval
        self._live: contextlib.ExitStack | None = None
        self._console: Console | None = None
        self._text: Callable[[str], None] | None = None

    def due(self) -> bool:
        return time.monotonic() >= self._next

    def show(self, line: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + self.interval
        if not self.tty:
            self.stream.write(line + "\n")
            self.stream.flush()
            return
        if self._text is None:
            self._start()
        assert self._text is not None
        self._text(line)

    def _start(self) -> None:
        from rich.live import Live  # noqa: PLC0415
        from rich.text import Text  # noqa: PLC0415

        self._console = _rich_console(self.stream)
        live = Live(Text(""), console=self._console, auto_refresh=False, transient=True)
        self._live = contextlib.ExitStack()
        self._live.enter_context(live)

        def update(line: str) -> None:
            live.update(Text(line), refresh=True)

        self._text = update

    def message(self, text: str) -> None:
        if self._console is not None:
            self._console.print(text.rstrip("\n"))
            return
        self.stream.write(text.rstrip("\n") + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._live is not None:
            self._live.close()
        self._live = self._console = self._text = None


@contextlib.contextmanager
def progress_bar(stream: IO[str], description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A bar counting to `total` on a terminal; nothing elsewhere. The yielded function sets how
    many are done."""
    if not is_terminal(stream):
        yield lambda _done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: PLC0415

    columns = (TextColumn(description), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=_rich_console(stream), transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)
