"""MSK Connect connectors, judged with Security Hub's MSK.3 and MSK.5 semantics.

- MSK.3 "MSK Connect connectors should be encrypted in transit" (Medium): fails when the
  connector's traffic to its Kafka cluster is not encrypted, that is
  KafkaClusterEncryptionInTransit.EncryptionType is not TLS. MSK Connect cannot change it after
  creation: the connector is re-created.
- MSK.5 "MSK connectors should have logging enabled" (Medium): fails when the connector delivers
  its worker logs nowhere; any one destination (CloudWatch Logs, S3, Firehose) enabled passes
  (the AWS Config rule msk-connect-connector-logging-enabled: "logging enabled to any one of the
  log destinations"). Logging too is set only at creation.

ListConnectors' summaries carry both settings (the same fields as DescribeConnector's answer, which
`Connector` models), so the collector (`collect.list_connectors`) lists and never describes: one
call per 100 connectors, and the connectors' configuration, where plugins may keep credentials in
plain text, is never read. Connectors are listed on full runs only (an event run audits its one
cluster).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from msk_autopilot.audit.controls import (
    Category,
    Control,
    DataSource,
    Evidence,
    FindingSeverity,
    Status,
    Subject,
    Verdict,
    declare_control,
)

__all__ = [
    "CONNECTORS",
    "Connector",
    "connector_encryption_in_transit",
    "connector_logging",
]

CONNECTORS = DataSource("connectors", ("kafkaconnect:ListConnectors",))


class _EncryptionInTransit(msgspec.Struct, frozen=True, rename="camel"):
    encryption_type: str | None = None


class _LogDestination(msgspec.Struct, frozen=True, rename="camel"):
    enabled: bool = False


class _WorkerLogDelivery(msgspec.Struct, frozen=True, rename="camel"):
    cloud_watch_logs: _LogDestination = _LogDestination()
    firehose: _LogDestination = _LogDestination()
    s3: _LogDestination = _LogDestination()


class _LogDelivery(msgspec.Struct, frozen=True, rename="camel"):
    worker_log_delivery: _WorkerLogDelivery = _WorkerLogDelivery()


class Connector(msgspec.Struct, frozen=True, rename="camel"):
    """What the checks read of a connector, as DescribeConnector (or ListConnectors) gives it."""

    connector_arn: str
    connector_name: str
    connector_state: str | None = None
    kafka_cluster_encryption_in_transit: _EncryptionInTransit = _EncryptionInTransit()
    log_delivery: _LogDelivery = _LogDelivery()


def connector_encryption_in_transit(connector: Connector) -> Verdict:
    """MSK.3."""
    encryption = connector.kafka_cluster_encryption_in_transit.encryption_type
    if encryption == "TLS":
        return Verdict(Status.PASSED, "the connector reaches its Kafka cluster over TLS")
    return Verdict(
        Status.FAILED,
        f"the connector reaches its Kafka cluster in plaintext ({encryption or 'not set'})",
    )


def connector_logging(connector: Connector) -> Verdict:
    """MSK.5."""
    delivery = connector.log_delivery.worker_log_delivery
    destinations = [
        name
        for name, destination in (
            ("CloudWatch Logs", delivery.cloud_watch_logs),
            ("Firehose", delivery.firehose),
            ("S3", delivery.s3),
        )
        if destination.enabled
    ]
    if destinations:
        return Verdict(Status.PASSED, f"worker logs go to {', '.join(destinations)}")
    return Verdict(Status.FAILED, "worker logs are not delivered anywhere")


# MSK Connect sets both at creation only: the remediation is a new connector.
_RECREATE = (
    "MSK Connect cannot change it on an existing connector: delete the connector and create it "
    "again (CreateConnector) with "
)


def _on_connector(
    check: Callable[[Connector], Verdict],
) -> Callable[[Connector, Evidence], Verdict]:
    def judge(connector: Connector, evidence: Evidence) -> Verdict:
        return check(connector)

    return judge


declare_control(
    Control(
        id="MSK.3",
        severity=FindingSeverity.MEDIUM,
        category=Category.SECURITY,
        title="MSK Connect connectors should be encrypted in transit",
        remediation=_RECREATE + "KafkaClusterEncryptionInTransit.EncryptionType TLS.",
        subject=Subject.CONNECTOR,
        sources=(CONNECTORS,),
        check=_on_connector(connector_encryption_in_transit),
    )
)
declare_control(
    Control(
        id="MSK.5",
        severity=FindingSeverity.MEDIUM,
        category=Category.SECURITY,
        title="MSK Connect connectors should have logging enabled",
        remediation=_RECREATE
        + "LogDelivery.WorkerLogDelivery delivering to CloudWatch Logs, Firehose or S3.",
        subject=Subject.CONNECTOR,
        sources=(CONNECTORS,),
        check=_on_connector(connector_logging),
    )
)
