"""The broker scaler: read a cluster, ask the broker policy, act through the guarded MSK port.

Woken hourly by its schedule (the policy judges hourly averages, so a more frequent sweep would
see the same hours), by the health monitor's CPU and throughput alarms entering ALARM (the load
is high now: decide at once), and by `{"action": "scale", "clusterArn": ...}`.

- Only clusters tagged `<OPT_IN_TAG_KEY>=true` are read; Standard scale-out is carried out only
  for clusters also tagged `<BROKER_SCALE_OUT_TAG_KEY>=true`, else recommended.
- The history the policy reads starts after the last completed size or count change
  (ListClusterOperationsV2), at most 14 days back; each kind of action waits its cool-down after
  that change.
- One decision per cluster at a time: a delivery takes the cluster's lease (a conditional write
  in the idempotency table) before reading, and one that finds it taken steps aside, since the
  holder decides on the same facts. A later duplicate finds the operation the first one started
  still running (MskPort refuses then too), so duplicate and concurrent triggers make at most
  one UpdateBrokerType or UpdateBrokerCount call.
- Every change goes through `MskPort.update(change=decision.change)`: the health gates decide
  (a move up is the remedy for CPU, so the CPU gate does not hold it; under-replication and
  maintenance do), dry run stops before the call.
- A change made is notified with its reason and its monthly cost change; a recommendation
  (Standard scale-out without the tag, Standard scale-in) once a day, with the reassignment that
  fills the new brokers or drains the leaving ones. A cluster that cannot be read fails the sweep
  after every other cluster had its turn, so Lambda retries it and it ends in the dead letters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec

from msk_autopilot import clock
from msk_autopilot.aws import ClientFactory
from msk_autopilot.capacity.policy import (
    MAX_HISTORY_HOURS,
    BrokerAction,
    BrokerDecision,
    BrokerPolicySettings,
    ClusterShape,
    decide,
)
from msk_autopilot.capacity.pricing import BilledShape, CostChange, cost_change, monthly_cost
from msk_autopilot.capacity.reading import (
    ClusterPlacement,
    broker_history,
    read_brokers,
    read_placement,
)
from msk_autopilot.capacity.reassignment import (
    Broker,
    ReassignmentPlan,
    plan_drain,
    plan_reassignment,
)
from msk_autopilot.config.coordination import RunLease
from msk_autopilot.events import AlarmStateChange, ScaleRequest, ScheduledEvent
from msk_autopilot.health.alarms import HEALTH_ALARM_MARKER, firing_alarm_cluster
from msk_autopilot.health.change import ChangeKind
from msk_autopilot.health.gatekeeper import guarded_msk
from msk_autopilot.health.limits import is_express
from msk_autopilot.ledger import NoticeLedger
from msk_autopilot.msk import (
    ClusterNotFoundError,
    ClusterSnapshot,
    MskPort,
    MskReader,
    Operation,
    UpdateStatus,
)
from msk_autopilot.notify import Notifier
from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.outcome import Outcome, Severity, Status, plural
from msk_autopilot.runtime import LambdaContext
from msk_autopilot.settings import BrokerScalerSettings
from msk_autopilot.sweep import sweep_clusters

__all__ = [
    "CAPACITY_OPERATION_TYPES",
    "LOAD_ALARM_METRICS",
    "NAMESPACE",
    "BrokerEvent",
    "BrokerPlan",
    "BrokerPlanner",
    "BrokerScaler",
    "build_broker_scaler",
]

type BrokerEvent = AlarmStateChange | ScheduledEvent | ScaleRequest

NAMESPACE = "broker-scaler"
CAPACITY_OPERATION_TYPES = frozenset(
    {"UPDATE_BROKER_TYPE", "UPDATE_BROKER_COUNT", "DECREASE_BROKER_COUNT"}
)
# The health monitor's alarms whose ALARM wakes the scaler (health.alarms units cpu, bytes-in,
# bytes-out, produce-throttle, fetch-throttle).
LOAD_ALARM_METRICS = frozenset(
    {
        "CpuUser",
        "CpuSystem",
        "BytesInPerSec",
        "BytesOutPerSec",
        "ProduceThrottleTime",
        "FetchThrottleTime",
    }
)
_RECOMMENDATION_WINDOW = timedelta(days=1)  # a standing recommendation is told once a day


class BrokerPlan(msgspec.Struct, frozen=True, kw_only=True):
    """A decision on the facts read, or the reason no decision could be made."""

    cluster: ClusterSnapshot | None
    decision: BrokerDecision | None = None
    skipped: str | None = None
    reassignment: ReassignmentPlan | None = None
    empty_brokers: tuple[int, ...] = ()  # brokers holding no replica while others do
    partitions_source: str | None = None
    history_hours: int = 0
    change_allowed_in_hours: float = 0.0


def _last_capacity_change(operations: list[Operation]) -> Operation | None:
    finished = [
        op
        for op in operations
        if op.operation_type in CAPACITY_OPERATION_TYPES
        and op.operation_state == "UPDATE_COMPLETE"
        and op.end_time is not None
    ]
    return max(finished, key=lambda op: op.end_time or datetime.min, default=None)


def _new_brokers(brokers: list[Broker], zones: list[str], count: int) -> list[Broker]:
    """The brokers a scale-out adds: MSK numbers them after the highest ID and spreads them over
    the zones in subnet order."""
    first = max((broker.broker_id for broker in brokers), default=0) + 1
    return [Broker(first + n, zones[n % len(zones)]) for n in range(count)]


def _leaving_brokers(brokers: list[Broker], zones: list[str]) -> list[int]:
    """The broker per zone a Standard scale-in should drain: the newest of each zone."""
    return [
        max(broker.broker_id for broker in brokers if broker.zone == zone)
        for zone in zones
        if any(broker.zone == zone for broker in brokers)
    ]


class BrokerPlanner(msgspec.Struct):
    """The read-only half: what the scaler reads of a cluster and what the policy decides."""

    reader: MskReader
    cloudwatch: Any
    policy: BrokerPolicySettings
    scale_out_tag_key: str
    # Hours after the last size or count change before an action of each kind.
    cooldown_hours: Mapping[ChangeKind, float] = {}

    def plan(self, cluster_arn: str, *, now: datetime) -> BrokerPlan:
        try:
            cluster = self.reader.cluster(cluster_arn)
        except ClusterNotFoundError:
            return BrokerPlan(cluster=None, skipped="cluster not found (deleted?)")
        return self.plan_cluster(cluster, now=now)

    def plan_cluster(self, cluster: ClusterSnapshot, *, now: datetime) -> BrokerPlan:
        """The policy's decision for one cluster (no opt-in check: `msk-autopilot cost`
        right-sizes every cluster)."""
        if cluster.provisioned is None:
            return BrokerPlan(
                cluster=cluster, skipped="serverless clusters have no brokers to size"
            )
        operations = self.reader.operations(cluster.cluster_arn)
        not_ready = self.reader.not_ready_reason(cluster, operations)
        if not_ready is not None:
            return BrokerPlan(cluster=cluster, skipped=not_ready)
        group = cluster.provisioned.broker_node_group_info
        kafka = self.reader.kafka
        brokers = read_brokers(kafka, cluster.cluster_arn)
        start = now - timedelta(hours=MAX_HISTORY_HOURS)
        last = _last_capacity_change(operations)
        if last is not None and last.end_time is not None and last.end_time > start:
            start = last.end_time
        history = broker_history(
            self.cloudwatch,
            cluster.cluster_name,
            [broker.broker_id for broker in brokers],
            start=start,
            end=now,
            express=is_express(group.instance_type),
        )
        placement = read_placement(
            kafka,
            self.cloudwatch,
            cluster.cluster_arn,
            cluster.cluster_name,
            [broker.broker_id for broker in brokers],
            now=now,
            volume_gib=None if is_express(group.instance_type) else cluster.volume_gib,
        )
        empty = _empty_brokers(placement, brokers)
        shape = ClusterShape(
            instance_type=group.instance_type,
            broker_count=cluster.provisioned.number_of_broker_nodes,
            zone_count=len(group.client_subnets),
            # Empty brokers wait for a reassignment, not for more brokers: judge the spread the
            # reassignment gives.
            partitions_per_broker=_balanced_partitions(placement, brokers)
            if empty
            else placement.partitions_per_broker,
            rebalancing_active=cluster.provisioned.rebalancing.status == "ACTIVE",
            scale_out_opted_in=cluster.opted_in(self.scale_out_tag_key),
        )
        decision = decide(shape, history, self.policy)
        wait = 0.0
        if decision.change is not None and last is not None and last.end_time is not None:
            elapsed = (now - last.end_time).total_seconds() / 3600
            wait = max(0.0, self.cooldown_hours.get(decision.change, 0.0) - elapsed)
        return BrokerPlan(
            cluster=cluster,
            decision=decision,
            reassignment=self._reassignment(
                decision, shape, brokers, group.client_subnets, placement
            ),
            empty_brokers=empty,
            partitions_source=placement.source,
            history_hours=min((len(samples) for samples in history.values()), default=0),
            change_allowed_in_hours=wait,
        )

    @staticmethod
    def _reassignment(
        decision: BrokerDecision,
        shape: ClusterShape,
        brokers: list[Broker],
        zones: list[str],
        placement: ClusterPlacement,
    ) -> ReassignmentPlan | None:
        """The partition moves a count change needs when MSK does not place them (Standard, or
        Express without intelligent rebalancing ACTIVE); None without the topic APIs.

        A scale-out's plan names the brokers MSK will add by prediction (the next ids, zones in
        turn); once they exist and still hold nothing, the plan to fill them names them as
        ListNodes does (`_empty_brokers`)."""
        if placement.partitions is None or shape.rebalancing_active:
            return None
        partitions = list(placement.partitions)
        if decision.action is BrokerAction.COUNT_UP:
            added = _new_brokers(brokers, zones, decision.target_count - decision.current_count)
            return plan_reassignment(partitions, [*brokers, *added])
        if decision.action is BrokerAction.COUNT_DOWN:
            return plan_drain(partitions, brokers, _leaving_brokers(brokers, zones))
        if decision.change is None and _empty_brokers(placement, brokers):
            plan = plan_reassignment(partitions, brokers)
            return plan if plan.replicas_moved else None
        return None


class BrokerScaler(msgspec.Struct):
    planner: BrokerPlanner
    msk: MskPort
    notifier: Notifier
    ledger: NoticeLedger
    dynamodb: Any
    settings: BrokerScalerSettings

    def handle(self, event: BrokerEvent, context: LambdaContext) -> Outcome:
        dry_run = self.settings.dry_run
        match event:
            case ScheduledEvent():
                return self.sweep(now=event.time, dry_run=dry_run)
            case ScaleRequest():
                return self.scale(
                    event.cluster_arn, now=clock.now(), dry_run=dry_run or event.dry_run
                )
            case AlarmStateChange():
                return self._on_alarm(event, dry_run=dry_run)

    def _on_alarm(self, event: AlarmStateChange, *, dry_run: bool) -> Outcome:
        target = firing_alarm_cluster(
            event,
            marker=HEALTH_ALARM_MARKER,
            metrics=lambda names: bool(names) and names <= LOAD_ALARM_METRICS,
            kind="CPU or throughput",
        )
        if isinstance(target, Outcome):
            return target
        return self.scale(target, now=event.time, dry_run=dry_run)

    # --- acting --------------------------------------------------------------------------------

    def scale(self, cluster_arn: str, *, now: datetime, dry_run: bool) -> Outcome:
        """Decide for one cluster and act on the decision, one delivery at a time."""
        lease = RunLease(
            self.dynamodb,
            self.settings.idempotency_table,
            namespace=f"{NAMESPACE}#{cluster_arn}",
            wait=timedelta(0),
        )
        if not lease.acquire():
            logger.info("decision in progress elsewhere", extra={"cluster": cluster_arn})
            return Outcome(
                Status.SKIPPED,
                "another delivery is deciding for this cluster; it acts and notifies",
                {"cluster": cluster_arn},
            )
        try:
            return self._decide_and_act(cluster_arn, now=now, dry_run=dry_run)
        finally:
            lease.release()

    def _decide_and_act(self, cluster_arn: str, *, now: datetime, dry_run: bool) -> Outcome:
        plan = self.planner.plan(cluster_arn, now=now)
        cluster, decision = plan.cluster, plan.decision
        if cluster is not None and not cluster.opted_in(self.settings.opt_in_tag_key):
            reason = f"not opted in (tag {self.settings.opt_in_tag_key}=true missing)"
            return Outcome(Status.SKIPPED, reason, {"cluster": cluster_arn})
        if cluster is None or decision is None:
            return Outcome(Status.SKIPPED, plan.skipped or "no decision", {"cluster": cluster_arn})
        details = self._details(plan, cluster, decision)
        metrics.add_metric(
            name=f"BrokerDecision.{decision.action.value}", unit=MetricUnit.Count, value=1
        )
        logger.info("broker decision", extra=details)
        change = decision.change
        if change is None and plan.reassignment is not None:
            reason = (
                f"brokers {', '.join(map(str, plan.empty_brokers))} hold no partitions while "
                f"others do: move {plural(plan.reassignment.partitions_moved, 'partition')} "
                f"with the attached reassignment; {decision.reason}"
            )
            subject = (
                f"fill the empty brokers {', '.join(map(str, plan.empty_brokers))} of "
                f"{cluster.cluster_name}"
            )
            self._recommend(cluster, decision, details, now=now, subject=subject)
            return Outcome(Status.UNCHANGED, f"recommended: {reason}", details)
        if change is None:
            return Outcome(Status.UNCHANGED, decision.reason, details)
        if not decision.carried_out:
            self._recommend(cluster, decision, details, now=now)
            return Outcome(Status.UNCHANGED, f"recommended: {decision.reason}", details)
        return self._carry_out(cluster, decision, change, details, plan, now=now, dry_run=dry_run)

    def _carry_out(
        self,
        cluster: ClusterSnapshot,
        decision: BrokerDecision,
        change: ChangeKind,
        details: dict[str, Any],
        plan: BrokerPlan,
        *,
        now: datetime,
        dry_run: bool,
    ) -> Outcome:
        cluster_arn = cluster.cluster_arn
        if plan.change_allowed_in_hours > 0:
            reason = (
                f"{change.value} cool-down: next allowed in {plan.change_allowed_in_hours:.1f} h; "
                f"{decision.reason}"
            )
            return Outcome(Status.SKIPPED, reason, details)
        action, parameters = _update_request(decision)
        result = self.msk.update(
            cluster_arn, action, parameters, change=change, reason=decision.reason, dry_run=dry_run
        )
        details["update"] = {"action": action, "status": result.status.value}
        if result.operation_arn:
            details["update"]["operation_arn"] = result.operation_arn
        if result.gate is not None:
            details["update"]["gate"] = result.gate
        if result.status is UpdateStatus.DRY_RUN:
            return Outcome(Status.DRY_RUN, decision.reason, details)
        if result.status is UpdateStatus.DEFERRED:
            return Outcome(Status.DEFERRED, result.reason, details)
        if not result.started:
            if result.status is UpdateStatus.REJECTED:
                self._notify_refusal(cluster, decision, result.reason, details, now=now)
            return Outcome(Status.SKIPPED, f"update not started: {result.reason}", details)
        metrics.add_metric(name=f"BrokerChange.{change.value}", unit=MetricUnit.Count, value=1)
        self.notifier.publish(_subject(cluster, decision, details), details, Severity.INFO)
        return Outcome(Status.ACTED, decision.reason, details)

    def _details(
        self, plan: BrokerPlan, cluster: ClusterSnapshot, decision: BrokerDecision
    ) -> dict[str, Any]:
        details: dict[str, Any] = {
            "cluster": cluster.cluster_arn,
            "decision": {
                **msgspec.to_builtins(decision),
                "change": None if decision.change is None else decision.change.value,
            },
            "history_hours": plan.history_hours,
            "partitions_source": plan.partitions_source,
        }
        cost = self._cost_change(cluster, decision)
        if cost is not None:
            details["monthly_cost"] = cost.to_dict()
        if plan.reassignment is not None:
            details["reassignment"] = _reassignment_details(plan.reassignment)
        return details

    def _recommend(
        self,
        cluster: ClusterSnapshot,
        decision: BrokerDecision,
        details: dict[str, Any],
        *,
        now: datetime,
        subject: str | None = None,
    ) -> None:
        """Notify a recommendation once a day (the ledger); `subject` replaces the decision's."""
        key = f"recommend:{cluster.cluster_arn}:{decision.action.value}:{decision.target_count}"
        if self.ledger.first(key, now=now, window=_RECOMMENDATION_WINDOW):
            metrics.add_metric(
                name=f"BrokerRecommendation.{decision.action.value}",
                unit=MetricUnit.Count,
                value=1,
            )
            self.notifier.publish(
                f"Recommended: {subject or _subject(cluster, decision, details)}",
                details,
                Severity.WARNING,
            )

    def _notify_refusal(
        self,
        cluster: ClusterSnapshot,
        decision: BrokerDecision,
        reason: str,
        details: dict[str, Any],
        *,
        now: datetime,
    ) -> None:
        key = f"refused:{cluster.cluster_arn}:{decision.action.value}:{decision.target_type}"
        if self.ledger.first(key, now=now, window=_RECOMMENDATION_WINDOW):
            self.notifier.publish(
                f"MSK refused {decision.action.value} of {cluster.cluster_name}",
                {**details, "refusal": reason},
                Severity.WARNING,
            )

    def _cost_change(self, cluster: ClusterSnapshot, decision: BrokerDecision) -> CostChange | None:
        shape = BilledShape.of(cluster)
        if shape is None:
            return None
        resized = msgspec.structs.replace(
            shape, instance_type=decision.target_type, broker_count=decision.target_count
        )
        prices, region = self.settings.prices, self.settings.region
        return cost_change(
            monthly_cost(shape, prices, region), monthly_cost(resized, prices, region)
        )

    def sweep(self, *, now: datetime, dry_run: bool) -> Outcome:
        """Decide for every opted-in cluster; one cluster's failure does not stop the others (a
        cluster already changed is busy with its operation on the retry, so not changed twice)."""
        return sweep_clusters(
            self.msk.clusters(),
            opt_in_tag_key=self.settings.opt_in_tag_key,
            act=lambda arn: self.scale(arn, now=now, dry_run=dry_run),
            acted_verb="changed",
        )


