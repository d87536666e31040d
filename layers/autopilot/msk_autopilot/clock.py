"""Wall-clock time as the functions see it.

In Lambda this is the system clock. The local tools run functions against an emulated AWS whose
clock can run ahead of the system's (so cool-downs and long operations pass in seconds); they set
`OFFSET_VARIABLE` to that lead, so a function reads metrics, judges event times and compares
operation times on the same clock as the world it acts on. Nothing in a deployed stack sets it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

__all__ = ["OFFSET_VARIABLE", "now"]

OFFSET_VARIABLE = "MSK_AUTOPILOT_CLOCK_OFFSET_SECONDS"


def now() -> datetime:
    raw = os.environ.get(OFFSET_VARIABLE)
    offset = timedelta(seconds=float(raw)) if raw else timedelta(0)
    return datetime.now(UTC) + offset
