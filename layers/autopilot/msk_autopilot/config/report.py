"""What a configuration rollout reports: the state of each desired configuration, where each
cluster stands, and the run's outcome."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

import msgspec

from msk_autopilot.config.desired import (
    MSK_NAME_PREFIX,
    UnusableParameter,
)
from msk_autopilot.msk import (
    ClusterSnapshot,
)
from msk_autopilot.outcome import Outcome, Status

if TYPE_CHECKING:
    pass

__all__ = ["ClusterPosition", "ConfigurationReport", "RolloutState", "RunReport"]


class RolloutState(StrEnum):
    INVALID = "invalid"  # the desired text fails validation: nothing applied
    REFUSED = "refused"  # the desired text trips a guardrail no tag overrides: nothing applied
    BLOCKED = "blocked"  # the MSK configuration cannot take the text, or MSK refused an update
    HALTED = "halted"  # an update failed: rolled back, waiting for the configuration to be pushed
    WAITING = "waiting"  # a configuration update runs, or the next cluster is busy
    UPDATING = "updating"  # this run started the next cluster's update
    PLANNED = "planned"  # dry-run: this run would have changed something
    COMPLETE = "complete"  # every eligible follower runs the target revision
    FAILED = "failed"  # an unexpected error; other configurations went on


class ClusterPosition(msgspec.Struct, frozen=True):
    """The configuration revision a cluster runs."""

    arn: str
    revision: int

    @classmethod
    def of(cls, cluster: ClusterSnapshot) -> ClusterPosition | None:
        software = cluster.provisioned.current_broker_software_info if cluster.provisioned else None
        if software is None or not software.configuration_arn:
            return None
        return cls(software.configuration_arn, software.configuration_revision or 0)

    @classmethod
    def from_api(cls, info: dict[str, Any] | None) -> ClusterPosition | None:
        if not info or "Arn" not in info:
            return None
        return cls(str(info["Arn"]), int(info["Revision"]))

    @property
    def configuration_name(self) -> str:
        """The configuration's name, from its ARN (...:configuration/<name>/<id>)."""
        return self.arn.partition(":configuration/")[2].partition("/")[0] or self.arn

    @property
    def managed(self) -> bool:
        """Whether the configuration is one of msk-autopilot's."""
        return self.configuration_name.startswith(MSK_NAME_PREFIX)

    def as_api(self) -> dict[str, Any]:
        return {"Arn": self.arn, "Revision": self.revision}

    def __str__(self) -> str:
        return f"{self.configuration_name} revision {self.revision}"


class RevisionTarget(msgspec.Struct, frozen=True):
    """The revision followers should run; `arn` is None when a dry run would create it."""

    arn: str | None
    revision: int
    kafka_versions: tuple[str, ...]

    def holds(self, position: ClusterPosition | None) -> bool:
        return position is not None and (position.arn, position.revision) == (
            self.arn,
            self.revision,
        )

    def as_api(self) -> dict[str, Any]:
        return {"Arn": self.arn, "Revision": self.revision}


class ConfigurationReport(msgspec.Struct):
    """What one run found and did for one named configuration."""

    name: str
    state: RolloutState = RolloutState.COMPLETE
    reason: str = ""
    configuration_arn: str | None = None
    revision: int | None = None
    order: list[str] = msgspec.field(default_factory=list)
    skipped: dict[str, str] = msgspec.field(default_factory=dict)
    drifted: list[str] = msgspec.field(default_factory=list)
    problems: list[str] = msgspec.field(default_factory=list)
    guardrail_overrides: list[str] = msgspec.field(default_factory=list)
    actions: list[str] = msgspec.field(default_factory=list)
    acted: bool = False

    def finish(self, state: RolloutState, reason: str) -> ConfigurationReport:
        self.state, self.reason = state, reason
        return self

    def to_dict(self) -> dict[str, Any]:
        report: dict[str, Any] = {"state": self.state.value, "reason": self.reason}
        for key, value in (
            ("configurationArn", self.configuration_arn),
            ("revision", self.revision),
            ("order", self.order),
            ("skipped", self.skipped),
            ("drifted", self.drifted),
            ("problems", self.problems),
            ("guardrailOverrides", self.guardrail_overrides),
            ("actions", self.actions),
        ):
            if value:
                report[key] = value
        return report


class RunReport(msgspec.Struct):
    configurations: list[ConfigurationReport] = msgspec.field(default_factory=list)
    not_following: dict[str, str] = msgspec.field(default_factory=dict)  # cluster -> why
    unusable: list[UnusableParameter] = msgspec.field(default_factory=list)

    def outcome(self, *, dry_run: bool) -> Outcome:
        states = {report.state for report in self.configurations}
        if any(report.acted for report in self.configurations):
            status = Status.ACTED
        elif dry_run and RolloutState.PLANNED in states:
            status = Status.DRY_RUN
        else:
            status = Status.UNCHANGED
        counts = ", ".join(
            f"{sum(r.state is state for r in self.configurations)} {state.value}"
            for state in RolloutState
            if state in states
        )
        details: dict[str, Any] = {
            "configurations": {r.name: r.to_dict() for r in self.configurations}
        }
        if self.not_following:
            details["clustersNotFollowing"] = self.not_following
        if self.unusable:
            details["unusableParameters"] = {u.parameter: u.reason for u in self.unusable}
        return Outcome(status, f"configurations: {counts or 'none'}", details)
