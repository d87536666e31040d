"""The fleet's upgrade plan: per cluster, where it goes, by which hops, and whether it goes now.

Pure: the I/O layer gathers `ClusterFacts` (DescribeClusterV2, the configuration's KafkaVersions,
ListClusterOperationsV2 filtered to version upgrades), the catalogue reconciled with
ListKafkaVersions and the GetCompatibleKafkaVersions graph, and passes `now`. Health gates are
asked at act time by the I/O layer, not here.

The rollout: canaries (`msk-autopilot:canary=true`) first, then the rest, the nearest end of
support first within each. Any version upgrade running, or a managed cluster whose latest upgrade
failed, halts the rollout. After an upgrade ends, nothing starts for `soak`. At most
`max_concurrent` start at once, never two sharing a configuration. A cluster outside its window
waits for the next opening, unless that opening comes after its deadline (`deadline_margin_days`
before end of support): then it goes now, and the plan says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import msgspec

from msk_autopilot.versions.catalogue import (
    DEFAULT_ENDING_SOON_DAYS,
    Catalogue,
    SupportState,
    SupportStatus,
)
from msk_autopilot.versions.paths import (
    KRAFT_MIGRATION_PREREQUISITES,
    CompatibilityGraph,
    kraft_migration_hop,
    missing_path_reason,
    needs_compatible_configuration,
    upgrade_path,
)
from msk_autopilot.versions.target import (
    PINNED,
    TARGET_TAG,
    WINDOW_TAG,
    TargetKind,
    is_canary,
    resolve_target,
)
from msk_autopilot.versions.window import MaintenanceWindow, WindowError

__all__ = [
    "Action",
    "ClusterFacts",
    "ClusterPlan",
    "FleetPlan",
    "RolloutPolicy",
    "UpgradeOperation",
    "plan_fleet",
]

RUNNING_STATES = frozenset({"PENDING", "UPDATE_IN_PROGRESS"})


class Action(StrEnum):
    UPGRADE_NOW = "upgrade_now"
    WAIT_SOAK = "wait_soak"
    WAIT_WINDOW = "wait_window"
    WAIT_TURN = "wait_turn"
    UP_TO_DATE = "up_to_date"
    PINNED = "pinned"
    SKIPPED = "skipped"
    NOT_OPTED_IN = "not_opted_in"
    HALTED = "halted"


_WAITING = frozenset({Action.UPGRADE_NOW, Action.WAIT_SOAK, Action.WAIT_WINDOW, Action.WAIT_TURN})


class UpgradeOperation(msgspec.Struct, frozen=True):
    """One UPDATE_CLUSTER_KAFKA_VERSION operation (ListClusterOperationsV2)."""

    state: str
    started: datetime
    ended: datetime | None = None

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES


class ClusterFacts(msgspec.Struct, frozen=True):
    """What the planner needs to know about one cluster.

    `configuration_kafka_versions` is the KafkaVersions of the cluster's custom configuration
    (None when it uses MSK's default configuration).
    """

    arn: str
    name: str
    current_version: str
    state: str
    opted_in: bool
    tags: Mapping[str, str] = {}
    configuration_arn: str | None = None
    configuration_revision: int | None = None
    configuration_kafka_versions: tuple[str, ...] | None = None
    upgrades: tuple[UpgradeOperation, ...] = ()

    @property
    def latest_upgrade(self) -> UpgradeOperation | None:
        return max(self.upgrades, key=lambda operation: operation.started, default=None)


class RolloutPolicy(msgspec.Struct, frozen=True):
    """The rollout's settings (stack parameters)."""

    soak: timedelta = timedelta(hours=1)
    max_concurrent: int = 1
    deadline_margin_days: int = 30
    ending_soon_days: int = DEFAULT_ENDING_SOON_DAYS


class ClusterPlan(msgspec.Struct, frozen=True):
    """One cluster's place in the rollout; `position` is 1-based among clusters with work left."""

    arn: str
    name: str
    current: str
    target: str | None
    path: tuple[str, ...]
    next_hop: str | None
    support: SupportStatus
    window: str | None
    canary: bool
    action: Action
    reason: str
    position: int | None = None
    act_by: date | None = None
    forced_by_deadline: bool = False
    needs_compatible_configuration: bool = False
    kraft_prerequisites: tuple[str, ...] = ()


class FleetPlan(msgspec.Struct, frozen=True):
    """The plan for every cluster, in rollout order; `halted` says why nothing starts, if so."""

    now: datetime
    clusters: tuple[ClusterPlan, ...]
    halted: str | None = None
    unknown_versions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates ISO 8601, enums by value (for `plan-upgrades --json`)."""
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result

    def by_name(self, name: str) -> ClusterPlan:
        return next(plan for plan in self.clusters if plan.name == name)


class _Draft(msgspec.Struct):
    """A cluster with work left, before the rollout decides its turn."""

    facts: ClusterFacts
    plan: ClusterPlan
    window: MaintenanceWindow


def plan_fleet(
    clusters: Sequence[ClusterFacts],
    catalogue: Catalogue,
    graph: CompatibilityGraph,
    policy: RolloutPolicy,
    now: datetime,
) -> FleetPlan:
    """Plan every cluster; see the module docstring for the rules."""
    settled: list[ClusterPlan] = []
    drafts: list[_Draft] = []
    for facts in clusters:
        outcome = _draft(facts, catalogue, graph, policy, now)
        if isinstance(outcome, _Draft):
            drafts.append(outcome)
        else:
            settled.append(outcome)
    drafts.sort(key=lambda draft: _urgency(draft.plan))
    halted = _halt_reason(clusters)
    ordered = [
        msgspec.structs.replace(decided, position=index)
        for index, decided in enumerate(_take_turns(drafts, clusters, policy, now, halted), 1)
    ]
    settled.sort(key=lambda plan: plan.name)
    return FleetPlan(now, (*ordered, *settled), halted, catalogue.unknown)


def _draft(
    facts: ClusterFacts,
    catalogue: Catalogue,
    graph: CompatibilityGraph,
    policy: RolloutPolicy,
    now: datetime,
) -> _Draft | ClusterPlan:
    support = catalogue.support(
        facts.current_version, now.astimezone(UTC).date(), ending_soon_days=policy.ending_soon_days
    )
    base = ClusterPlan(
        facts.arn,
        facts.name,
        facts.current_version,
        target=None,
        path=(),
        next_hop=None,
        support=support,
        window=facts.tags.get(WINDOW_TAG),
        canary=is_canary(facts.tags),
        action=Action.SKIPPED,
        reason="",
    )
    settled = _settled(facts, catalogue, base)
    if settled.action is not Action.UPGRADE_NOW:
        return settled
    current, target = facts.current_version, settled.target or ""
    try:
        window = MaintenanceWindow.from_tag(base.window)
    except WindowError as error:
        return msgspec.structs.replace(settled, action=Action.SKIPPED, reason=f"skipped: {error}")
    path = upgrade_path(graph, current, target)
    if path is None:
        reason = f"skipped: {missing_path_reason(graph, current, target)}"
        return msgspec.structs.replace(settled, action=Action.SKIPPED, reason=reason)
    next_hop = path[0]
    revision_versions = facts.configuration_kafka_versions
    plan = msgspec.structs.replace(
        settled,
        path=path,
        next_hop=next_hop,
        act_by=_act_by(support, policy),
        needs_compatible_configuration=revision_versions is not None
        and needs_compatible_configuration(revision_versions, next_hop),
        kraft_prerequisites=(
            tuple(item.key for item in KRAFT_MIGRATION_PREREQUISITES)
            if kraft_migration_hop(current, path[:1])
            else ()
        ),
    )
    return _Draft(facts, plan, window)


def _settled(facts: ClusterFacts, catalogue: Catalogue, base: ClusterPlan) -> ClusterPlan:
    """The plan of a cluster with nothing to do, or `base` with its target and UPGRADE_NOW."""
    if not facts.opted_in:
        return msgspec.structs.replace(
            base, action=Action.NOT_OPTED_IN, reason="not opted in: never upgraded"
        )
    target = resolve_target(facts.tags, facts.current_version, catalogue)
    if target.kind is TargetKind.PINNED:
        return msgspec.structs.replace(
            base, action=Action.PINNED, reason=_pinned_reason(base.support)
        )
    if target.kind is TargetKind.INVALID or target.version is None:
        return msgspec.structs.replace(base, reason=f"skipped: {target.problem}")
    if target.version == facts.current_version:
        return msgspec.structs.replace(
            base,
            target=target.version,
            action=Action.UP_TO_DATE,
            reason=f"on its target {target.version}; {base.support.describe()}",
        )
    return msgspec.structs.replace(base, target=target.version, action=Action.UPGRADE_NOW)


def _pinned_reason(support: SupportStatus) -> str:
    if support.state in {SupportState.ENDING_SOON, SupportState.PAST_END_OF_SUPPORT}:
        return (
            f"pinned: never upgraded, at risk: {support.describe()}; "
            "MSK upgrades it itself at any time after end of support"
        )
    return f"pinned: never upgraded; {support.describe()}"


def _act_by(support: SupportStatus, policy: RolloutPolicy) -> date | None:
    if support.end_of_support is None:
        return None
    return support.end_of_support - timedelta(days=policy.deadline_margin_days)


def _urgency(plan: ClusterPlan) -> tuple[bool, date, str]:
    return (not plan.canary, plan.act_by or date.max, plan.name)


def _halt_reason(clusters: Sequence[ClusterFacts]) -> str | None:
    """A running upgrade anywhere, or a managed cluster whose latest upgrade failed, halts all."""
    for facts in clusters:
        latest = facts.latest_upgrade
        if latest is None:
            continue
        if latest.running:
            since = f"{latest.started:%Y-%m-%d %H:%M} UTC"
            return f"the version upgrade of {facts.name} is running (since {since})"
        managed = facts.opted_in and facts.tags.get(TARGET_TAG, "").strip().lower() != PINNED
        if latest.state == "UPDATE_FAILED" and managed:
            return (
                f"the latest version upgrade of {facts.name} failed: fix and upgrade it, or pin it"
            )
    return None


def _last_ended(clusters: Sequence[ClusterFacts]) -> tuple[datetime, str] | None:
    ended = [
        (operation.ended, facts.name)
        for facts in clusters
        for operation in facts.upgrades
        if operation.state == "UPDATE_COMPLETE" and operation.ended is not None
    ]
    return max(ended, default=None)


def _take_turns(
    drafts: Sequence[_Draft],
    clusters: Sequence[ClusterFacts],
    policy: RolloutPolicy,
    now: datetime,
    halted: str | None,
) -> list[ClusterPlan]:
    last = _last_ended(clusters)
    soak_until = last[0] + policy.soak if last else None
    pending_canaries = [draft.plan.name for draft in drafts if draft.plan.canary]
    started: list[_Draft] = []
    decided: list[ClusterPlan] = []
    for draft in drafts:
        action, reason, forced = _turn(draft, started, pending_canaries, policy, now)
        if halted is not None:
            action, reason, forced = Action.HALTED, f"rollout halted: {halted}", False
        elif last is not None and soak_until is not None and now < soak_until:
            action, forced = Action.WAIT_SOAK, False
            reason = f"soaking after {last[1]}'s upgrade until {soak_until:%Y-%m-%d %H:%M} UTC"
        if action is Action.UPGRADE_NOW:
            started.append(draft)
        decided.append(
            msgspec.structs.replace(
                draft.plan, action=action, reason=reason, forced_by_deadline=forced
            )
        )
    return decided


def _turn(
    draft: _Draft,
    started: Sequence[_Draft],
    pending_canaries: Sequence[str],
    policy: RolloutPolicy,
    now: datetime,
) -> tuple[Action, str, bool]:
    plan = draft.plan
    waiting = _waiting_reason(draft, started, pending_canaries, policy)
    if waiting is not None:
        return Action.WAIT_TURN, f"waiting: {waiting}", False
    hop = f"{plan.current} -> {plan.next_hop}"
    window = draft.window.describe()
    if draft.window.in_window(now):
        return Action.UPGRADE_NOW, f"upgrade {hop} now ({window})", False
    opening = draft.window.next_opening(now)
    deadline = datetime.combine(plan.act_by, time(), UTC) if plan.act_by else None
    if deadline is not None and opening > deadline:
        reason = (
            f"upgrade {hop} now, outside its window ({window}): the next opening "
            f"{opening:%Y-%m-%d %H:%M} UTC is after the deadline {plan.act_by} "
            f"({policy.deadline_margin_days} days before end of support "
            f"{plan.support.end_of_support})"
        )
        return Action.UPGRADE_NOW, reason, True
    reason = f"waiting for its window ({window}): next opening {opening:%Y-%m-%d %H:%M} UTC"
    return Action.WAIT_WINDOW, reason, False


def _waiting_reason(
    draft: _Draft,
    started: Sequence[_Draft],
    pending_canaries: Sequence[str],
    policy: RolloutPolicy,
) -> str | None:
    """Why this cluster cannot start in this pass whatever its window, or None."""
    facts = draft.facts
    if facts.state != "ACTIVE":
        return f"the cluster is {facts.state}, not ACTIVE"
    if not draft.plan.canary and pending_canaries:
        return f"the canaries go first: {', '.join(pending_canaries)}"
    if len(started) >= policy.max_concurrent:
        return f"at most {policy.max_concurrent} upgrade(s) start at a time"
    sharing = [
        other.plan.name
        for other in started
        if facts.configuration_arn and other.facts.configuration_arn == facts.configuration_arn
    ]
    if sharing:
        return f"shares its configuration with {sharing[0]}, upgrading now"
    return None
