"""A local account for the broker scaler: the MSK emulator, the app's resources, a fleet, and
hourly broker load written straight into the emulated CloudWatch."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from msk_autopilot_local.emulator import seed_fleet
from msk_autopilot_local.local_lambda import invoke_function


@pytest.fixture
def fleet(aws) -> Callable[..., dict[str, str]]:
    def create(*clusters: dict[str, Any]) -> dict[str, str]:
        return seed_fleet(aws, {"clusters": list(clusters)}).clusters

    return create


@pytest.fixture
def hot(msk_emulator) -> Callable[..., None]:
    """Six busy hours: the policy's 2-of-3-hours rule holds."""

    def write(cluster_arn: str, **values: float) -> None:
        msk_emulator.set_broker_load(cluster_arn, since=timedelta(hours=6), **values)

    return write


@pytest.fixture
def quiet(msk_emulator) -> Callable[..., None]:
    """Fourteen days of low load: the default quiet period, every hour of it."""

    def write(cluster_arn: str, **values: float) -> None:
        load = {"cpu_user": 8.0, "cpu_system": 4.0, "bytes_in": 100_000.0, "bytes_out": 200_000.0}
        msk_emulator.set_broker_load(cluster_arn, since=timedelta(days=14), **{**load, **values})

    return write


@pytest.fixture
def invoke(aws) -> Callable[..., dict[str, Any]]:
    def run(event: dict[str, Any], **env: str) -> dict[str, Any]:
        result: dict[str, Any] = invoke_function("broker_scaler", event, env_overrides=env)
        return result

    return run
