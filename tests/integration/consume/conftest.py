"""The account the record consumer's integration tests run in: the emulator with the stack
deployed (invoke reads the function from it) and the tests' two buckets."""

from pathlib import Path

import boto3
import pytest

from msk_autopilot_local.deploy import deploy_to_empty_account

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch, msk_emulator):
    monkeypatch.chdir(ROOT)  # the function reads template.yaml from here
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    session = boto3.Session(region_name=REGION)
    deploy_to_empty_account(ROOT / "template.yaml", session)
    s3 = session.client("s3")
    for bucket in ("archive", "failures"):
        s3.create_bucket(Bucket=bucket)
    return s3
