"""A local account behind the fault proxy, for fault scenarios of any function.

`fault_world(template, plan, fleet=...)` serves a fresh `local_aws` account (moto + the MSK
emulator, the stack deployed, the fleet) and a `FaultProxy` in front of it. Setup and assertions go
straight to the account (`world.client`); the functions under test go through the proxy
(`world.invoke`, which also retries a raising handler the way Lambda retries an asynchronous
invocation). `world.emulator` records every MSK request the emulator itself answered, which is
the ground truth for "how many mutating calls reached MSK" (the proxy counts attempts, some of
which never arrived and some of which arrived but lost their answer).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import re
import threading
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.core.base_backend import BackendDict
from moto.core.model_instances import reset_model_data

from msk_autopilot_local.emulator import control
from msk_autopilot_local.emulator.responses import MskResponse
from msk_autopilot_local.faults import FaultPlan, FaultProxy, fault_proxy
from msk_autopilot_local.local_aws import LocalAws, local_aws
from msk_autopilot_local.local_lambda import invoke_function
from msk_autopilot_local.stack import DeployedStack

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
TAG = "msk-autopilot:managed"
# Lambda retries a failed asynchronous invocation twice (MaximumRetryAttempts default 2).
LAMBDA_ASYNC_RETRIES = 2
# MSK operations that change something (everything else only reads).
MUTATING = re.compile(
    r"^(Create|Update|Delete|Batch|Reboot|Put|Tag|Untag|Reject|Associate|Disassociate|Start|Stop)"
)


@dataclass(frozen=True)
class EmulatorCall:
    operation: str
    status: int

    @property
    def mutating(self) -> bool:
        return bool(MUTATING.match(self.operation))

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class EmulatorCalls:
    """Every MSK request the emulator answered, in order, with its HTTP status."""

    calls: list[EmulatorCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, operation: str, status: int) -> None:
        with self._lock:
            self.calls.append(EmulatorCall(operation, status))

    def count(self, operation: str = "*", *, accepted: bool | None = None) -> int:
        """Requests whose operation matches the pattern (and were accepted or refused)."""
        with self._lock:
            return sum(
                1
                for call in self.calls
                if fnmatch.fnmatchcase(call.operation, operation)
                and (accepted is None or call.accepted == accepted)
            )

    def mutating(self) -> list[EmulatorCall]:
        with self._lock:
            return [call for call in self.calls if call.mutating]

    def summary(self) -> dict[str, dict[str, int]]:
        """{operation: {"accepted": n, "refused": m}} of the mutating calls."""
        found: dict[str, dict[str, int]] = {}
        for call in self.mutating():
            counts = found.setdefault(call.operation, {"accepted": 0, "refused": 0})
            counts["accepted" if call.accepted else "refused"] += 1
        return found


@contextlib.contextmanager
def recording_emulator_calls() -> Iterator[EmulatorCalls]:
    """Record the MSK requests the (in-process) emulator answers while the block runs.

    Wraps `MskResponse.call_action`, the one place every MSK request of the emulator passes
    (in-process mocks and server mode alike); the original is restored on exit.
    """
    calls = EmulatorCalls()
    original = MskResponse.call_action

    def call_action(self: MskResponse) -> Any:
        response = original(self)
        calls.record(self._get_action() or "unknown", int(response[0]))
        return response

    MskResponse.call_action = call_action  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        MskResponse.call_action = original  # type: ignore[method-assign]


def fresh_moto() -> None:
    """Forget every moto resource and the emulator's clock, settings and faults (the servers
    share moto's process-wide state, so each world starts from nothing)."""
    BackendDict.reset()
    reset_model_data()
    control.reset()


