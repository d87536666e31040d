"""The MSK port: typed cluster snapshots, operations, configurations, and guarded changes.

Every cluster change of the project goes through `MskPort.update` (SCRAM secret associations
through `MskPort.associate_scram_secrets`), which re-reads the cluster, refuses unless it is
ACTIVE with no operation running, asks the health gates for the kind of change
(`msk_autopilot.health`), passes the CurrentVersion it just read (so a concurrent change makes
MSK reject ours instead of both applying), honours dry-run, and logs and counts the call with its
reason. Configuration writes (`create_configuration`,
`add_configuration_revision`) honour dry-run and are logged and counted the same way. Domain
modules decide; this module acts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import msgspec
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from msk_autopilot.aws import error_code, error_message, pages
from msk_autopilot.health.change import ChangeKind, Deferral
from msk_autopilot.observability import MetricUnit, logger, metrics

__all__ = [
    "CONFIGURATION_REVISION_LIMIT",
    "ClusterNotFoundError",
    "ClusterSnapshot",
    "Configuration",
    "ConfigurationChange",
    "HealthGates",
    "MskPort",
    "MskReader",
    "Operation",
    "UpdateResult",
    "UpdateStatus",
]

_MAX_SECRETS_PER_CALL = 10  # BatchAssociateScramSecret's limit
# A configuration holds at most this many revisions (MSK quotas, limits.html).
CONFIGURATION_REVISION_LIMIT = 50
# OperationState values of an operation that has not finished yet.
_RUNNING_STATES = frozenset({"PENDING", "UPDATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS"})


class ClusterNotFoundError(LookupError):
    """The cluster does not exist (any more)."""


class _Shape(msgspec.Struct, frozen=True, kw_only=True, rename="pascal"):
    pass


class _Enabled(_Shape, frozen=True, kw_only=True):
    enabled: bool = False


class _Sasl(_Shape, frozen=True, kw_only=True):
    scram: _Enabled = _Enabled()
    iam: _Enabled = _Enabled()


class _Tls(_Shape, frozen=True, kw_only=True):
    enabled: bool = False
    certificate_authority_arn_list: list[str] = []


class ClientAuthentication(_Shape, frozen=True, kw_only=True):
    sasl: _Sasl = _Sasl()
    tls: _Tls = _Tls()
    unauthenticated: _Enabled = _Enabled()


class _EncryptionAtRest(_Shape, frozen=True, kw_only=True):
    data_volume_kms_key_id: str | None = msgspec.field(default=None, name="DataVolumeKMSKeyId")


class _EncryptionInTransit(_Shape, frozen=True, kw_only=True):
    client_broker: str | None = None
    in_cluster: bool | None = None


class EncryptionInfo(_Shape, frozen=True, kw_only=True):
    encryption_at_rest: _EncryptionAtRest = _EncryptionAtRest()
    encryption_in_transit: _EncryptionInTransit = _EncryptionInTransit()


class _LogDestination(_Shape, frozen=True, kw_only=True):
    enabled: bool = False


class _CloudWatchLogs(_LogDestination, frozen=True, kw_only=True):
    log_group: str | None = None


class _BrokerLogs(_Shape, frozen=True, kw_only=True):
    cloud_watch_logs: _CloudWatchLogs = _CloudWatchLogs()
    firehose: _LogDestination = _LogDestination()
    s3: _LogDestination = msgspec.field(default=_LogDestination(), name="S3")


class LoggingInfo(_Shape, frozen=True, kw_only=True):
    broker_logs: _BrokerLogs = _BrokerLogs()


class _ProvisionedThroughput(_Shape, frozen=True, kw_only=True):
    enabled: bool = False
    volume_throughput: int | None = None


class _EbsStorage(_Shape, frozen=True, kw_only=True):
    volume_size: int | None = None
    provisioned_throughput: _ProvisionedThroughput = _ProvisionedThroughput()


class _StorageInfo(_Shape, frozen=True, kw_only=True):
    ebs_storage_info: _EbsStorage = msgspec.field(default=_EbsStorage(), name="EbsStorageInfo")


class _PublicAccess(_Shape, frozen=True, kw_only=True):
    type: str | None = None


class _Connectivity(_Shape, frozen=True, kw_only=True):
    public_access: _PublicAccess = _PublicAccess()


class BrokerNodeGroup(_Shape, frozen=True, kw_only=True):
    instance_type: str
    client_subnets: list[str] = []
    security_groups: list[str] = []
    storage_info: _StorageInfo = _StorageInfo()
    connectivity_info: _Connectivity = _Connectivity()


class _SoftwareInfo(_Shape, frozen=True, kw_only=True):
    kafka_version: str | None = None
    configuration_arn: str | None = None
    configuration_revision: int | None = None


class _Rebalancing(_Shape, frozen=True, kw_only=True):
    status: str | None = None  # Express intelligent rebalancing: ACTIVE or PAUSED


class Provisioned(_Shape, frozen=True, kw_only=True):
    broker_node_group_info: BrokerNodeGroup
    number_of_broker_nodes: int
    current_broker_software_info: _SoftwareInfo = _SoftwareInfo()
    client_authentication: ClientAuthentication = ClientAuthentication()
    encryption_info: EncryptionInfo = EncryptionInfo()
    enhanced_monitoring: str = "DEFAULT"
    logging_info: LoggingInfo = LoggingInfo()
    storage_mode: str = "LOCAL"
    rebalancing: _Rebalancing = _Rebalancing()


class _VpcConfig(_Shape, frozen=True, kw_only=True):
    subnet_ids: list[str] = []
    security_group_ids: list[str] = []


class Serverless(_Shape, frozen=True, kw_only=True):
    vpc_configs: list[_VpcConfig] = []


class ClusterSnapshot(_Shape, frozen=True, kw_only=True):
    """One cluster as DescribeClusterV2/ListClustersV2 report it (the fields we use)."""

    cluster_arn: str
    cluster_name: str
    cluster_type: str = "PROVISIONED"
    state: str
    current_version: str | None = None
    active_operation_arn: str | None = None
    customer_action_status: str | None = None
    tags: dict[str, str] = {}
    provisioned: Provisioned | None = None
    serverless: Serverless | None = None

    @classmethod
    def from_api(cls, cluster_info: Mapping[str, Any]) -> ClusterSnapshot:
        return msgspec.convert(cluster_info, type=cls, from_attributes=False)

    def opted_in(self, tag_key: str) -> bool:
        return self.tags.get(tag_key) == "true"

    @property
    def volume_gib(self) -> int | None:
        if self.provisioned is None:
            return None
        return self.provisioned.broker_node_group_info.storage_info.ebs_storage_info.volume_size

    @property
    def broker_log_group(self) -> str | None:
        """The CloudWatch Logs group the brokers deliver their logs to, if they do."""
        if self.provisioned is None:
            return None
        destination = self.provisioned.logging_info.broker_logs.cloud_watch_logs
        return destination.log_group if destination.enabled else None

    @property
    def broker_ids(self) -> list[str]:
        """MSK numbers a provisioned cluster's brokers 1..N."""
        count = self.provisioned.number_of_broker_nodes if self.provisioned else 0
        return [str(broker) for broker in range(1, count + 1)]


