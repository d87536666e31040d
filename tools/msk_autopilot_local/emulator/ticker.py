"""The emulator part that keeps CloudWatch going while a local account is served: on every
advance of the emulated clock and every ``interval`` seconds of real time, the minutes that
passed are published for clusters with a health profile (``health``) and every metric alarm is
evaluated, with its actions and events (``alarm_actions``).

``local_aws`` runs one for as long as it serves; tests call ``control.tick()`` instead of waiting.
"""

from __future__ import annotations

import threading

from .alarm_actions import evaluate_and_act
from .health import publish_due
from .state import emulator_state

__all__ = ["EmulatorTicker", "tick"]


def tick() -> None:
    """Bring health metrics and alarm states up to the emulator's now."""
    publish_due()
    evaluate_and_act()


class EmulatorTicker:
    """A daemon thread that ticks every ``interval`` seconds, and ticks after every clock
    advance while it runs."""

    def __init__(self, interval: float) -> None:
        if not interval > 0:
            raise ValueError("The tick interval must be a positive number of seconds.")
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="emulator-ticker", daemon=True)

    def start(self) -> None:
        # Health metrics already follow the clock (install() subscribes them); alarms follow here.
        emulator_state.clock.subscribe(evaluate_and_act)
        self._thread.start()

    def stop(self) -> None:
        emulator_state.clock.unsubscribe(evaluate_and_act)
        self._stopped.set()
        if self._thread.ident is not None:  # stopping one that never started is a no-op
            self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            tick()
