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
`Connector` models), so the collector lists and never describes: one call per 100 connectors,
and the connectors' configuration, where plugins may keep credentials in plain text, is never
read.
"""

from __future__ import annotations

from typing import Any

import msgspec
from botocore.exceptions import BotoCoreError, ClientError

from msk_autopilot.audit.collect import AuditTarget, describe_error
from msk_autopilot.audit.controls import DataSource, DataUnavailable, Status, Verdict

__all__ = [
    "CONNECTORS",
    "Connector",
    "connector_encryption_in_transit",
    "connector_logging",
    "list_connectors",
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


def list_connectors(target: AuditTarget) -> list[Connector]:
    """Every connector of the target's account and Region (ListConnectors, 100 a page)."""
    list_page = target.client("kafkaconnect").list_connectors
    connectors: list[Connector] = []
    parameters: dict[str, Any] = {"maxResults": 100}
    try:
        # MSK Connect pages with a lowercase nextToken, which aws.pages does not follow.
        while True:
            page = list_page(**parameters)
            connectors += msgspec.convert(page.get("connectors", []), type=list[Connector])
            token = page.get("nextToken")
            if not token:
                return connectors
            if token == parameters.get("nextToken"):
                raise DataUnavailable(f"ListConnectors repeated its nextToken {token!r}")
            parameters["nextToken"] = token
    except (ClientError, BotoCoreError) as error:
        raise DataUnavailable(describe_error(error)) from None
    except msgspec.ValidationError as error:
        raise DataUnavailable(
            f"ListConnectors returned a connector that cannot be read: {error}"
        ) from None


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
