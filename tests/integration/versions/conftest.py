"""The in-process account of the version upgrader's tests: the MSK emulator, the app's topic
and table, the fleet of `upgrade_scenario`, and an inbox on the topic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from upgrade_scenario import (
    ENVIRONMENT,
    FUNCTION,
    ROOT,
    ScenarioResult,
    fleet,
    run_upgrade_scenario,
)

from msk_autopilot_local.deploy import deploy_to_empty_account
from msk_autopilot_local.emulator import control, install
from msk_autopilot_local.emulator.seed import seed_fleet
from msk_autopilot_local.local_lambda import invoke_function

REGION = "us-east-1"
TABLE = "msk-autopilot-idempotency"
TOPIC = "msk-autopilot-notifications"


class InProcessWorld:
    """The emulated account with the stack deployed (its topic and table), the fleet, and an
    inbox on the topic."""

    def __init__(self, control: Any, **environment: str) -> None:
        self.session = boto3.session.Session(region_name=REGION)
        self.environment = environment
        sns, sqs = self.client("sns"), self.client("sqs")
        topic = sns.create_topic(Name=TOPIC)["TopicArn"]
        self.inbox = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.inbox, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue_arn["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
        self.clusters = seed_fleet(self.session, fleet(control.clock.now())).clusters

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def deliver(self, event: dict[str, Any], **environment: str) -> dict[str, Any]:
        result: dict[str, Any] = invoke_function(
            FUNCTION, event, env_overrides={**self.environment, **environment}
        )
        return result

    def notices(self) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        found = []
        while batch := sqs.receive_message(QueueUrl=self.inbox, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.inbox, ReceiptHandle=message["ReceiptHandle"])
        return found


def _account(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials for the emulated account, and the stack deployed in it (invoke_function
    reads each function from it)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    deploy_to_empty_account(ROOT / "template.yaml", boto3.Session(region_name=REGION))


@pytest.fixture
def world(msk_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> InProcessWorld:
    _account(monkeypatch)
    return InProcessWorld(msk_emulator, **ENVIRONMENT)


@pytest.fixture(scope="module")
def rolled_out() -> Iterator[tuple[InProcessWorld, ScenarioResult]]:
    """One rollout to its end, shared by the module's tests (it takes a dozen runs)."""
    with pytest.MonkeyPatch.context() as monkeypatch, mock_aws():
        install()
        control.reset()
        _account(monkeypatch)
        try:
            world = InProcessWorld(control, **ENVIRONMENT)
            yield world, run_upgrade_scenario(world)
        finally:
            control.reset()
