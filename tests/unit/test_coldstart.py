"""The cold start pauses cyclic garbage collection and the first invocation resumes it."""

import gc
from pathlib import Path

import boto3
import pytest

from msk_autopilot import coldstart
from msk_autopilot_local.deploy import deploy_to_empty_account
from msk_autopilot_local.local_lambda import InvokeError, invoke_function

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture
def deployed(msk_emulator, monkeypatch):
    """The stack deployed in the emulated account: invoke reads the function from it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    session = boto3.Session()
    deploy_to_empty_account(TEMPLATE, session)


@pytest.fixture(autouse=True)
def _collector_back_on():
    yield
    coldstart.end()
    gc.enable()
    gc.unfreeze()


def test_a_lambda_container_freezes_what_its_cold_start_built(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    coldstart.begin()
    coldstart.end()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_a_local_process_is_not_frozen(monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_RUNTIME_API", raising=False)
    coldstart.begin()
    coldstart.end()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_begin_pauses_and_end_resumes_once():
    coldstart.begin()
    assert not gc.isenabled()
    coldstart.end()
    assert gc.isenabled()
    gc.disable()
    coldstart.end()  # already ended: a collector someone else turned off stays off
    assert not gc.isenabled()


def test_a_collector_already_off_is_left_off():
    gc.disable()
    coldstart.begin()
    coldstart.end()
    assert not gc.isenabled()


@pytest.mark.usefixtures("deployed")
def test_an_invocation_ends_the_handlers_cold_start():
    answer = invoke_function("storage_scaler", {"not": "an event"})
    assert answer["status"] == "rejected"
    assert gc.isenabled()


@pytest.mark.usefixtures("deployed")
def test_a_failed_cold_start_leaves_the_collector_on():
    with pytest.raises(InvokeError):
        invoke_function("storage_scaler", {}, env_overrides={"DRY_RUN": "maybe"})
    assert gc.isenabled()
