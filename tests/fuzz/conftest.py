"""The fuzz suite's profiles and fixtures: a world per test, each handler loaded once.

`make test` runs the short profile; `make fuzz` sets HYPOTHESIS_PROFILE=fuzz (10,000 cases per
handler). The world (fleet, app resources, disk history) is built once per test and made fresh
before each case, hence the function-scoped fixtures under `@given`.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from fuzz_events import MAX_VALUE_BYTES
from fuzz_world import ACCOUNT, REGION, ROOT, FuzzWorld
from hypothesis import HealthCheck, settings

from msk_autopilot_local.local_lambda import LocalContext, environment, load_handler_module

# Settings under which each function reaches its mutating paths without a network.
ENVIRONMENT = {
    "scram_rotator": {
        "SCRAM_AUTHENTICATOR": (
            "msk_autopilot_local.emulator.scram_brokers:local_scram_authenticator"
        )
    },
    "security_auditor": {
        "REMEDIATE_CONTROLS": "MSK.2,MSK.4,AUTOPILOT.1,AUTOPILOT.3",
        "BROKER_LOG_GROUP": "/msk/broker-logs",
    },
    "record_consumer": {"VALUE_FORMAT": "json", "MAX_VALUE_BYTES": str(MAX_VALUE_BYTES)},
}

for name, examples in (("short", 100), ("fuzz", 10_000)):
    settings.register_profile(
        name,
        max_examples=examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
        ],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "short"))


@dataclass(frozen=True)
class Handler:
    """A function's handler as Lambda runs it (module loaded once: a warm container), and its
    own event parser, which the oracle asks whether an event is valid."""

    function: str
    physical_name: str
    lambda_handler: Callable[[Any, Any], Any]
    parse: Callable[[object], Any]

    def invoke(self, event: Any) -> Any:
        context = LocalContext(  # a new one per invocation, as Lambda gives
            function_name=self.physical_name,
            invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.physical_name}",
        )
        # The function's name only while it runs: the call recorder (tests/conftest.py) then
        # counts its AWS calls, not the world's set-up, for tests/least_privilege.
        with environment({"AWS_LAMBDA_FUNCTION_NAME": self.physical_name}):
            return self.lambda_handler(event, context)


@pytest.fixture
def world(monkeypatch, msk_emulator) -> FuzzWorld:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.chdir(ROOT)
    return FuzzWorld(boto3.Session(region_name=REGION), ROOT / "template.yaml", msk_emulator)


@pytest.fixture
def load_handler(monkeypatch, world) -> Callable[[str], Handler]:
    """Loads a function's handler module with its deployed environment (and ENVIRONMENT)."""
    stack = world.stack

    def load(function: str) -> Handler:
        logical_id = stack.function_logical_id(function)
        physical_name = stack.physical_name(logical_id)
        environment_variables = {
            **stack.function_environment(logical_id),
            **ENVIRONMENT.get(function, {}),
            "AWS_REGION": REGION,
            "POWERTOOLS_LOG_LEVEL": "CRITICAL",
        }
        for variable, value in environment_variables.items():
            monkeypatch.setenv(variable, value)
        with environment({"AWS_LAMBDA_FUNCTION_NAME": physical_name}):
            module = load_handler_module(stack.function_code_dir(logical_id), f"fuzz_{function}")
        parse = module.parse_kafka_event if function == "record_consumer" else module.parse
        return Handler(function, physical_name, module.lambda_handler, parse)

    return load


@pytest.fixture
def handler(request, load_handler) -> Handler:
    """The handler of the function named by the test's parameter."""
    return load_handler(request.param)
