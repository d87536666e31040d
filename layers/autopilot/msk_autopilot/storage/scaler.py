"""The storage scaler: read a cluster, ask the sizing policy, act through the guarded MSK port.

`plan` is the read-only half (used by `msk-autopilot plan-storage` too); `scale` adds the action,
made idempotent per cluster and decision window with powertools idempotency on DynamoDB: the
delivery whose claim (a conditional write) succeeds decides and acts; a duplicate meeting the
claim in progress steps aside, one meeting it completed replays its outcome; a delivery whose
claim write was retried after a lost answer knows its own claim by its token. So duplicate or
concurrent deliveries of the same alarm make one MSK call, one notification, one metric. The MSK
port's guard (ACTIVE, no running operation, fresh CurrentVersion) is a second, independent line.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)

from msk_autopilot import clock
from msk_autopilot.aws import ClientFactory
from msk_autopilot.capacity.pricing import BilledShape, CostChange, cost_change, monthly_cost
from msk_autopilot.events import AlarmStateChange, ScaleRequest, ScheduledEvent
from msk_autopilot.health.alarms import DISK_ALARM_MARKER, firing_alarm_cluster
from msk_autopilot.health.change import ChangeKind
from msk_autopilot.health.gatekeeper import guarded_msk
from msk_autopilot.health.limits import is_express
from msk_autopilot.msk import (
    ClusterNotFoundError,
    ClusterSnapshot,
    MskPort,
    Operation,
    UpdateStatus,
)
from msk_autopilot.notify import Notifier
from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.outcome import Outcome, Severity, Status
from msk_autopilot.runtime import LambdaContext
from msk_autopilot.settings import StorageScalerSettings
from msk_autopilot.storage.metrics import DISK_METRIC, read_disk_usage
from msk_autopilot.storage.policy import (
    PolicySettings,
    StorageAction,
    StorageDecision,
    StorageObservation,
    decide,
)
from msk_autopilot.storage.retention import RetentionBound, read_retention_bound
from msk_autopilot.sweep import sweep_clusters

__all__ = [
    "STORAGE_OPERATION_TYPES",
    "Plan",
    "StorageEvent",
    "StorageScaler",
    "build_storage_scaler",
    "decision_window",
]

type StorageEvent = AlarmStateChange | ScheduledEvent | ScaleRequest

STORAGE_OPERATION_TYPES = frozenset({"UPDATE_BROKER_STORAGE", "UPDATE_STORAGE"})
# Decisions for one cluster within one window are the same decision: the metric period.
_WINDOW = timedelta(minutes=5)


def decision_window(now: datetime) -> str:
    start = datetime.fromtimestamp(
        now.timestamp() // _WINDOW.total_seconds() * _WINDOW.total_seconds(), tz=UTC
    )
    return start.isoformat()


class Plan(msgspec.Struct, frozen=True):
    """A decision, or the reason no decision could be made."""

    cluster: ClusterSnapshot | None
    decision: StorageDecision | None
    skipped: str | None = None
    change_allowed_in_hours: float = 0.0
    retention: RetentionBound | None = None  # read only when the decision would act or warn


def _last_storage_change(operations: Sequence[Operation]) -> Operation | None:
    finished = [
        op
        for op in operations
        if op.operation_type in STORAGE_OPERATION_TYPES
        and op.operation_state == "UPDATE_COMPLETE"
        and op.end_time is not None
    ]
    return max(
        finished, key=lambda op: op.end_time or datetime.min.replace(tzinfo=UTC), default=None
    )


class StorageScaler(msgspec.Struct):
    msk: MskPort
    cloudwatch: Any
    notifier: Notifier
    policy: PolicySettings
    settings: StorageScalerSettings
    # Wraps the act step for idempotency (powertools on DynamoDB in the function).
    idempotent: Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]
    # Lets idempotency records of a timed-out invocation expire with the invocation.
    register_context: Callable[[Any], None] = lambda context: None

    def handle(self, event: StorageEvent, context: LambdaContext) -> Outcome:
        """One delivered event: an alarm or a request scales one cluster, a schedule sweeps."""
        self.register_context(context)
        dry_run = self.settings.dry_run
        match event:
            case ScheduledEvent():
                return self.sweep(now=event.time, dry_run=dry_run)
            case ScaleRequest():
                now = clock.now()
                return self.scale(event.cluster_arn, now=now, dry_run=dry_run or event.dry_run)
            case AlarmStateChange():
                return self._on_alarm(event, dry_run=dry_run)

    def _on_alarm(self, event: AlarmStateChange, *, dry_run: bool) -> Outcome:
        target = firing_alarm_cluster(
            event,
            marker=DISK_ALARM_MARKER,
            metrics=lambda names: names == {DISK_METRIC},
            kind="disk",
        )
        if isinstance(target, Outcome):
            return target
        return self.scale(target, now=event.time, dry_run=dry_run)

    # --- reading -------------------------------------------------------------------------------

    def plan(self, cluster_arn: str, *, now: datetime) -> Plan:
        try:
            cluster = self.msk.cluster(cluster_arn)
        except ClusterNotFoundError:
            return Plan(None, None, "cluster not found (deleted?)")
        return self.plan_cluster(cluster, now=now)

    def plan_cluster(self, cluster: ClusterSnapshot, *, now: datetime) -> Plan:
        provisioned = cluster.provisioned
        no_ebs = None
        if provisioned is not None and is_express(provisioned.broker_node_group_info.instance_type):
            no_ebs = "Express brokers have no EBS volumes to grow (MSK manages their storage)"
        elif provisioned is None or cluster.volume_gib is None:
            no_ebs = "serverless clusters have no broker storage to grow"
        if no_ebs is not None or provisioned is None or cluster.volume_gib is None:
            logger.info(no_ebs, extra={"cluster": cluster.cluster_arn})
            return Plan(cluster, None, no_ebs)
        if not cluster.opted_in(self.settings.opt_in_tag_key):
            return Plan(
                cluster, None, f"not opted in (tag {self.settings.opt_in_tag_key}=true missing)"
            )
        operations = self.msk.operations(cluster.cluster_arn)
        not_ready = self.msk.not_ready_reason(cluster, operations)
        if not_ready is not None:
            return Plan(cluster, None, not_ready)
        usage = read_disk_usage(
            self.cloudwatch,
            cluster.cluster_name,
            cluster.broker_ids,
            now=now,
            look_back_hours=self.policy.look_back_hours,
        )
        if not any(usage.values()):
            return Plan(cluster, None, "no KafkaDataLogsDiskUsed samples in the look-back window")
        last_change = _last_storage_change(operations)
        wait_hours = 0.0
        previous_hours = None
        resized_at = None
        if last_change is not None and last_change.end_time is not None:
            resized_at = last_change.end_time
            if last_change.start_time is not None:
                previous_hours = (last_change.end_time - last_change.start_time).total_seconds()
                previous_hours /= 3600
            elapsed = (now - last_change.end_time).total_seconds() / 3600
            cooldown = self.policy.planned_cooldown_hours(previous_hours)
            wait_hours = max(0.0, cooldown - elapsed)
        ebs = provisioned.broker_node_group_info.storage_info.ebs_storage_info
        throughput = ebs.provisioned_throughput
        observation = StorageObservation(
            now=now,
            volume_gib=cluster.volume_gib,
            broker_count=provisioned.number_of_broker_nodes,
            usage=usage,
            instance_type=provisioned.broker_node_group_info.instance_type,
            resized_at=resized_at,
            hours_until_change_allowed=wait_hours,
            previous_operation_hours=previous_hours,
            provisioned_throughput_mibps=throughput.volume_throughput
            if throughput.enabled
            else None,
            storage_mode=provisioned.storage_mode,
            kafka_version=provisioned.current_broker_software_info.kafka_version,
        )
        decision = decide(observation, self.policy)
        if decision.action is StorageAction.HOLD and decision.severity is Severity.INFO:
            # The bound only lowers forecasts: it cannot change a quiet hold, so the topic APIs
            # (one DescribeTopic per topic) are read only when the decision would act or warn.
            return Plan(cluster, decision, None, wait_hours)
        retention = read_retention_bound(self.msk, self.cloudwatch, cluster, now=now)
        if retention.gib is None:
            logger.info(
                "no retention bound",
                extra={"cluster": cluster.cluster_arn, "reason": retention.reason},
            )
        else:
            bounded = decide(
                msgspec.structs.replace(observation, retention_bound_gib=retention.gib),
                self.policy,
            )
            decision = msgspec.structs.replace(
                bounded,
                reason=f"{bounded.reason}; retention bound {retention.gib:.1f} GiB per broker "
                f"({retention.reason})",
            )
        return Plan(cluster, decision, None, wait_hours, retention)

    # --- acting --------------------------------------------------------------------------------

    def scale(self, cluster_arn: str, *, now: datetime, dry_run: bool) -> Outcome:
        """Decide for one cluster and act on the decision, once per decision window."""
        key = {"cluster_arn": cluster_arn, "window": decision_window(now), "dry_run": dry_run}
        key["delivery"] = str(uuid.uuid4())  # tells this delivery's claim from another's
        try:
            result = self.idempotent(self._act)(request=key, now=now.isoformat())
        except IdempotencyAlreadyInProgressError:
            # Another delivery holds this decision and will act and notify; deciding here too
            # would act and notify twice. A claim whose holder dies expires with its invocation,
            # and the sweep decides again in a later window.
            reason = (
                f"another delivery is handling the decision for window {key['window']}; "
                "it acts and notifies"
            )
            logger.info("decision in progress elsewhere", extra={"key": key})
            return Outcome(Status.SKIPPED, reason, {"cluster": cluster_arn})
        return Outcome(Status(result["status"]), result["reason"], result["details"])

    def _act(self, request: dict[str, Any], now: str) -> dict[str, Any]:
        return self._decide_and_act(
            request["cluster_arn"], now=datetime.fromisoformat(now), dry_run=request["dry_run"]
        ).to_dict()

    def _decide_and_act(self, cluster_arn: str, *, now: datetime, dry_run: bool) -> Outcome:
        plan = self.plan(cluster_arn, now=now)
        if plan.decision is None:
            return Outcome(Status.SKIPPED, plan.skipped or "no decision", {"cluster": cluster_arn})
        decision = plan.decision
        details: dict[str, Any] = {"cluster": cluster_arn, "decision": decision.to_dict()}
        if plan.retention is not None:
            details["retention_bound"] = plan.retention.to_dict()
        self._count(decision)
        if decision.severity is not Severity.INFO:
            self._notify_attention(cluster_arn, decision)
        cooling_down = plan.change_allowed_in_hours > 0
        if not decision.resizes:
            # The policy holds during a cool-down on its own; that is a skip, not "all is well".
            status = Status.SKIPPED if cooling_down else Status.UNCHANGED
            return Outcome(status, decision.reason, details)
        if cooling_down:
            reason = (
                f"storage cool-down: next change allowed in {plan.change_allowed_in_hours:.1f} h; "
                f"{decision.reason}"
            )
            return Outcome(Status.SKIPPED, reason, details)
        action, parameters = self._update_request(decision)
        result = self.msk.update(
            cluster_arn,
            action,
            parameters,
            change=ChangeKind.STORAGE_GROWTH,
            reason=decision.reason,
            dry_run=dry_run,
        )
        details["update"] = {"action": action, "status": result.status.value}
        if result.operation_arn:
            details["update"]["operation_arn"] = result.operation_arn
        if result.gate is not None:
            details["update"]["gate"] = result.gate
        held = {UpdateStatus.DRY_RUN: Status.DRY_RUN, UpdateStatus.DEFERRED: Status.DEFERRED}
        if result.status in held:
            reason = decision.reason if result.status is UpdateStatus.DRY_RUN else result.reason
            return Outcome(held[result.status], reason, details)
        if not result.started:
            return Outcome(Status.SKIPPED, f"update not started: {result.reason}", details)
        added = decision.new_gib - decision.current_gib
        metrics.add_metric(name="StorageGiBAdded", unit=MetricUnit.Count, value=added)
        name = plan.cluster.cluster_name if plan.cluster else cluster_arn
        subject = f"Growing storage of {name}: {decision.current_gib} -> {decision.new_gib} GiB"
        change = self._cost_change(plan.cluster, decision)
        if change is not None:
            details["monthly_cost"] = change.to_dict()
            subject = f"{subject}, {change.describe()}"
        self.notifier.publish(subject, details, Severity.INFO)
        return Outcome(Status.ACTED, decision.reason, details)

    def sweep(self, *, now: datetime, dry_run: bool) -> Outcome:
        """Scale every opted-in cluster (its disk alarms are the health monitor's to keep); on a
        retry after a failure, the clusters already decided replay their recorded outcome."""
        return sweep_clusters(
            self.msk.clusters(),
            opt_in_tag_key=self.settings.opt_in_tag_key,
            act=lambda arn: self.scale(arn, now=now, dry_run=dry_run),
            acted_verb="grew",
        )

    # --- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _update_request(decision: StorageDecision) -> tuple[str, dict[str, Any]]:
        if decision.new_throughput_mibps is not None:
            return "UpdateStorage", {
                "VolumeSizeGB": decision.new_gib,
                "ProvisionedThroughput": {
                    "Enabled": True,
                    "VolumeThroughput": decision.new_throughput_mibps,
                },
            }
        return "UpdateBrokerStorage", {
            "TargetBrokerEBSVolumeInfo": [
                {"KafkaBrokerNodeId": "ALL", "VolumeSizeGB": decision.new_gib}
            ]
        }

    def _cost_change(
        self, cluster: ClusterSnapshot | None, decision: StorageDecision
    ) -> CostChange | None:
        shape = BilledShape.of(cluster) if cluster is not None else None
        if shape is None:
            return None
        grown = msgspec.structs.replace(
            shape,
            volume_gib=decision.new_gib,
            provisioned_throughput_mibps=decision.new_throughput_mibps
            or shape.provisioned_throughput_mibps,
        )
        prices, region = self.settings.prices, self.settings.region
        return cost_change(monthly_cost(shape, prices, region), monthly_cost(grown, prices, region))

    @staticmethod
    def _count(decision: StorageDecision) -> None:
        metrics.add_metric(
            name=f"StorageDecision.{decision.action.value}", unit=MetricUnit.Count, value=1
        )
        if decision.driving_broker is not None:
            driving = decision.driving_broker
            metrics.add_metric(
                name="DiskUsedPercentMax", unit=MetricUnit.Percent, value=driving.used_percent
            )
            metrics.add_metric(
                name="DiskForecastPercent",
                unit=MetricUnit.Percent,
                value=min(driving.forecast_percent, 1000.0),
            )

    def _notify_attention(self, cluster_arn: str, decision: StorageDecision) -> None:
        if decision.action is StorageAction.CAP_REACHED:
            subject = "Storage cap reached: the disk cannot grow enough"
        else:
            subject = "Storage needs attention"
        self.notifier.publish(
            subject,
            {"cluster": cluster_arn, "decision": decision.to_dict()},
            decision.severity,
        )


def build_storage_scaler(
    settings: StorageScalerSettings, clients: ClientFactory, *, idempotent: bool = True
) -> StorageScaler:
    """The scaler the function runs; `idempotent=False` for read-only plans (no table)."""
    policy = PolicySettings(
        target_percent=settings.target_percent,
        trigger_percent=settings.alarm_threshold_percent,
        # The disk alarm means "act": a lower alarm threshold grows at that threshold.
        grow_at_percent=min(PolicySettings().grow_at_percent, settings.alarm_threshold_percent),
        cooldown_hours=settings.cooldown_hours,
        max_gib=settings.max_volume_gib,
        scale_throughput=settings.scale_throughput,
    )
    wrap, register_context = (
        _idempotency(settings.idempotency_table, clients.client("dynamodb"))
        if idempotent
        else (_run_every_time, _ignore_context)
    )
    cloudwatch = clients.client("cloudwatch")
    notifier = Notifier(clients.client("sns"), settings.notification_topic_arn)
    return StorageScaler(
        msk=guarded_msk(clients, idempotency_table=settings.idempotency_table, notifier=notifier),
        cloudwatch=cloudwatch,
        notifier=notifier,
        policy=policy,
        settings=settings,
        idempotent=wrap,
        register_context=register_context,
    )


def _run_every_time(function: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    return function


def _ignore_context(context: Any) -> None:
    return None


type _Wrapper = Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]


def _idempotency(table: str, dynamodb: Any) -> tuple[_Wrapper, Callable[[Any], None]]:
    from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415  only when acting
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
        IdempotencyValidationError,
    )
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import (  # noqa: PLC0415
        STATUS_CONSTANTS,
    )

    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb)
    # The key names the cluster and the decision window; the delivery's own token is kept beside
    # it so that a delivery can tell its own claim from another's. Records outlive the window a
    # little.
    config = IdempotencyConfig(
        event_key_jmespath="[cluster_arn, window, dry_run]",
        payload_validation_jmespath="delivery",
        expires_after_seconds=int(2 * _WINDOW.total_seconds()),
    )

    def wrap(function: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        wrapped: Callable[..., dict[str, Any]] = idempotent_function(
            function,
            data_keyword_argument="request",
            persistence_store=persistence,
            config=config,
        )

        def once(*, request: dict[str, Any], **arguments: Any) -> dict[str, Any]:
            try:
                return wrapped(request=request, **arguments)
            except IdempotencyValidationError:
                # Another delivery's record: replay its outcome when it has one. powertools has
                # no public read without the token check (pinned in requirements.txt).
                key = persistence._get_hashed_idempotency_key(data=request)
                record = persistence._get_record(idempotency_key=key)
                if record.status == STATUS_CONSTANTS["COMPLETED"]:
                    replayed: dict[str, Any] = record.response_json_as_dict() or {}
                    return replayed
                raise IdempotencyAlreadyInProgressError(str(request)) from None
            except IdempotencyAlreadyInProgressError:
                # botocore re-sends a claim whose answer was lost; the claim then found may be
                # this delivery's own, and then this delivery still decides, once.
                try:
                    persistence.get_record(request)
                except IdempotencyValidationError:
                    raise IdempotencyAlreadyInProgressError(str(request)) from None
                try:
                    result = function(request=request, **arguments)
                except Exception as error:  # as powertools does: free the claim for a retry
                    persistence.delete_record(data=request, exception=error)
                    raise
                persistence.save_success(data=request, result=result)
                return result

        return once

    return wrap, config.register_lambda_context
