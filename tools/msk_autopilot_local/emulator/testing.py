"""pytest plugin for suites that test against the MSK emulator.

Enable it with ``pytest_plugins = ["msk_autopilot_local.emulator.testing"]`` in the root
``conftest.py``, or from a deeper conftest with::

    def pytest_configure(config):
        config.pluginmanager.import_plugin("msk_autopilot_local.emulator.testing")

``msk_emulator``
    In-process: a ``moto.mock_aws()`` context with the emulator installed and a fresh emulator
    state; yields the control object (``.clock.advance(seconds)``, ``.configure(...)``,
    ``.fail_next_operation(error_code=..., error_string=...)``, ``.complete_operations()``).
    Create clients inside the test (``boto3.client("kafka", region_name=...)``).
``msk_emulator_server``
    One emulator server for the whole session (``.endpoint_url``), started on a free port.
``msk_emulator_http``
    The session server with a fresh emulator state for this test (MSK resources, clock,
    settings, faults); yields the server. Control it over HTTP or through ``control``: the server
    runs in this process.

The server shares moto's state with the process, so a test should not use ``msk_emulator``
(whose ``mock_aws`` resets every moto backend on entry) and the server at the same time.
"""

from collections.abc import Iterator

import pytest
from moto import mock_aws

from .control import EmulatorControl, control, install
from .server import EmulatorServer, start_server


@pytest.fixture
def msk_emulator() -> Iterator[EmulatorControl]:
    with mock_aws():
        install()
        control.reset()
        try:
            yield control
        finally:
            control.reset()


@pytest.fixture(scope="session")
def msk_emulator_server() -> Iterator[EmulatorServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def msk_emulator_http(msk_emulator_server: EmulatorServer) -> Iterator[EmulatorServer]:
    control.reset()
    try:
        yield msk_emulator_server
    finally:
        control.reset()
