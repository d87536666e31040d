"""MSK.3 and MSK.5 on connectors shaped like DescribeConnector's answer (the collector is tested
against the emulator's MSK Connect: tests/integration/audit/test_audit_connector_listing.py)."""

from typing import Any

import msgspec
import pytest

from msk_autopilot.audit.connectors import (
    Connector,
    connector_encryption_in_transit,
    connector_logging,
)
from msk_autopilot.audit.controls import Status, Verdict

REGION = "us-east-1"
ARN = "arn:aws:kafkaconnect:us-east-1:123456789012:connector/s3-sink/0a1b2c3d-4e5f"


def described(**fields: Any) -> dict[str, Any]:
    return {
        "connectorArn": ARN,
        "connectorName": "s3-sink",
        "connectorState": "RUNNING",
        "kafkaClusterEncryptionInTransit": {"encryptionType": "TLS"},
        "logDelivery": {
            "workerLogDelivery": {
                "cloudWatchLogs": {"enabled": False},
                "firehose": {"enabled": False},
                "s3": {"enabled": False},
            }
        },
        **fields,
    }


def connector(**fields: Any) -> Connector:
    return msgspec.convert(described(**fields), type=Connector)


def delivery(**enabled: bool) -> dict[str, Any]:
    return {"workerLogDelivery": {name: {"enabled": on} for name, on in enabled.items()}}


def test_msk3_passes_tls_and_fails_plaintext():
    assert connector_encryption_in_transit(connector()).status is Status.PASSED
    plaintext = connector(kafkaClusterEncryptionInTransit={"encryptionType": "PLAINTEXT"})
    assert connector_encryption_in_transit(plaintext) == Verdict(
        Status.FAILED, "the connector reaches its Kafka cluster in plaintext (PLAINTEXT)"
    )


def test_msk3_fails_a_connector_that_reports_no_encryption():
    result = connector_encryption_in_transit(
        msgspec.convert({"connectorArn": ARN, "connectorName": "bare"}, type=Connector)
    )
    assert result.status is Status.FAILED


@pytest.mark.parametrize(
    ("log_delivery", "detail"),
    [
        (delivery(cloudWatchLogs=True), "worker logs go to CloudWatch Logs"),
        (delivery(firehose=True), "worker logs go to Firehose"),
        (delivery(s3=True, cloudWatchLogs=True), "worker logs go to CloudWatch Logs, S3"),
    ],
)
def test_msk5_passes_with_any_one_destination(log_delivery, detail):
    result = connector_logging(connector(logDelivery=log_delivery))
    assert (result.status, result.detail) == (Status.PASSED, detail)


@pytest.mark.parametrize("log_delivery", [delivery(s3=False), {}, {"workerLogDelivery": {}}])
def test_msk5_fails_without_any_destination(log_delivery):
    result = connector_logging(connector(logDelivery=log_delivery))
    assert (result.status, result.detail) == (
        Status.FAILED,
        "worker logs are not delivered anywhere",
    )
