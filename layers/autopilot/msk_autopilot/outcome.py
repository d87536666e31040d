"""What a function did with an event: the typed result every handler returns."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import msgspec

__all__ = ["Outcome", "Status"]


class Status(StrEnum):
    ACTED = "acted"  # changed something in AWS
    DRY_RUN = "dry_run"  # would have changed something; dry-run mode stopped it
    UNCHANGED = "unchanged"  # looked, and nothing needed to change
    SKIPPED = "skipped"  # did not look or act, for a stated reason (not ACTIVE, cool-down...)
    REJECTED = "rejected"  # the event itself was invalid or unsupported


class Outcome(msgspec.Struct, frozen=True):
    status: Status
    reason: str
    details: Mapping[str, Any] = msgspec.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "reason": self.reason, "details": dict(self.details)}
