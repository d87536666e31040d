"""A real Kafka-wire broker (noida-db on 127.0.0.1) and moto for the ESM poller's tests."""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from msk_autopilot_local.broker import LocalBroker, start_broker
from msk_autopilot_local.deploy import deploy_to_empty_account
from msk_autopilot_local.esm import PollerConfig

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def kafka() -> Iterator[LocalBroker]:
    """One broker per test process (per xdist worker); tests use topics and groups of their own."""
    broker = start_broker()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture
def own_kafka() -> Iterator[LocalBroker]:
    """A broker a test may stop and start again."""
    broker = start_broker()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture
def config_for(kafka) -> Callable[..., PollerConfig]:
    """A PollerConfig for the shared broker, with fast test defaults."""

    def make(topic: str, function, **overrides) -> PollerConfig:
        settings = {
            "bootstrap_servers": kafka.bootstrap_servers,
            "topics": (topic,),
            "function": function,
            "group_id": f"g-{uuid.uuid4().hex[:8]}",
            "batching_window": 0.05,
            "until_idle": 0.7,
            "retry_backoff": 0.0,
            "kafka_config": {"session.timeout.ms": 6000},
            **overrides,
        }
        return PollerConfig(**settings)

    return make


@pytest.fixture
def aws(monkeypatch, msk_emulator):
    """The emulator in this process with the stack deployed (the functions a poller runs are
    read from it), and a bucket and a queue for on-failure destinations."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    session = boto3.Session(region_name=REGION)
    deploy_to_empty_account(ROOT / "template.yaml", session)
    s3 = session.client("s3")
    s3.create_bucket(Bucket="esm-failures")
    sqs = session.client("sqs")
    queue_url = sqs.create_queue(QueueName="esm-failures")["QueueUrl"]
    return {"s3": s3, "sqs": sqs, "queue_url": queue_url}
