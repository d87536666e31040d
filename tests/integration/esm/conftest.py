"""A real Kafka-wire broker (noida-db on 127.0.0.1) and moto for the ESM poller's tests."""

import uuid
from collections.abc import Callable, Iterator

import boto3
import pytest
from moto import mock_aws

from msk_autopilot_local.broker import LocalBroker, start_broker
from msk_autopilot_local.esm import PollerConfig

REGION = "us-east-1"


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
def aws(monkeypatch):
    """moto in this process: a bucket and a queue for on-failure destinations."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="esm-failures")
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="esm-failures")["QueueUrl"]
        yield {"s3": s3, "sqs": sqs, "queue_url": queue_url}
