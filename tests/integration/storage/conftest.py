"""A local account for the storage scaler: the MSK emulator, the app's resources, one fleet."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from msk_autopilot_local.emulator import put_linear_series, seed_fleet
from msk_autopilot_local.local_lambda import invoke_function

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
TAG = "msk-autopilot:managed"


@pytest.fixture
def cluster_spec() -> Callable[..., dict[str, Any]]:
    """A fleet-seed entry for a three-broker cluster, opted in unless told otherwise."""

    def spec(name: str, *, opted_in: bool = True, volume: int = 1000) -> dict[str, Any]:
        return {
            "name": name,
            "brokers": 3,
            "volumeSizeGiB": volume,
            "subnets": ["subnet-a", "subnet-b", "subnet-c"],
            "tags": {TAG: "true"} if opted_in else {},
        }

    return spec


@pytest.fixture
def fleet(aws):
    def create(*clusters: dict) -> dict[str, str]:
        return seed_fleet(aws, {"clusters": list(clusters)}).clusters

    return create


@pytest.fixture
def disk(aws, msk_emulator):
    """Writes a rising KafkaDataLogsDiskUsed series ending at the emulator's now."""

    def rising(cluster_name: str, start: float, end: float, hours: float = 6.0) -> None:
        now = msk_emulator.clock.now()
        put_linear_series(
            aws.client("cloudwatch"),
            cluster_name,
            broker_ids=[1, 2, 3],
            start=now - timedelta(hours=hours),
            end=now,
            start_value=start,
            end_value=end,
            period_seconds=300,
        )

    return rising


@pytest.fixture
def invoke(aws):
    def run(event: dict, **env: str) -> dict:
        return invoke_function("storage_scaler", event, env_overrides=env)

    return run
