"""Process-wide emulator state: the emulated clock, the timing settings and pending faults.

Time, settings and faults are global to the process (like moto's backends), not per account or
Region. One re-entrant lock serialises MSK requests and control calls, because the server
answers requests on several threads.
"""

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any


class EmulatorClock:
    """Wall-clock time plus an offset that only grows: emulated time never runs backwards.

    A frozen clock stands still between advances, so a scenario replayed with and without faults
    (whose retries take real seconds) sees the same times. Listeners run after every advance, in
    the order they subscribed: the parts of the emulator that follow time (health metrics, alarm
    evaluation) catch up there."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        self._listeners: list[Callable[[], object]] = []

    def subscribe(self, listener: Callable[[], object]) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], object]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _advanced(self) -> datetime:
        for listener in list(self._listeners):
            listener()
        return self.now()

    def now(self) -> datetime:
        return (self._frozen_at or datetime.now(UTC)) + self._offset

    def freeze(self) -> datetime:
        """Stop the clock at the next whole minute (forward, never back) until ``reset``."""
        if self._frozen_at is None:
            now = self.now()
            minute = now.replace(second=0, microsecond=0)
            frozen = minute if minute == now else minute + timedelta(minutes=1)
            self._frozen_at = frozen - self._offset
        return self.now()

    def advance(self, seconds: float) -> datetime:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(
                "The clock can only be advanced by a finite, non-negative number of seconds."
            )
        self._offset += timedelta(seconds=seconds)
        return self._advanced()

    def advance_to(self, moment: datetime) -> datetime:
        now = self.now()
        if moment > now:
            self._offset += moment - now
            return self._advanced()
        return now

    def reset(self) -> None:
        self._offset = timedelta(0)
        self._frozen_at = None


@dataclass
class EmulatorSettings:
    """How long things take on the emulated clock, in seconds."""

    # 0 means a new cluster is ACTIVE from the next API call on.
    cluster_create_seconds: float = 0.0
    # 0 means a new MSK Connect connector is RUNNING from the next API call on.
    connector_create_seconds: float = 0.0
    # Every update operation (storage, configuration, security, reboot, ...) runs this long.
    operation_seconds: float = 300.0
    # MSK's minimum wait after a storage change before the next one is accepted.
    storage_cooldown_seconds: float = 6 * 3600.0

    def update(self, **values: Any) -> None:
        """Validate every value first, then apply them all (or none)."""
        known = {field.name for field in fields(self)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown emulator settings: {', '.join(unknown)}.")
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"Setting {name} must be a number of seconds.")
            if not math.isfinite(value) or value < 0:
                raise ValueError(
                    f"Setting {name} must be a finite, non-negative number of seconds."
                )
        for name, value in values.items():
            setattr(self, name, float(value))

    def as_dict(self) -> dict[str, float]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


@dataclass(frozen=True)
class OperationFault:
    """The error an injected failure reports in the operation's ErrorInfo."""

    error_code: str
    error_string: str


class EmulatorState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock = EmulatorClock()
        self.settings = EmulatorSettings()
        self.pending_faults: deque[OperationFault] = deque()

    def take_fault(self) -> OperationFault | None:
        return self.pending_faults.popleft() if self.pending_faults else None

    def reset(self) -> None:
        self.clock.reset()
        self.settings = EmulatorSettings()
        self.pending_faults.clear()


emulator_state = EmulatorState()