def _empty_brokers(placement: ClusterPlacement, brokers: list[Broker]) -> tuple[int, ...]:
    """Brokers that hold no replica while others do: what a Standard scale-out leaves, since
    MSK moves no partition onto new Standard brokers."""
    if not placement.partitions:
        return ()
    held = {replica for partition in placement.partitions for replica in partition.replicas}
    return tuple(sorted(broker.broker_id for broker in brokers if broker.broker_id not in held))


def _balanced_partitions(placement: ClusterPlacement, brokers: list[Broker]) -> int:
    """Replicas per broker once every broker holds its share."""
    replicas = sum(len(partition.replicas) for partition in placement.partitions or ())
    return math.ceil(replicas / max(1, len(brokers)))


def _update_request(decision: BrokerDecision) -> tuple[str, dict[str, Any]]:
    if decision.action in {BrokerAction.TYPE_LARGER, BrokerAction.TYPE_SMALLER}:
        return "UpdateBrokerType", {"TargetInstanceType": decision.target_type}
    return "UpdateBrokerCount", {"TargetNumberOfBrokerNodes": decision.target_count}


def _reassignment_details(plan: ReassignmentPlan) -> dict[str, Any]:
    return {
        "partitions_to_move": plan.partitions_moved,
        "replicas_to_move": plan.replicas_moved,
        "bytes_to_move": plan.bytes_moved,  # estimated (capacity.reading); None when unknown
        "balanced": plan.balanced,
        "replicas_per_broker": {str(k): v for k, v in plan.replicas_per_broker.items()},
        "leaders_per_broker": {str(k): v for k, v in plan.leaders_per_broker.items()},
        # for kafka-reassign-partitions --execute --reassignment-json-file
        "reassignment_json": plan.reassignment_json(),
    }