class Operation(_Shape, frozen=True, kw_only=True):
    operation_arn: str
    operation_type: str
    operation_state: str
    start_time: datetime | None = None
    end_time: datetime | None = None

    @property
    def running(self) -> bool:
        return self.operation_state in _RUNNING_STATES


class UpdateStatus(StrEnum):
    STARTED = "started"  # MSK accepted the change (an operation started, a revision was made)
    DRY_RUN = "dry_run"
    NOT_READY = "not_ready"  # not ACTIVE, or another operation runs
    DEFERRED = "deferred"  # a health gate holds the change; the next sweep retries
    CONFLICT = "conflict"  # MSK refused: the cluster changed under us or is busy
    REJECTED = "rejected"  # MSK refused the request itself (bad value, cool-down...)
    NOT_FOUND = "not_found"


class UpdateResult(msgspec.Struct, frozen=True):
    status: UpdateStatus
    reason: str
    operation_arn: str | None = None
    gate: str | None = None  # the health gate that deferred the change

    @property
    def started(self) -> bool:
        return self.status is UpdateStatus.STARTED


class _LatestRevision(msgspec.Struct, frozen=True, rename="pascal"):
    revision: int


class Configuration(msgspec.Struct, frozen=True, rename="pascal"):
    """One MSK configuration as ListConfigurations reports it (the fields we use)."""

    arn: str
    name: str
    latest_revision: _LatestRevision
    kafka_versions: list[str] = []
    state: str = "ACTIVE"


