"""The emulator's clock: wall time plus an offset that only grows, or frozen between advances."""

from datetime import timedelta

import pytest

from msk_autopilot_local.emulator.state import EmulatorClock


def test_a_frozen_clock_stands_still_at_the_next_whole_minute_and_moves_only_when_advanced():
    clock = EmulatorClock()
    clock.advance(7.5)
    before = clock.now()
    frozen = clock.freeze()
    assert frozen >= before
    assert frozen - before < timedelta(minutes=1)
    assert (frozen.second, frozen.microsecond) == (0, 0)
    assert clock.now() == frozen == clock.freeze()
    assert clock.advance(90) == frozen + timedelta(seconds=90)
    assert clock.now() == frozen + timedelta(seconds=90)


def test_reset_lets_a_frozen_clock_run_again():
    clock = EmulatorClock()
    clock.freeze()
    clock.reset()
    first = clock.now()
    assert clock.now() > first


def test_the_clock_refuses_to_run_backwards():
    clock = EmulatorClock()
    with pytest.raises(ValueError, match="non-negative"):
        clock.advance(-1)
