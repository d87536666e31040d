"""Running a function's handler in this process, as Lambda would: what `invoke`, `esm`,
`local-aws` and the demo share.

For people without Docker (which `sam local invoke` needs). The environment and name are the
deployed function's (see `stack.py`), overridden by an `--env-vars` file in `sam local invoke`'s
format: `{"Parameters": {...}}` applies to every function, `{"<LogicalId>": {...}}` to one.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from msk_autopilot import coldstart
from msk_autopilot.clock import OFFSET_VARIABLE
from msk_autopilot_local.documents import read_document
from msk_autopilot_local.errors import LocalToolError
from msk_autopilot_local.stack import DeployedStack
from msk_autopilot_local.template.resolve import StackError, find_template

__all__ = [
    "InvokeError",
    "LocalContext",
    "emulated_now",
    "environment",
    "invoke_function",
    "load_handler_module",
    "module_from_file",
    "read_env_vars_file",
]


class InvokeError(LocalToolError, RuntimeError):
    """The function could not be set up or loaded (not: the handler failed)."""


@dataclass
class LocalContext:
    """The parts of Lambda's context object that handlers and powertools read."""

    function_name: str
    memory_limit_in_mb: int = 256
    timeout_seconds: int = 120
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def read_env_vars_file(path: Path, logical_id: str) -> dict[str, str]:
    document = read_document(path, "--env-vars file", expect_object=True)
    merged: dict[str, str] = {}
    for section in ("Parameters", logical_id):
        values = document.get(section, {})
        if not isinstance(values, dict):
            raise InvokeError(f"--env-vars section {section!r} must be an object")
        merged.update({str(key): str(value) for key, value in values.items()})
    return merged


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """These environment variables for the duration of the block, then the old environment."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def module_from_file(source: Path, name: str) -> ModuleType:
    """Import `source` afresh as module `name` (a handler file is not on any import path)."""
    if not source.is_file():
        raise InvokeError(f"no handler module at {source}")
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:
        raise InvokeError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a fresh cold start every time: settings are read at import
    spec.loader.exec_module(module)
    return module


def load_handler_module(code_dir: Path, logical_id: str) -> ModuleType:
    try:
        return module_from_file(code_dir / "app.py", f"_msk_autopilot_function_{logical_id}")
    except InvokeError as error:
        raise InvokeError(f"{logical_id}: {error}") from None
    except BaseException:
        coldstart.end()  # the handler paused garbage collection; this process goes on
        raise


def _share_botocore_models() -> None:
    """One botocore model loader for every session in this process. Each cold start builds a
    new client factory, hence new boto3 Sessions, and each Session's own loader would read the
    same service models from disk again (about 30 ms of every client created). Idempotent."""
    import botocore.loaders  # noqa: PLC0415
    import botocore.session  # noqa: PLC0415

    if not isinstance(botocore.session.create_loader, functools._lru_cache_wrapper):
        botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)


def invoke_function(
    function: str,
    event: Any,
    *,
    env_overrides: Mapping[str, str] | None = None,
    stack: DeployedStack | None = None,
) -> Any:
    """Cold-start `function` with its deployed environment and return its handler's result.

    Without `stack`, the stack deployed from the nearest template.yaml in the account the
    environment points at (AWS_ENDPOINT_URL). Errors in setting the function up (unknown name,
    no stack, bad settings) raise `InvokeError`; an exception raised by the handler propagates,
    as it would in Lambda.
    """
    _share_botocore_models()
    try:
        stack = stack or DeployedStack.from_environment(find_template())
        logical_id = stack.function_logical_id(function)
        configuration = stack.function_configuration(logical_id)
    except StackError as error:
        raise InvokeError(str(error)) from None
    function_environment = stack.function_environment(logical_id)
    function_name = configuration["FunctionName"]
    function_environment.update(
        {
            "AWS_REGION": stack.region,
            "AWS_DEFAULT_REGION": stack.region,
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration.get("MemorySize", 256)),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }
    )
    # The endpoint the function will talk to: its own setting, else the one it inherits.
    endpoint = function_environment.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    lead = _emulated_clock_lead(endpoint)
    if lead is not None:
        function_environment[OFFSET_VARIABLE] = f"{lead:.3f}"
    function_environment.update(env_overrides or {})
    context = LocalContext(
        function_name=function_name,
        memory_limit_in_mb=int(configuration.get("MemorySize", 256)),
        timeout_seconds=int(configuration.get("Timeout", 120)),
        invoked_function_arn=configuration["FunctionArn"],
        log_group_name=configuration.get("LoggingConfig", {}).get(
            "LogGroup", f"/aws/lambda/{function_name}"
        ),
    )
    with environment(function_environment):
        try:
            module = load_handler_module(stack.function_code_dir(logical_id), logical_id)
        except ValueError as error:  # SettingsError and friends: the cold start fails
            raise InvokeError(f"{logical_id} failed its cold start: {error}") from None
        return module.lambda_handler(event, context)


def emulated_now() -> datetime:
    """Now in the world the environment points at (AWS_ENDPOINT_URL): the emulator's clock
    when an emulator answers, else this machine's."""
    lead = _emulated_clock_lead(os.environ.get("AWS_ENDPOINT_URL"))
    return datetime.now(UTC) + timedelta(seconds=lead or 0)


def _emulated_clock_lead(endpoint: str | None) -> float | None:
    """Seconds the emulated AWS's clock runs ahead of this machine's, so the function acts on
    that world's time (`msk_autopilot.clock`); None when no emulator answers.

    With an endpoint, the emulator behind it says (`GET /_msk_emulator/clock`); without one, an
    emulator already running in this process does (one that is not loaded is not imported:
    moto is heavy, and without it there is no emulated clock to follow).
    """
    if endpoint:
        url = endpoint.rstrip("/") + "/_msk_emulator/clock"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310  http(s) only
                emulated = datetime.fromisoformat(json.load(answer)["now"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # not the emulator (real AWS, another endpoint): the system clock
        return (emulated - datetime.now(UTC)).total_seconds()
    state = sys.modules.get("msk_autopilot_local.emulator.state")
    if state is None:
        return None
    return float((state.emulator_state.clock.now() - datetime.now(UTC)).total_seconds())
