"""The kinds of change the autopilot makes to a cluster, and what a gate holding one says."""

from __future__ import annotations

from enum import StrEnum

import msgspec

__all__ = ["ChangeKind", "Deferral"]


class ChangeKind(StrEnum):
    """A kind of cluster change, as the health gates tell them apart.

    `rolling` kinds restart brokers one at a time, so they need a healthy cluster and default to
    *closed* when a gate cannot tell (missing metrics); the others default to *open*.
    """

    STORAGE_GROWTH = "storage_growth"
    CONFIGURATION = "configuration"
    SCRAM_ASSOCIATION = "scram_association"
    BROKER_TYPE_LARGER = "broker_type_larger"
    BROKER_TYPE_SMALLER = "broker_type_smaller"
    BROKER_COUNT_UP = "broker_count_up"
    BROKER_COUNT_DOWN = "broker_count_down"
    KAFKA_VERSION = "kafka_version"
    REMEDIATION = "remediation"

    @property
    def rolling(self) -> bool:
        return self in _ROLLING

    @property
    def closed_when_unknown(self) -> bool:
        """Whether a gate that cannot tell holds this kind (rolling changes, broker removal)."""
        return self in _ROLLING or self is ChangeKind.BROKER_COUNT_DOWN


_ROLLING = frozenset(
    {
        ChangeKind.CONFIGURATION,
        ChangeKind.BROKER_TYPE_LARGER,
        ChangeKind.BROKER_TYPE_SMALLER,
        ChangeKind.KAFKA_VERSION,
        ChangeKind.REMEDIATION,
    }
)


class Deferral(msgspec.Struct, frozen=True):
    """A change held by a gate: which gate, and why, in words a human can act on."""

    gate: str
    reason: str
    change: ChangeKind

    def describe(self) -> str:
        return f"deferred by gate {self.gate}: {self.reason}"
