"""Activation of the emulator in moto, and the Python control API (clock, settings, faults)."""

import os
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from moto.kafka.models import kafka_backends

from . import health, load
from .cloudformation import install_cloudformation
from .event_targets import install_event_targets
from .health import ClusterHealth, camel_names
from .kafkaconnect import install_kafka_connect, kafkaconnect_backends
from .logs import install_logs_additions
from .metric_index import install_metric_index
from .models import MskBackend
from .policies import install_policy_conditions
from .secretsmanager import install_current_version_tracking
from .securityhub import install_finding_workflow
from .serialized import serialize_in_process_requests
from .state import EmulatorClock, EmulatorSettings, OperationFault, emulator_state
from .ticker import tick

CUSTOMER_ACTION_STATUSES = ("NONE", "ACTION_RECOMMENDED", "CRITICAL_ACTION_REQUIRED")


def install() -> None:
    """Make moto's ``kafka`` service the MSK emulator, in this process, from now on, give
    moto's Security Hub its finding workflow (``securityhub``), make moto's Secrets Manager
    read AWSCURRENT by default after UpdateSecretVersionStage (``secretsmanager``), give moto's
    CloudWatch Logs query definitions (``logs``), serve MSK Connect (``kafkaconnect``), complete
    moto's CloudFormation for this project's transformed template (``cloudformation``), answer
    one request at a time (``serialized``), and publish clusters' health metrics as the clock
    advances (``health``).

    Idempotent. moto keeps one ``BackendDict`` per service and builds a backend per account and
    Region on first use, from ``BackendDict.backend``; pointing that at ``MskBackend`` is the one
    change to moto's state. Both dispatchers (the in-process botocore stubber and the server's
    Flask app) then read the routes from ``MskBackend``. Plain kafka backends created before
    ``install()`` are replaced; one that already holds moto clusters is refused rather than lost.
    """
    # The emulator serves no AMIs; moto would load its default set into every EC2 backend it
    # builds (0.4 s each, every account and Region, on every reset).
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    install_finding_workflow()
    install_current_version_tracking()
    install_logs_additions()
    install_metric_index()
    install_kafka_connect()
    install_cloudformation()
    install_policy_conditions()
    install_event_targets()
    serialize_in_process_requests()
    emulator_state.clock.subscribe(health.publish_due)
    with emulator_state.lock:
        kafka_backends.backend = MskBackend
        for account_backends in kafka_backends.values():
            account_backends.backend = MskBackend
            for region, backend in list(account_backends.items()):
                if isinstance(backend, MskBackend):
                    continue
                if backend.clusters:
                    raise RuntimeError(
                        "moto's kafka backend already holds clusters: call install() before "
                        "creating any MSK resources."
                    )
                del account_backends[region]


def _msk_backends() -> Iterator[MskBackend]:
    for account_backends in kafka_backends.values():
        for backend in account_backends.values():
            if isinstance(backend, MskBackend):
                yield backend


