"""Fixtures of the configuration-rotator and SCRAM-rotator end-to-end tests (see config_account)."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from config_account import REGION, ROOT, Account
from scram_brokers import BROKERS, MskBrokers

from msk_autopilot_local.deploy import deploy_to_empty_account
from msk_autopilot_local.emulator.testing import msk_emulator  # noqa: F401 - fixture


@pytest.fixture
def account(msk_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Account:  # noqa: F811
    monkeypatch.chdir(ROOT)  # invoke_function finds template.yaml from here
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    deploy_to_empty_account(ROOT / "template.yaml", boto3.Session(region_name=REGION))
    return Account(msk_emulator)


@pytest.fixture
def brokers() -> Iterator[MskBrokers]:
    """The fake MSK brokers the tests' SCRAM_AUTHENTICATOR talks to; empty for each test."""
    try:
        yield BROKERS
    finally:
        BROKERS.close()