class ConfigurationChange(msgspec.Struct, frozen=True):
    """What became of a configuration write; `arn` and `revision` are set when it was made."""

    status: UpdateStatus  # STARTED (made), DRY_RUN, CONFLICT or REJECTED
    reason: str
    arn: str | None = None
    revision: int | None = None


def _refusal(error: ClientError) -> UpdateResult | None:
    """How MSK refusing a change reads, or None for errors Lambda should retry."""
    code = error_code(error)
    message = error_message(error) or str(error)
    if code == "NotFoundException":
        return UpdateResult(UpdateStatus.NOT_FOUND, "cluster not found")
    if code == "ConflictException" or "version" in message.lower():
        return UpdateResult(UpdateStatus.CONFLICT, f"{code}: {message}")
    if code == "BadRequestException":
        return UpdateResult(UpdateStatus.REJECTED, f"{code}: {message}")
    return None


class Admission(Protocol):
    @property
    def deferral(self) -> Deferral | None: ...


class HealthGates(Protocol):
    """What `MskPort` asks before every change (`msk_autopilot.health.gatekeeper.Gatekeeper`)."""

    def check(
        self, cluster: ClusterSnapshot, operations: Sequence[Operation], change: ChangeKind
    ) -> Admission: ...


class MskReader:
    """MSK reads through one kafka client: what read-only callers (plans, audits) need."""

    def __init__(self, kafka: Any) -> None:
        self.kafka = kafka

    def clusters(self) -> Iterator[ClusterSnapshot]:
        for page in pages(self.kafka.list_clusters_v2):
            for info in page.get("ClusterInfoList", []):
                yield ClusterSnapshot.from_api(info)

    def cluster(self, cluster_arn: str) -> ClusterSnapshot:
        try:
            info = self.kafka.describe_cluster_v2(ClusterArn=cluster_arn)["ClusterInfo"]
        except ClientError as error:
            if error_code(error) == "NotFoundException":
                raise ClusterNotFoundError(cluster_arn) from None
            raise
        return ClusterSnapshot.from_api(info)

    def operations(self, cluster_arn: str) -> list[Operation]:
        found: list[Operation] = []
        for page in pages(self.kafka.list_cluster_operations_v2, ClusterArn=cluster_arn):
            found.extend(
                msgspec.convert(summary, type=Operation)
                for summary in page.get("ClusterOperationInfoList", [])
            )
        return found

    @staticmethod
    def not_ready_reason(cluster: ClusterSnapshot, operations: Sequence[Operation]) -> str | None:
        """Why an update may not start now, or None when it may."""
        if cluster.state != "ACTIVE":
            return f"cluster is {cluster.state}, not ACTIVE"
        running = next((op for op in operations if op.running), None)
        if running is not None:
            return f"operation {running.operation_type} is {running.operation_state}"
        return None

    # --- configurations --------------------------------------------------------------------------

    def configurations(self) -> Iterator[Configuration]:
        for page in pages(self.kafka.list_configurations):
            for info in page.get("Configurations", []):
                yield msgspec.convert(info, type=Configuration)

    def server_properties(self, configuration_arn: str, revision: int) -> bytes:
        """The server.properties text of one revision of a configuration, as stored."""
        stored = self.kafka.describe_configuration_revision(
            Arn=configuration_arn, Revision=revision
        )
        text: bytes = stored["ServerProperties"]
        return text

    def operation_info(self, operation_arn: str) -> Mapping[str, Any]:
        """DescribeClusterOperationV2's ClusterOperationInfo: source, target and error."""
        info: Mapping[str, Any] = self.kafka.describe_cluster_operation_v2(
            ClusterOperationArn=operation_arn
        )["ClusterOperationInfo"]
        return info


