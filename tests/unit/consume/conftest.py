"""Fixtures of the consumer tests: moto with the archive and failure buckets, pipelines."""

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from consume_support import ARCHIVE, FAILURES, REGION, settings
from moto import mock_aws

from msk_autopilot.aws import ClientFactory
from msk_autopilot.consume import build_record_consumer


@pytest.fixture
def aws(monkeypatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=ARCHIVE)
        s3.create_bucket(Bucket=FAILURES)
        yield


@pytest.fixture
def s3(aws) -> Any:
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def clients(aws) -> ClientFactory:
    return ClientFactory(region=REGION, max_attempts=1)


@pytest.fixture
def consumer(clients) -> Callable[..., Any]:
    """consumer(VALUE_FORMAT="json", ...) -> a pipeline on moto with those settings."""

    def make(clients_override: Any = None, **env: str) -> Any:
        return build_record_consumer(settings(**env), clients_override or clients)

    return make
