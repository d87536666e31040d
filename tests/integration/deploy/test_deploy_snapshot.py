"""`deploy_to_empty_account`: the second deploy into an emptied account puts back a copy of the
first one's state. The copy must behave as the deployed stack does (updated through a change
set, deleted with nothing left) and be fresh each time (one test's changes never reach the next).
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from msk_autopilot_local.deploy import deploy_to_empty_account, deploy_working_tree
from msk_autopilot_local.emulator.control import install

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"


@pytest.fixture
def session(monkeypatch) -> boto3.Session:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return boto3.Session(region_name=REGION)


@contextlib.contextmanager
def emptied() -> Iterator[None]:
    """An emptied account with the emulator, as each test's is."""
    with mock_aws():
        install()
        yield


def deploy_into(session):
    return deploy_to_empty_account(TEMPLATE, session)


def functions(session) -> set[str]:
    pages = session.client("lambda").get_paginator("list_functions").paginate()
    return {each["FunctionName"] for page in pages for each in page["Functions"]}


def test_a_restored_stack_is_the_deployed_one_and_fresh_each_time(session):
    with emptied():
        first = deploy_into(session)
        deployed = functions(session)
        session.client("lambda").delete_function(FunctionName=sorted(deployed)[0])
    with emptied():
        again = deploy_into(session)
        assert again == first
        assert functions(session) == deployed  # the deletion above did not reach this copy
        stack = session.client("cloudformation").describe_stacks(StackName=first.stack_name)
        assert stack["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_a_restored_stack_updates_and_deletes_like_the_deployed_one(session):
    with emptied():
        deploy_into(session)
    with emptied():
        deployment = deploy_into(session)
        updated = deploy_working_tree(
            TEMPLATE,
            cloudformation=session.client("cloudformation"),
            s3=session.client("s3"),
            parameters={"DryRun": "true"},
        )
        assert (updated.action, updated.status) == ("UPDATE", "UPDATE_COMPLETE")
        name = next(iter(functions(session)))
        environment = session.client("lambda").get_function_configuration(FunctionName=name)
        assert environment["Environment"]["Variables"]["DRY_RUN"] == "true"
        # moto indexes functions by ARN in a weak dictionary: a copy that indexed the snapshot's
        # functions instead of its own would fail here.
        session.client("cloudformation").delete_stack(StackName=deployment.stack_name)
        assert functions(session) == set()
