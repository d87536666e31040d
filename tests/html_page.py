"""Reading HTML pages in tests: a parse with the standard library, and a real browser (Debian's
chromium, headless) that renders a page to a screenshot and to its DOM after scripts ran."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

CHROMIUM = Path("/usr/bin/chromium")
WINDOW = (1280, 2000)
_TIMEOUT_SECONDS = 90
# Headless, offline and stateless: nothing but the page is fetched or kept.
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
)
_VOID = frozenset({"meta", "input", "br", "img", "link", "hr", "wbr", "source", "col", "area"})
# Elements whose text reads apart from their neighbours' (cells, rows, blocks).
_SEPARATE = frozenset(
    {"td", "th", "tr", "table", "div", "p", "li", "ul", "h1", "h2", "h3", "section", "summary"}
)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class Page(HTMLParser):
    """Every element of a page with the text inside it (its descendants' included)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SEPARATE:
            self.handle_data(" ")
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SEPARATE:
            self.handle_data(" ")
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.parts.append(data)

    def by_id(self, element_id: str) -> Element:
        (found,) = [e for e in self.elements if e.attrs.get("id") == element_id]
        return found

    def all(self, tag: str, css_class: str | None = None) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and (css_class is None or css_class in e.classes)
        ]


@dataclass(frozen=True)
class Rendered:
    dom: str  # the DOM after the page's scripts ran
    screenshot: Path


def _chromium(workdir: Path, *arguments: str) -> str:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(apt-get install -y --no-install-recommends chromium; make test does it as root)"
        )
    command = [str(CHROMIUM), *_FLAGS, f"--user-data-dir={workdir / 'profile'}", *arguments]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish within {_TIMEOUT_SECONDS} s: {' '.join(command)}")
    if done.returncode != 0:
        pytest.fail(f"chromium failed to start (exit {done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def render(page: Path, workdir: Path) -> Rendered:
    """Open `page` in headless chromium: its screenshot and its DOM."""
    screenshot = workdir / "screenshot.png"
    _chromium(workdir, f"--screenshot={screenshot}", page.as_uri())
    if not screenshot.exists():
        pytest.fail(f"chromium ran but wrote no screenshot of {page}")
    return Rendered(_chromium(workdir, "--dump-dom", page.as_uri()), screenshot)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's header (signature, then the IHDR chunk)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20]), int.from_bytes(data[20:24])


def distinct_colours(path: Path) -> int:
    pixels = image.imread(path)  # floats in [0, 1], one column per channel
    channels = np.rint(pixels.reshape(-1, pixels.shape[-1]) * 255).astype(np.uint32)
    # One integer per colour: unique integers are far quicker than unique rows.
    packed = sum(channels[:, i] << (8 * i) for i in range(channels.shape[1]))
    return len(np.unique(packed))
