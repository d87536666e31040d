"""A local account for the health monitor: the MSK emulator, the app's resources, a fleet."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from msk_autopilot_local.emulator import seed_fleet
from msk_autopilot_local.local_lambda import invoke_function

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
TAG = "msk-autopilot:managed"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]


@pytest.fixture
def query_definitions(aws) -> Callable[[], dict[str, dict[str, Any]]]:
    """The account's Logs Insights query definitions by id, read through botocore (the
    emulator adds them to moto: msk_autopilot_local.emulator.logs)."""
    logs = aws.client("logs")

    def read() -> dict[str, dict[str, Any]]:
        found = logs.describe_query_definitions()["queryDefinitions"]
        return {d["queryDefinitionId"]: d for d in found}

    return read


@pytest.fixture
def cluster_spec() -> Callable[..., dict[str, Any]]:
    """A fleet-seed entry for a three-broker cluster, opted in unless told otherwise."""

    def spec(name: str, *, opted_in: bool = True, **more: Any) -> dict[str, Any]:
        return {
            "name": name,
            "brokers": 3,
            "subnets": SUBNETS,
            "tags": {TAG: "true"} if opted_in else {},
            **more,
        }

    return spec


@pytest.fixture
def fleet(aws) -> Callable[..., dict[str, str]]:
    def create(*clusters: dict[str, Any]) -> dict[str, str]:
        return seed_fleet(aws, {"clusters": list(clusters)}).clusters

    return create


@pytest.fixture
def invoke(aws) -> Callable[..., dict[str, Any]]:
    def run(event: dict[str, Any], **env: str) -> dict[str, Any]:
        return invoke_function("health_monitor", event, env_overrides=env)

    return run
