"""A cluster's maintenance window, from its `msk-autopilot:maintenance-window` tag, in UTC.

Form: one or more `DAYS HH:MM-HH:MM` ranges separated by ";", where DAYS is a comma list of days
or day spans (mon, tue, ..., sun; "mon-fri", "fri-mon" wraps). A range whose end is not after its
start crosses midnight: "mon-fri 22:00-02:00" opens Monday to Friday at 22:00 and closes at 02:00
the next morning (so Saturday 01:00 is inside, Monday 01:00 is not). Ends are exclusive; "24:00"
is allowed as an end. No tag means any time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import msgspec

__all__ = ["WINDOW_FORM", "MaintenanceWindow", "WindowError"]

WINDOW_FORM = (
    'expected "DAYS HH:MM-HH:MM" in UTC, several separated by ";", '
    'e.g. "sat,sun 02:00-06:00" or "mon-fri 22:00-02:00; sun 10:00-12:00"'
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_MINUTES = 24 * 60
_WEEK_MINUTES = 7 * _DAY_MINUTES
_RANGE = re.compile(
    r"(?P<days>[a-z,\- ]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})"
)


class WindowError(ValueError):
    """A maintenance-window tag value that cannot be read; the message gives the expected form."""


class _Opening(msgspec.Struct, frozen=True):
    """One weekly opening: minutes from Monday 00:00 UTC; `end` may pass the week's end."""

    start: int
    end: int

    def contains(self, minute: float) -> bool:
        return self.start <= minute < self.end or self.start <= minute + _WEEK_MINUTES < self.end


class MaintenanceWindow(msgspec.Struct, frozen=True):
    """When a cluster may be upgraded; `text` is the tag value, None meaning any time."""

    text: str | None = None
    openings: tuple[_Opening, ...] = ()

    @classmethod
    def from_tag(cls, value: str | None) -> MaintenanceWindow:
        """Parse the tag (None when the cluster has none: any time); raises WindowError."""
        if value is None:
            return cls()
        openings: list[_Opening] = []
        for part in value.split(";"):
            openings.extend(_parse_range(part.strip().lower(), value))
        return cls(text=value, openings=tuple(openings))

    @property
    def any_time(self) -> bool:
        return not self.openings

    def in_window(self, now: datetime) -> bool:
        if self.any_time:
            return True
        minute = _minute_of_week(now)
        return any(opening.contains(minute) for opening in self.openings)

    def next_opening(self, now: datetime) -> datetime:
        """The first moment at or after `now` inside the window (`now` itself when inside)."""
        if self.in_window(now):
            return now
        utc = now.astimezone(UTC)
        monday = (utc - timedelta(days=utc.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        candidates = (
            monday + timedelta(minutes=opening.start + week * _WEEK_MINUTES)
            for opening in self.openings
            for week in (0, 1)
        )
        return min(candidate for candidate in candidates if candidate > utc)

    def describe(self) -> str:
        return "any time" if self.text is None else f"{self.text} UTC"


def _minute_of_week(now: datetime) -> float:
    if now.tzinfo is None:
        raise ValueError("a maintenance window needs an aware datetime (UTC)")
    utc = now.astimezone(UTC)
    return (
        utc.weekday() * _DAY_MINUTES
        + utc.hour * 60
        + utc.minute
        + (utc.second + utc.microsecond / 1e6) / 60
    )


def _parse_range(part: str, whole: str) -> list[_Opening]:
    match = _RANGE.fullmatch(part)
    if match is None:
        raise WindowError(f"maintenance window {whole!r} is not valid: {WINDOW_FORM}")
    start = _clock(match["start"], whole, allow_24=False)
    end = _clock(match["end"], whole, allow_24=True)
    if start == end:
        raise WindowError(
            f"maintenance window {whole!r} has an empty range {part!r}: {WINDOW_FORM}"
        )
    length = end - start if end > start else end + _DAY_MINUTES - start
    return [
        _Opening(day * _DAY_MINUTES + start, day * _DAY_MINUTES + start + length)
        for day in _days(match["days"], whole)
    ]


def _clock(text: str, whole: str, *, allow_24: bool) -> int:
    hours, minutes = (int(piece) for piece in text.split(":"))
    if allow_24 and (hours, minutes) == (24, 0):
        return _DAY_MINUTES
    if hours > 23 or minutes > 59:
        raise WindowError(f"maintenance window {whole!r} has no time {text!r}: {WINDOW_FORM}")
    return hours * 60 + minutes


def _days(text: str, whole: str) -> list[int]:
    days: list[int] = []
    for item in (piece.strip() for piece in text.split(",")):
        first, _, last = item.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise WindowError(f"maintenance window {whole!r} has no day {item!r}: {WINDOW_FORM}")
        start = _DAYS.index(first)
        span = (_DAYS.index(last) - start) % 7 if last else 0
        days.extend((start + offset) % 7 for offset in range(span + 1))
    return sorted(set(days))
