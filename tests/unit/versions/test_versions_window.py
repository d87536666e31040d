"""Maintenance windows from the `msk-autopilot:maintenance-window` tag, in UTC."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msk_autopilot.versions.window import MaintenanceWindow, WindowError

# 2026-12-05 is a Saturday.
SAT = datetime(2026, 12, 5, tzinfo=UTC)


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return SAT + timedelta(days=day_offset, hours=hour, minutes=minute)


def test_no_tag_means_any_time() -> None:
    window = MaintenanceWindow.from_tag(None)
    assert window.any_time
    assert window.in_window(at(3, 13))
    assert window.next_opening(at(3, 13)) == at(3, 13)
    assert window.describe() == "any time"


def test_a_weekend_window_has_inclusive_starts_and_exclusive_ends() -> None:
    window = MaintenanceWindow.from_tag("sat,sun 02:00-06:00")
    assert not window.in_window(at(0, 1, 59))
    assert window.in_window(at(0, 2))
    assert window.in_window(at(1, 5, 59))
    assert not window.in_window(at(1, 6))
    assert not window.in_window(at(2, 3))  # Monday
    assert window.describe() == "sat,sun 02:00-06:00 UTC"


def test_a_range_crossing_midnight_belongs_to_the_day_it_opens() -> None:
    window = MaintenanceWindow.from_tag("mon-fri 22:00-02:00")
    assert window.in_window(at(6, 23))  # Friday 23:00
    assert window.in_window(at(0, 1, 30))  # Saturday 01:30: Friday's opening
    assert not window.in_window(at(0, 2))
    assert not window.in_window(at(2, 1))  # Monday 01:00: Sunday has no opening
    assert window.in_window(at(2, 22))
    # Sunday night crossing into Monday wraps around the end of the week.
    sunday = MaintenanceWindow.from_tag("sun 23:00-01:00")
    assert sunday.in_window(at(1, 23, 30))
    assert sunday.in_window(at(2, 0, 30))
    assert not sunday.in_window(at(2, 1))


def test_several_ranges_and_day_spans_that_wrap() -> None:
    window = MaintenanceWindow.from_tag("wed 03:00-04:00; fri-mon 10:00-24:00")
    assert window.in_window(at(4, 3, 30))  # Wednesday
    assert window.in_window(at(2, 23, 59))  # Monday, within fri-mon
    assert not window.in_window(at(3, 12))  # Tuesday
    assert window.in_window(at(6, 10))  # Friday


def test_next_opening_is_the_nearest_start_even_next_week() -> None:
    window = MaintenanceWindow.from_tag("sat,sun 02:00-06:00")
    assert window.next_opening(at(0, 1)) == at(0, 2)
    assert window.next_opening(at(0, 3)) == at(0, 3)  # inside: now
    assert window.next_opening(at(1, 6)) == at(7, 2)  # Sunday closed: next Saturday
    several = MaintenanceWindow.from_tag("wed 03:00-04:00; mon 22:00-02:00")
    assert several.next_opening(at(2, 5)) == at(2, 22)
    assert several.next_opening(at(3, 5)) == at(4, 3)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "weekends",
        "sat 2-6",
        "sat 02:00",
        "sa 02:00-06:00",
        "sat 25:00-06:00",
        "sat 02:60-06:00",
        "sat 02:00-02:00",
        "sat 24:00-02:00",
        "sat 02:00-06:00;",
        "sat,,sun 02:00-06:00",
    ],
)
def test_a_bad_value_is_an_error_showing_the_expected_form(value: str) -> None:
    with pytest.raises(WindowError) as raised:
        MaintenanceWindow.from_tag(value)
    assert repr(value) in str(raised.value)
    assert 'e.g. "sat,sun 02:00-06:00"' in str(raised.value)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        MaintenanceWindow.from_tag("sat 02:00-06:00").in_window(datetime(2026, 12, 5, 3))


_DAY = st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
_CLOCK = st.tuples(st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def windows(draw: st.DrawFn) -> str:
    ranges = []
    for _ in range(draw(st.integers(1, 3))):
        days = ",".join(sorted(set(draw(st.lists(_DAY, min_size=1, max_size=3)))))
        start, end = draw(_CLOCK), draw(_CLOCK)
        if start == end:
            end = ((start[0] + 1) % 24, start[1])
        ranges.append(f"{days} {start[0]:02}:{start[1]:02}-{end[0]:02}:{end[1]:02}")
    return "; ".join(ranges)


_NOW = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(text=windows(), now=_NOW)
def test_next_opening_is_open_within_a_week_and_nothing_opens_before_it(
    text: str, now: datetime
) -> None:
    window = MaintenanceWindow.from_tag(text)
    opening = window.next_opening(now)
    assert now <= opening < now + timedelta(weeks=1)
    assert window.in_window(opening)
    if opening > now:
        # Openings fall on quarter hours here, so a quarter-hour scan misses none.
        probe = now
        while probe < opening:
            assert not window.in_window(probe)
            probe += timedelta(minutes=15)
        assert not window.in_window(opening - timedelta(seconds=1))
