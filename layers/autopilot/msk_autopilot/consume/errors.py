"""Why a record was not consumed: it cannot be, as configured (poison)."""

from __future__ import annotations

__all__ = ["PoisonRecordError"]


class PoisonRecordError(ValueError):
    """The record cannot be consumed as configured (its bytes, its schema, or a schema
    registry that could not give its schema): it is quarantined with the reason, not retried."""