def _subject(cluster: ClusterSnapshot, decision: BrokerDecision, details: dict[str, Any]) -> str:
    subject = (
        f"{decision.action.value.replace('_', ' ')} of {cluster.cluster_name}: "
        f"{decision.current_count} x {decision.current_type} -> "
        f"{decision.target_count} x {decision.target_type}"
    )
    cost = details.get("monthly_cost")
    if cost is not None:
        subject += (
            ", "
            + CostChange(
                currency=cost["currency"], before=cost["before"], after=cost["after"]
            ).describe()
        )
    moves = details.get("reassignment")
    if moves is not None:
        subject += f"; {plural(moves['partitions_to_move'], 'partition')} to move"
    return subject


def build_broker_scaler(settings: BrokerScalerSettings, clients: ClientFactory) -> BrokerScaler:
    dynamodb = clients.client("dynamodb")
    notifier = Notifier(clients.client("sns"), settings.notification_topic_arn)
    msk = guarded_msk(clients, idempotency_table=settings.idempotency_table, notifier=notifier)
    planner = BrokerPlanner(
        reader=msk,
        cloudwatch=clients.client("cloudwatch"),
        policy=settings.policy(),
        scale_out_tag_key=settings.scale_out_tag_key,
        cooldown_hours={
            ChangeKind.BROKER_TYPE_LARGER: settings.larger_cooldown_hours,
            ChangeKind.BROKER_TYPE_SMALLER: settings.smaller_cooldown_hours,
            ChangeKind.BROKER_COUNT_UP: settings.count_up_cooldown_hours,
            ChangeKind.BROKER_COUNT_DOWN: settings.count_down_cooldown_hours,
        },
    )
    return BrokerScaler(
        planner=planner,
        msk=msk,
        notifier=notifier,
        ledger=NoticeLedger(dynamodb, settings.idempotency_table, NAMESPACE),
        dynamodb=dynamodb,
        settings=settings,
    )
