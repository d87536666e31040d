"""What a function did with an event, and how urgently a human should look: the shared vocabulary.

`Outcome` is the typed result every handler returns; `Severity` grades what a function tells a
human (SNS notices, storage decisions).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import msgspec

__all__ = ["Outcome", "Severity", "Status", "plural"]


class Status(StrEnum):
    ACTED = "acted"  # changed something in AWS
    DRY_RUN = "dry_run"  # would have changed something; dry-run mode stopped it
    UNCHANGED = "unchanged"  # looked, and nothing needed to change
    SKIPPED = "skipped"  # did not look or act, for a stated reason (not ACTIVE, cool-down...)
    DEFERRED = "deferred"  # would act, but a health gate holds the change; the next sweep retries
    REJECTED = "rejected"  # the event itself was invalid or unsupported


def plural(count: int, noun: str) -> str:
    """`1 cluster`, `2 clusters`: a count with its noun in the right number."""
    return f"{count} {noun if count == 1 else noun + 's'}"


class Severity(StrEnum):
    """How urgently a human should look; subscribers filter notices on it."""

    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


class Outcome(msgspec.Struct, frozen=True):
    status: Status
    reason: str
    details: Mapping[str, Any] = msgspec.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "reason": self.reason, "details": dict(self.details)}
