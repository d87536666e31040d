"""Terminal output for the local tools: a spinner, a refreshing status line and a progress bar on a
terminal (drawn by rich), plain lines everywhere else.

Output that is not a terminal (a pipe, a file, a test's capture) gets exactly the text written,
with no control sequences, so it can be read and asserted on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = ["ProgressBar", "StatusLine", "is_terminal", "spinner", "table"]


def is_terminal(stream: IO[str]) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def _rich_console(stream: IO[str]) -> Console:
    from rich.console import Console  # noqa: PLC0415  only a terminal needs rich

    return Console(file=stream, highlight=False, markup=False, emoji=False, soft_wrap=True)


def table(stream: IO[str], headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table: drawn by rich on a terminal, left-aligned columns separated by two spaces
    elsewhere (the last column unpadded)."""
    if is_terminal(stream):
        from rich.table import Table  # noqa: PLC0415  only a terminal needs rich

        drawn = Table(*headers)
        for row in rows:
            drawn.add_row(*row)
        _rich_console(stream).print(drawn)
        return
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for line in (headers, *rows):
        cells = [cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=False)]
        stream.write("  ".join([*cells, line[-1]]).rstrip() + "\n")


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


class ProgressBar:
    """A bar of `done` out of `total` on a terminal, redrawn on each call; nothing elsewhere.
    The total may grow between calls; `close` removes the bar."""

    def __init__(self, stream: IO[str], description: str) -> None:
        self.stream = stream
        self.description = description
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if not is_terminal(self.stream):
            return
        if self._progress is None:
            from rich.progress import (  # noqa: PLC0415
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
            )

            columns = (TextColumn(self.description), BarColumn(), MofNCompleteColumn())
            self._progress = Progress(*columns, console=_rich_console(self.stream), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=total)
        assert self._task is not None
        self._progress.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._progress = self._task = None
