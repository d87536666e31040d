"""Fixtures for fault scenarios: local accounts behind the fault proxy.

``template``
    The project's template, which every world deploys (``local_aws``).
``open_world``
    A factory: ``open_world(plan=None, fleet=None)`` serves a fresh account (see
    ``fault_world.fault_world``) behind a fault proxy and returns the ``FaultWorld``; every world
    opened is stopped at teardown. A test may open several in turn (a clean run, then a faulty
    one), not at once: they share moto's process-wide state.
``fault_plan`` / ``fault_fleet``
    What ``faulty_aws`` uses: 20 % mixed faults with seed 0, and no clusters. Override either by
    parametrizing it (``@pytest.mark.parametrize("fault_plan", [FaultPlan.mixed(0.1)])``) or by
    redefining the fixture in a module.
``faulty_aws``
    ``open_world(fault_plan, fault_fleet)``, for a test that needs one faulty account.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fault_world import ROOT, FaultWorld, fault_world

from msk_autopilot_local.faults import FaultPlan


@pytest.fixture(scope="session")
def template() -> Path:
    return ROOT / "template.yaml"


@pytest.fixture
def open_world(
    template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., FaultWorld]]:
    monkeypatch.chdir(ROOT)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    with ExitStack() as worlds:

        def open_(
            plan: FaultPlan | None = None, fleet: Mapping[str, Any] | None = None
        ) -> FaultWorld:
            worlds.close()  # one world at a time
            return worlds.enter_context(fault_world(template, plan, fleet=fleet))

        yield open_


@pytest.fixture
def fault_plan() -> FaultPlan:
    return FaultPlan.mixed(0.2, seed=0)


@pytest.fixture
def fault_fleet() -> Mapping[str, Any] | None:
    return None


@pytest.fixture
def faulty_aws(
    open_world: Callable[..., FaultWorld],
    fault_plan: FaultPlan,
    fault_fleet: Mapping[str, Any] | None,
) -> FaultWorld:
    return open_world(fault_plan, fault_fleet)
