"""Why a record was not consumed: its own fault (poison) or a dependency's (transient)."""

from __future__ import annotations

__all__ = ["PoisonRecordError", "TransientDecodeError"]


class PoisonRecordError(ValueError):
    """The record can never be consumed as configured: it is quarantined, not retried."""


class TransientDecodeError(RuntimeError):
    """A dependency of decoding (a schema registry) failed; the record is retried later."""
