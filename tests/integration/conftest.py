"""Fixtures shared by the integration suites."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from msk_autopilot.aws import ClientFactory
from msk_autopilot.health.gatekeeper import guarded_msk
from msk_autopilot.msk import MskPort
from msk_autopilot.notify import Notifier
from msk_autopilot.observability import metrics
from msk_autopilot_local.deploy import deploy_to_empty_account

ROOT = Path(__file__).resolve().parents[2]
REGION = GATE_REGION = "us-east-1"
GATE_NOTICES_TABLE = "health-gate-notices"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, msk_emulator: Any) -> boto3.Session:
    """The emulated account with the stack deployed in it (through CloudFormation, from the
    working tree): the functions the tests invoke read their environment from it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.chdir(ROOT)
    session = boto3.Session(region_name=REGION)
    deploy_to_empty_account(ROOT / "template.yaml", session)
    return session


@pytest.fixture
def gated_msk(msk_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MskPort]:
    """An MSK port whose changes pass the real health gates: emulated MSK, moto CloudWatch, a
    notice table and topic of their own (so they never meet the app's)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    session = boto3.Session(region_name=GATE_REGION)
    session.client("dynamodb").create_table(
        TableName=GATE_NOTICES_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sns = session.client("sns")
    topic = sns.create_topic(Name=GATE_NOTICES_TABLE)["TopicArn"]
    yield guarded_msk(
        ClientFactory(GATE_REGION),
        idempotency_table=GATE_NOTICES_TABLE,
        notifier=Notifier(sns, topic),
    )
    # Outside a handler nothing flushes the port's metrics: don't leave them to the next test.
    metrics.clear_metrics()
