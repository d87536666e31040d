"""A local AWS account with a faithful MSK, for functions and people (`msk-autopilot local-aws`).

Starts moto's server with the MSK emulator on 127.0.0.1, deploys the stack into it through
CloudFormation (`deploy.deploy_to_empty_account`: no sam build), seeds clusters from a fleet file,
prints `ready http://127.0.0.1:PORT` and serves until SIGINT/SIGTERM.

Point anything at it with AWS_ENDPOINT_URL=http://127.0.0.1:PORT (and any non-empty credentials).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msk_autopilot_local.documents import read_document
from msk_autopilot_local.errors import LocalToolError
from msk_autopilot_local.local_lambda import environment
from msk_autopilot_local.stack import DeployedStack

if TYPE_CHECKING:
    from msk_autopilot_local.emulator import EmulatorServer

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_TICK_SECONDS",
    "LocalAws",
    "local_aws",
    "pointed_at",
    "read_fleet",
]

DEFAULT_PORT = 5055
DEFAULT_REGION = "us-east-1"
# How often, in real seconds, the account publishes health metrics and evaluates alarms
# (every advance of the emulated clock does too).
DEFAULT_TICK_SECONDS = 10.0
_SEED_SERVICES = ("kafka", "kms", "secretsmanager", "cloudwatch")


@dataclass
class LocalAws:
    """A running local account: where it listens, the stack deployed in it, its clusters."""

    endpoint_url: str
    region: str
    template_path: Path
    parameters: Mapping[str, str] = field(default_factory=dict)
    clusters: dict[str, str] = field(default_factory=dict)
    _server: EmulatorServer | None = field(default=None, repr=False)
    _stack: DeployedStack | None = field(default=None, repr=False)
    _fleet: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def stack(self) -> DeployedStack:
        """The stack deployed in this account (read again after every `reset`)."""
        if self._stack is None:
            raise RuntimeError("only an account served by local_aws has a deployed stack")
        return self._stack

    @property
    def resources(self) -> Mapping[str, str]:
        """The stack's resources: logical ID -> physical ID."""
        return self.stack.physical_ids

    def client(self, service: str) -> Any:
        return _EndpointClients(self.endpoint_url, self.region).client(service)

    @property
    def environment(self) -> dict[str, str]:
        """What a process needs to talk to this account instead of AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def answered(self) -> tuple[int, float]:
        """Requests the account's server has answered since it started, and seconds spent
        answering them."""
        if self._server is None:
            raise RuntimeError("only an account served by local_aws keeps count")
        return self._server.answered()

    def reset(self) -> None:
        """Back to the account as `local_aws` started it: everything emptied, then the stack
        deployed and the fleet seeded again (with the same cluster ARNs)."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        from msk_autopilot_local.deploy import deploy_to_empty_account  # noqa: PLC0415
        from msk_autopilot_local.emulator import seed_fleet  # noqa: PLC0415

        if self._server is None:
            raise RuntimeError("only an account served by local_aws can be reset")
        self._server.reset()
        clients = _EndpointClients(self.endpoint_url, self.region)
        deployment = deploy_to_empty_account(
            self.template_path,
            clients,
            parameters=self.parameters,
        )
        self._stack = DeployedStack.read(clients, self.template_path, deployment.stack_name)
        self.clusters = {}
        if self._fleet:
            seed_clients = {name: clients.client(name) for name in _SEED_SERVICES}
            try:
                self.clusters = seed_fleet(seed_clients, self._fleet).clusters
            except ClientError as error:  # the emulator refused a request, as MSK would
                raise LocalToolError(f"the fleet cannot be seeded: {error}") from None


class _EndpointClients:
    """boto3 clients bound to the local endpoint, whatever the environment says."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        import boto3  # noqa: PLC0415  keeps `msk-autopilot --help` fast

        self._session = boto3.Session(
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106  the emulator accepts any credentials
            region_name=region,
        )
        self._endpoint_url = endpoint_url

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self._endpoint_url)


def read_fleet(path: Path) -> Mapping[str, Any]:
    fleet: Mapping[str, Any] = read_document(path, "fleet file", expect_object=True)
    return fleet


@contextlib.contextmanager
def local_aws(
    template_path: Path,
    *,
    parameters: Mapping[str, str] | None = None,
    region: str = DEFAULT_REGION,
    port: int = 0,
    fleet: Mapping[str, Any] | None = None,
    tick_seconds: float | None = DEFAULT_TICK_SECONDS,
) -> Iterator[LocalAws]:
    """Serve a local account with the stack of `template_path` deployed (under its default
    name, with `parameters` over the template's defaults) for the duration of the block.

    CloudWatch keeps going as it does in AWS: every `tick_seconds` and after every advance of
    the emulated clock, the health metrics due are published and the alarms evaluated, with
    their SNS actions and EventBridge events (the emulator's ``EmulatorTicker``). None leaves
    that to the caller (the demo, which plays time step by step).

    moto keeps its state per process, so the account starts empty and is emptied again on the
    way out: nothing leaks between two accounts served one after the other."""
    from msk_autopilot_local.emulator import EmulatorTicker, start_server  # noqa: PLC0415

    if port:
        _check_port_free(port)
    server = start_server(port=port)
    ticker = EmulatorTicker(tick_seconds) if tick_seconds is not None else None
    try:
        account = LocalAws(
            endpoint_url=server.endpoint_url,
            region=region,
            template_path=template_path,
            parameters=dict(parameters or {}),
            _server=server,
            _fleet=fleet,
        )
        account.reset()
        if ticker is not None:
            ticker.start()
        yield account
    finally:
        if ticker is not None:
            ticker.stop()
        server.reset()
        server.stop()


def _check_port_free(port: int) -> None:
    """The server binds in a background thread, where a taken port would go unnoticed."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def pointed_at(account: LocalAws) -> contextlib.AbstractContextManager[None]:
    """Point this process's AWS clients at `account` for the duration of the block."""
    return environment(account.environment)
