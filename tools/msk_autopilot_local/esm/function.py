"""The function the poller invokes: a template function (cold-started like `msk-autopilot invoke`),
a `module:function` or `file.py:function`, or a Python callable."""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from msk_autopilot_local.esm.config import DEFAULT_REGION, Handler, PollerConfig
from msk_autopilot_local.esm.errors import EsmError
from msk_autopilot_local.local_lambda import (
    InvokeError,
    LocalContext,
    environment,
    invoke_function,
    module_from_file,
)
from msk_autopilot_local.stack import DeployedStack
from msk_autopilot_local.template.resolve import (
    LOCAL_ACCOUNT,
    StackError,
    find_template,
    function_in_template,
)

__all__ = ["ColdStartError", "Function", "resolve_function"]


class ColdStartError(Exception):
    """The function could not be loaded or started (not: its handler failed)."""


@dataclass
class Function:
    name: str
    arn: str
    call: Callable[[dict[str, Any]], Any]


def _arn(name: str, region: str = DEFAULT_REGION, account: str = LOCAL_ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def _callable_function(handler: Handler, name: str, env: Mapping[str, str]) -> Function:
    arn = _arn(name)

    def call(event: dict[str, Any]) -> Any:
        context = LocalContext(function_name=name, invoked_function_arn=arn)
        with environment(env):
            return handler(event, context)

    return Function(name=name, arn=arn, call=call)


def _load_module(spec_text: str) -> ModuleType:
    if spec_text.endswith(".py") or "/" in spec_text:
        path = Path(spec_text).resolve()
        try:
            return module_from_file(path, f"_msk_autopilot_esm_{re.sub(r'\W', '_', path.stem)}")
        except InvokeError as error:
            raise EsmError(f"--function: {error}") from None
    return importlib.import_module(spec_text)


def resolve_function(config: PollerConfig) -> Function:
    target = config.function
    if callable(target):
        return _callable_function(target, config.function_name, config.env_vars)
    if ":" in target:
        module_text, _, attribute = target.rpartition(":")
        try:
            module = _load_module(module_text)
        except EsmError:
            raise
        except Exception as error:  # noqa: BLE001  any import failure is the user's to see
            raise EsmError(
                f"--function {target}: cannot import {module_text}: {type(error).__name__}: {error}"
            ) from None
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise EsmError(f"--function {target}: {module_text} has no function {attribute!r}")
        return _callable_function(handler, attribute, config.env_vars)
    try:
        template = config.template or find_template()
        function_in_template(template, target)
        stack = DeployedStack.from_environment(template)
        logical_id = stack.function_logical_id(target)
        code = stack.function_code_dir(logical_id) / "app.py"
        arn = str(stack.function_configuration(logical_id)["FunctionArn"])
    except StackError as error:
        raise EsmError(f"--function: {error}") from None
    if not code.is_file():
        raise EsmError(f"--function {target}: no handler module at {code}")
    env = dict(config.env_vars)

    def call(event: dict[str, Any]) -> Any:
        try:
            return invoke_function(target, event, env_overrides=env, stack=stack)
        except InvokeError as error:
            raise ColdStartError(str(error)) from None

    return Function(name=target, arn=arn, call=call)