class MskPort(MskReader):
    """MSK reads, and writes guarded by state, version, in-flight operations and health gates.

    Only a port built with health gates can change a cluster, so no change skips them.
    """

    def __init__(self, kafka: Any, gates: HealthGates) -> None:
        super().__init__(kafka)
        self.gates = gates

    def _held(self, cluster: ClusterSnapshot, change: ChangeKind) -> UpdateResult | None:
        """Why a change may not start now (not ready, or deferred by a gate), or None."""
        operations = self.operations(cluster.cluster_arn)
        not_ready = self.not_ready_reason(cluster, operations)
        if not_ready is not None:
            return UpdateResult(UpdateStatus.NOT_READY, not_ready)
        deferral = self.gates.check(cluster, operations, change).deferral
        if deferral is not None:
            return UpdateResult(UpdateStatus.DEFERRED, deferral.describe(), gate=deferral.gate)
        return None

    def update(
        self,
        cluster_arn: str,
        action: str,
        parameters: Mapping[str, Any],
        *,
        change: ChangeKind,
        reason: str,
        dry_run: bool,
    ) -> UpdateResult:
        """Call kafka `action` (e.g. "UpdateBrokerStorage") on a cluster, guarded.

        `parameters` are the call's arguments besides ClusterArn and CurrentVersion, which are
        filled in from a fresh read of the cluster. The health gates for `change` are consulted
        after the state check and before dry-run, so a dry run reports a deferral too.
        """
        try:
            cluster = self.cluster(cluster_arn)
        except ClusterNotFoundError:
            return self._record(action, UpdateResult(UpdateStatus.NOT_FOUND, "cluster not found"))
        held = self._held(cluster, change)
        if held is not None:
            return self._record(action, held, cluster_arn=cluster_arn)
        if dry_run:
            return self._record(action, UpdateResult(UpdateStatus.DRY_RUN, reason))
        call = getattr(self.kafka, xform_name(action))
        try:
            response = call(
                ClusterArn=cluster_arn, CurrentVersion=cluster.current_version, **parameters
            )
        except (ClientError, BotoCoreError) as error:
            # An attempt whose answer was lost may have started the operation before botocore's
            # later attempts failed (refused for their stale version, throttled, cut off). No
            # operation ran when we checked, so one running now of this type is ours.
            started = self._started_since_check(cluster_arn, action)
            if started is not None:
                return self._record(
                    action,
                    UpdateResult(UpdateStatus.STARTED, reason, started.operation_arn),
                    cluster_arn=cluster_arn,
                )
            if not isinstance(error, ClientError):
                raise  # the connection failed every attempt: let Lambda retry the event
            refused = _refusal(error)
            if refused is None:
                raise  # throttling beyond retries, service errors: let Lambda retry the event
            return self._record(action, refused)
        return self._record(
            action,
            UpdateResult(UpdateStatus.STARTED, reason, response.get("ClusterOperationArn")),
            cluster_arn=cluster_arn,
        )

    def associate_scram_secrets(
        self, cluster_arn: str, secret_arns: Sequence[str], *, reason: str, dry_run: bool
    ) -> UpdateResult:
        """Associate SCRAM secrets with a cluster, 10 per call, guarded like `update`.

        The cluster is re-read and the gates for a SCRAM association consulted first (MSK refuses
        it over the partition maximum); secrets MSK leaves unprocessed make the result REJECTED
        with MSK's errors (the others stay associated).
        """
        action = "BatchAssociateScramSecret"
        try:
            cluster = self.cluster(cluster_arn)
        except ClusterNotFoundError:
            return self._record(action, UpdateResult(UpdateStatus.NOT_FOUND, "cluster not found"))
        held = self._held(cluster, ChangeKind.SCRAM_ASSOCIATION)
        if held is not None:
            return self._record(action, held, cluster_arn=cluster_arn)
        if dry_run:
            return self._record(action, UpdateResult(UpdateStatus.DRY_RUN, reason))
        unprocessed: list[str] = []
        for start in range(0, len(secret_arns), _MAX_SECRETS_PER_CALL):
            chunk = list(secret_arns[start : start + _MAX_SECRETS_PER_CALL])
            try:
                response = self.kafka.batch_associate_scram_secret(
                    ClusterArn=cluster_arn, SecretArnList=chunk
                )
            except ClientError as error:
                refused = _refusal(error)
                if refused is None:
                    raise  # throttling beyond retries, service errors: let Lambda retry the event
                return self._record(action, refused, cluster_arn=cluster_arn)
            unprocessed.extend(
                f"{item.get('SecretArn')}: {item.get('ErrorCode')}: {item.get('ErrorMessage')}"
                for item in response.get("UnprocessedScramSecrets", [])
            )
        if unprocessed:
            rejected = UpdateResult(UpdateStatus.REJECTED, "; ".join(unprocessed))
            return self._record(action, rejected, cluster_arn=cluster_arn)
        return self._record(action, UpdateResult(UpdateStatus.STARTED, reason), cluster_arn)

    def create_configuration(
        self,
        name: str,
        server_properties: str,
        *,
        kafka_versions: Sequence[str],
        description: str,
        dry_run: bool,
    ) -> ConfigurationChange:
        """Create configuration `name` (revision 1); MSK refusing it is a result, not an error."""
        versions = {"KafkaVersions": list(kafka_versions)} if kafka_versions else {}
        return self._write_configuration(
            "CreateConfiguration",
            dry_run=dry_run,
            Name=name,
            ServerProperties=server_properties.encode(),
            Description=description,
            **versions,
        )

    def add_configuration_revision(
        self, configuration_arn: str, server_properties: str, *, description: str, dry_run: bool
    ) -> ConfigurationChange:
        """Give a configuration a new latest revision holding `server_properties`.

        A configuration holds at most `CONFIGURATION_REVISION_LIMIT` revisions; a full one is
        refused here, before the call, with what to do instead. (Moving a cluster to a revision
        that exists is never refused for this, so it is no health gate of the cluster.)
        """
        described = self.kafka.describe_configuration(Arn=configuration_arn)
        latest = int(described["LatestRevision"]["Revision"])
        if latest >= CONFIGURATION_REVISION_LIMIT:
            full = (
                f"configuration {described.get('Name', configuration_arn)} already has {latest} "
                f"revisions, MSK's limit of {CONFIGURATION_REVISION_LIMIT}: store the desired "
                "configuration under a new parameter name, which makes a new configuration"
            )
            return self._record_configuration(
                "UpdateConfiguration", ConfigurationChange(UpdateStatus.REJECTED, full)
            )
        return self._write_configuration(
            "UpdateConfiguration",
            dry_run=dry_run,
            Arn=configuration_arn,
            ServerProperties=server_properties.encode(),
            Description=description,
        )

    def _write_configuration(
        self, action: str, *, dry_run: bool, **parameters: Any
    ) -> ConfigurationChange:
        description = str(parameters["Description"])
        if dry_run:
            return self._record_configuration(
                action, ConfigurationChange(UpdateStatus.DRY_RUN, description)
            )
        try:
            response = getattr(self.kafka, xform_name(action))(**parameters)
        except ClientError as error:
            code = error_code(error)
            refused = {
                "BadRequestException": UpdateStatus.REJECTED,
                "ConflictException": UpdateStatus.CONFLICT,
            }.get(code)
            if refused is None:
                raise  # throttling beyond retries, service errors: let Lambda retry the event
            return self._record_configuration(
                action, ConfigurationChange(refused, f"{code}: {error_message(error)}")
            )
        change = ConfigurationChange(
            UpdateStatus.STARTED,
            description,
            str(response["Arn"]),
            int(response["LatestRevision"]["Revision"]),
        )
        return self._record_configuration(action, change)

    @staticmethod
    def _record_configuration(action: str, change: ConfigurationChange) -> ConfigurationChange:
        logger.info(
            "msk update",
            extra={
                "action": action,
                "status": change.status.value,
                "reason": change.reason,
                "configuration_arn": change.arn,
                "revision": change.revision,
            },
        )
        metrics.add_metric(name=f"MskUpdate.{change.status.value}", unit=MetricUnit.Count, value=1)
        return change

    def _started_since_check(self, cluster_arn: str, action: str) -> Operation | None:
        """A running operation of `action`'s type; none ran when `update` checked, so it
        started since, from our own request."""
        operation_type = xform_name(action).upper()
        return next(
            (
                op
                for op in self.operations(cluster_arn)
                if op.running and op.operation_type == operation_type
            ),
            None,
        )

    @staticmethod
    def _record(action: str, result: UpdateResult, cluster_arn: str | None = None) -> UpdateResult:
        logger.info(
            "msk update",
            extra={
                "action": action,
                "status": result.status.value,
                "reason": result.reason,
                "cluster_arn": cluster_arn,
                "operation_arn": result.operation_arn,
                "gate": result.gate,
            },
        )
        metrics.add_metric(name=f"MskUpdate.{result.status.value}", unit=MetricUnit.Count, value=1)
        return result
