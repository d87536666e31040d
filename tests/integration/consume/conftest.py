"""The account the record consumer's integration tests run in: moto with its two buckets."""

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.chdir(ROOT)  # the function reads template.yaml from here
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in ("archive", "failures"):
            s3.create_bucket(Bucket=bucket)
        yield s3
