"""The local event source mapping's one "could not start" error."""

from __future__ import annotations

from msk_autopilot_local.errors import LocalToolError

__all__ = ["EsmError"]


class EsmError(LocalToolError):
    """The poller cannot start: a bad option, an unknown function, Kafka unreachable..."""
