"""Fixtures shared by every test suite."""

import json
import sys
from collections.abc import Callable

import pytest

from msk_autopilot.observability import logger

# The MSK emulator's fixtures (msk_emulator, msk_emulator_server, msk_emulator_http).
pytest_plugins = ["msk_autopilot_local.emulator.testing"]


class _CurrentStdout:
    """Writes to whatever sys.stdout is now: pytest swaps it per test and phase, while
    powertools' log handler would keep the stream it was created with."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


logger.registered_handler.stream = _CurrentStdout()


@pytest.fixture
def emitted(capsys) -> Callable[[], list[dict]]:
    """Returns a reader of the JSON lines (logs and EMF metrics) emitted so far."""

    def read() -> list[dict]:
        lines = capsys.readouterr().out.splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    return read
