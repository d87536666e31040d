"""A local account for the health monitor: the MSK emulator, the app's resources, a fleet."""

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.logs.exceptions import ResourceNotFoundException
from moto.logs.responses import LogsResponse

from msk_autopilot_local.emulator import seed_fleet
from msk_autopilot_local.local_lambda import invoke_function
from msk_autopilot_local.template.resolve import ResolvedTemplate
from msk_autopilot_local.template.resources import create_app_resources

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
TAG = "msk-autopilot:managed"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]


@pytest.fixture
def query_definitions(monkeypatch) -> dict[str, dict[str, Any]]:
    """moto 5.2 has no Logs Insights query definitions; the emulator adds them (issue 15,
    emulator part: msk_autopilot_local.emulator.logs). Until that is merged, this minimal
    stand-in keeps them by id as PutQueryDefinition, DescribeQueryDefinitions and
    DeleteQueryDefinition do (an unknown id is ResourceNotFoundException)."""
    stored: dict[str, dict[str, Any]] = {}

    def put_query_definition(self: LogsResponse) -> str:
        identity = self._get_param("queryDefinitionId") or str(uuid.uuid4())
        if self._get_param("queryDefinitionId") and identity not in stored:
            raise ResourceNotFoundException(f"Query definition {identity} does not exist.")
        stored[identity] = {
            "queryDefinitionId": identity,
            "name": self._get_param("name"),
            "queryString": self._get_param("queryString"),
            "logGroupNames": self._get_param("logGroupNames") or [],
        }
        return json.dumps({"queryDefinitionId": identity})

    def describe_query_definitions(self: LogsResponse) -> str:
        prefix = self._get_param("queryDefinitionNamePrefix") or ""
        found = [d for d in stored.values() if d["name"].startswith(prefix)]
        return json.dumps({"queryDefinitions": found})

    def delete_query_definition(self: LogsResponse) -> str:
        identity = self._get_param("queryDefinitionId")
        if stored.pop(identity, None) is None:
            raise ResourceNotFoundException(f"Query definition {identity} does not exist.")
        return json.dumps({"success": True})

    for handler in (put_query_definition, describe_query_definitions, delete_query_definition):
        monkeypatch.setattr(LogsResponse, handler.__name__, handler, raising=False)
    return stored


@pytest.fixture
def aws(monkeypatch, msk_emulator, query_definitions) -> boto3.Session:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.chdir(ROOT)
    session = boto3.Session(region_name=REGION)
    create_app_resources(ResolvedTemplate(ROOT / "template.yaml"), session)
    return session


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