class EmulatorControl:
    """What a test (or the server's control endpoints) can do to the emulated world."""

    @property
    def clock(self) -> EmulatorClock:
        return emulator_state.clock

    @property
    def settings(self) -> EmulatorSettings:
        return emulator_state.settings

    def configure(self, **seconds: Any) -> dict[str, float]:
        """Change timing settings (cluster_create_seconds, operation_seconds,
        storage_cooldown_seconds); returns all settings. All values are checked before any
        is applied."""
        with emulator_state.lock:
            emulator_state.settings.update(**seconds)
            return emulator_state.settings.as_dict()

    def fail_next_operation(self, *, error_code: str, error_string: str) -> None:
        """Make the next cluster operation that starts end UPDATE_FAILED with this ErrorInfo.

        The request itself is accepted; when the operation's time is up it fails and the cluster
        returns to ACTIVE with its previous settings. Calls queue up: one fault per operation.
        """
        if not error_code or not error_string:
            raise ValueError("An injected fault needs a non-empty error code and error string.")
        with emulator_state.lock:
            emulator_state.pending_faults.append(OperationFault(error_code, error_string))

    def complete_operations(self) -> datetime:
        """Advance the clock until every cluster being created and every running operation is
        done (in every account and Region), apply the results and return the new time."""
        with emulator_state.lock:
            deadlines = [
                deadline for backend in _msk_backends() for deadline in backend.pending_deadlines()
            ]
            if deadlines:
                emulator_state.clock.advance_to(max(deadlines))
            for backend in _msk_backends():
                backend.advance_lifecycle()
            return emulator_state.clock.now()

    def set_cluster_health(
        self, cluster_arn: str, *, broker: int | None = None, **values: float
    ) -> ClusterHealth:
        """Change what a cluster's brokers report (``health.ClusterHealth`` fields, e.g.
        ``under_replicated_partitions=4``, ``cpu_user=70``, ``active_controllers=0``), for every
        broker or, with ``broker``, for that broker ID only. A first call starts the cluster
        publishing, from defaults that are healthy; the last 15 minutes are written at once."""
        names = camel_names(ClusterHealth)
        unknown = sorted(set(values) - set(names) - {"brokers"})
        if unknown:
            raise ValueError(
                f"Unknown health values: {', '.join(unknown)}. Known: {', '.join(names)}."
            )
        return health.set_cluster_health(
            cluster_arn, {names[name]: value for name, value in values.items()}, broker
        )

    def set_broker_load(
        self,
        cluster_arn: str,
        *,
        broker: int | None = None,
        since: timedelta = timedelta(days=14),
        step: timedelta = timedelta(hours=1),
        **values: float | Sequence[float],
    ) -> int:
        """Give every broker (or ``broker``) a past of load from ``since`` ago until now, one
        point per ``step``: ``cpu_user``, ``cpu_system`` (percent), ``bytes_in``, ``bytes_out``,
        ``replication_bytes_in`` (bytes per second; the last only on clusters monitored at
        PER_BROKER or finer), and on Express ``produce_throttle_ms``, ``fetch_throttle_ms``; each a
        number, or a list of one number per step, oldest first. The last values become the
        health profile's, published a point a minute from then on (see ``load``). Returns the
        points written before the last 15 minutes."""
        return load.set_broker_load(cluster_arn, broker=broker, since=since, step=step, **values)

    def set_partition_bytes(self, cluster_arn: str, topic: str, bytes_per_partition: int) -> None:
        """Set the size of each partition of ``topic``, which MSK's API never returns: it feeds
        StorageUsed on Express and what moving a partition costs."""
        if (
            isinstance(bytes_per_partition, bool)
            or not isinstance(bytes_per_partition, int)
            or bytes_per_partition < 0
        ):
            raise ValueError(
                f"Bytes per partition is a whole number >= 0, not {bytes_per_partition!r}."
            )
        with emulator_state.lock:
            _, cluster = health.locate(cluster_arn)
            if topic not in cluster.topics:
                raise ValueError(f"Cluster {cluster.name} has no topic {topic}.")
            cluster.topics[topic].bytes_per_partition = bytes_per_partition

    def set_out_of_sync(
        self, cluster_arn: str, topic: str, partition: int, brokers: Sequence[int]
    ) -> list[int]:
        """Take ``brokers`` out of the ISR of one partition of ``topic`` (as a broker that falls
        behind its leader), the rest of its replicas in sync; an empty list puts every replica
        back in sync. Returns the new ISR (DescribeTopicPartitions' Isr; ListTopics'
        OutOfSyncReplicaCount follows). A leader taken out of sync hands leadership to the
        first replica still in sync."""
        with emulator_state.lock:
            _, cluster = health.locate(cluster_arn)
            if topic not in cluster.topics:
                raise ValueError(f"Cluster {cluster.name} has no topic {topic}.")
            partitions = cluster.topics[topic].partitions
            if isinstance(partition, bool) or not 0 <= partition < len(partitions):
                raise ValueError(f"Topic {topic} has partitions 0 to {len(partitions) - 1}.")
            replicas = partitions[partition]
            stray = sorted(set(brokers) - set(replicas.replicas))
            if stray:
                raise ValueError(f"Broker {stray[0]} holds no replica of {topic}-{partition}.")
            in_sync = [broker for broker in replicas.replicas if broker not in brokers]
            if not in_sync:
                raise ValueError("At least one replica (the leader) stays in sync.")
            replicas.isr = in_sync
            if replicas.leader not in in_sync:
                replicas.leader = in_sync[0]
            return list(in_sync)

    def partition_bytes(self, cluster_arn: str) -> dict[str, int]:
        """Bytes per partition of each of the cluster's topics, by topic name."""
        with emulator_state.lock:
            _, cluster = health.locate(cluster_arn)
            return {name: topic.bytes_per_partition for name, topic in cluster.topics.items()}

    def start_maintenance(self, cluster_arn: str, *, seconds: float | None = None) -> str:
        """Start MSK's own maintenance on an ACTIVE cluster, for ``seconds`` of emulated time
        (default: the operation_seconds setting); returns the operation's ARN."""
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0
        ):
            raise ValueError("Maintenance lasts a positive number of seconds.")
        with emulator_state.lock:
            backend, _ = health.locate(cluster_arn)
            return backend.start_maintenance(cluster_arn, seconds).arn

    def set_customer_action_status(self, cluster_arn: str, status: str) -> None:
        """Set the cluster's CustomerActionStatus (DescribeClusterV2, ListClustersV2)."""
        if status not in CUSTOMER_ACTION_STATUSES:
            raise ValueError(
                f"CustomerActionStatus is one of {', '.join(CUSTOMER_ACTION_STATUSES)}, "
                f"not {status!r}."
            )
        with emulator_state.lock:
            _, cluster = health.locate(cluster_arn)
            cluster.customer_action_status = status

    def tick(self) -> None:
        """What local-aws's ticker does every few seconds: publish the health metrics due and
        evaluate every alarm, with its SNS actions and EventBridge events."""
        tick()

    def reset(self) -> None:
        """Back to a fresh emulator: real time, default settings, no pending faults and no MSK
        resources. Other services' moto state (KMS keys, secrets, metrics) is left alone."""
        with emulator_state.lock:
            emulator_state.reset()
            for backends in (kafka_backends, kafkaconnect_backends):
                for account_backends in backends.values():
                    account_backends.reset()


control = EmulatorControl()