@dataclass
class Invocation:
    """One event delivered to a function, with Lambda's asynchronous retries."""

    function: str
    event: Any
    result: Any = None
    errors: list[str] = field(default_factory=list)  # one traceback per raising attempt

    @property
    def attempts(self) -> int:
        return len(self.errors) + (0 if self.failed else 1)

    @property
    def failed(self) -> bool:
        """Every attempt raised: Lambda would send the event to the on-failure destination."""
        return len(self.errors) > LAMBDA_ASYNC_RETRIES

    @property
    def raised_then_succeeded(self) -> bool:
        return bool(self.errors) and not self.failed

    @property
    def status(self) -> str | None:
        return self.result.get("status") if isinstance(self.result, dict) else None


@dataclass
class FaultWorld:
    stack: DeployedStack  # what the functions run with
    account: LocalAws  # direct, never faulted: setup and assertions
    proxy: FaultProxy
    emulator: EmulatorCalls
    invocations: list[Invocation] = field(default_factory=list)

    @property
    def environment(self) -> dict[str, str]:
        """What a process needs to reach the account through the proxy."""
        return {**self.account.environment, "AWS_ENDPOINT_URL": self.proxy.endpoint_url}

    def client(self, service: str) -> Any:
        """A client straight to the account (no faults)."""
        return self.account.client(service)

    def invoke(
        self, function: str, event: Any, *, env: Mapping[str, str] | None = None
    ) -> Invocation:
        """Cold-start `function` on `event` through the proxy; a raising handler is invoked
        again with the same event, up to Lambda's two retries of an asynchronous invocation."""
        invocation = Invocation(function, event)
        overrides = {**self.environment, **(env or {})}
        for _ in range(1 + LAMBDA_ASYNC_RETRIES):
            try:
                invocation.result = invoke_function(
                    function, event, env_overrides=overrides, stack=self.stack
                )
            except Exception:
                invocation.errors.append(traceback.format_exc())
                continue
            break
        self.invocations.append(invocation)
        return invocation

    def raised_then_succeeded(self) -> list[Invocation]:
        return [i for i in self.invocations if i.raised_then_succeeded]

    def failed(self) -> list[Invocation]:
        return [i for i in self.invocations if i.failed]


def _healthy_to_the_gates(account: LocalAws) -> None:
    """Every provisioned cluster publishes healthy metrics, as MSK would, on the emulator's clock
    (the gates hold a rolling change when they cannot tell); set before the faults, so setup
    meets none."""
    for cluster in account.client("kafka").list_clusters_v2()["ClusterInfoList"]:
        if "Provisioned" in cluster:
            control.set_cluster_health(cluster["ClusterArn"])


@contextlib.contextmanager
def fault_world(
    template: Path,
    plan: FaultPlan | None = None,
    *,
    fleet: Mapping[str, Any] | None = None,
) -> Iterator[FaultWorld]:
    """A fresh local account with the stack of `template` deployed and `fleet`, behind a fault
    proxy with `plan` (None: no faults).

    The emulator records MSK calls from after the fleet is seeded, so only the functions' (and
    the test's) calls count.
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's access log
    fresh_moto()
    try:
        with (
            # Time moves only when a test moves it: no real-time ticker racing the scenario.
            local_aws(template, fleet=fleet, tick_seconds=None) as account,
            recording_emulator_calls() as calls,
            fault_proxy(account.endpoint_url, plan) as proxy,
        ):
            # A frozen clock: retries that take real seconds leave every timestamp unchanged.
            control.clock.freeze()
            _healthy_to_the_gates(account)
            yield FaultWorld(account.stack, account, proxy, calls)
    finally:
        fresh_moto()  # leave nothing behind for the next test (or suite) in this process


def run_summary(
    label: str, proxy: Mapping[str, Any], invocations: Sequence[Invocation], **extra: Any
) -> str:
    """One JSON line per scenario run for the test log: traffic, faults, Lambda retries."""
    return json.dumps(
        {
            "run": label,
            "requests": proxy["requests"],
            "faults": proxy["faultsByKind"],
            "invocations": len(invocations),
            "raisedThenSucceeded": sum(1 for i in invocations if i.raised_then_succeeded),
            "failedAfterLambdaRetries": sum(1 for i in invocations if i.failed),
            **extra,
        }
    )
