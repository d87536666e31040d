"""The deployed stack as the local tools see it: what `invoke`, `esm`, `local-aws` and the demo
run functions with.

Each function's environment and name are the deployed function's (GetFunctionConfiguration), the
other resources' names the stack's (DescribeStackResources, DescribeStacks' outputs): whatever
CloudFormation resolved, the local tools use. Only the code's folder comes from the template's
CodeUri, because the local tools run each handler from the working tree, not from the zip.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msk_autopilot_local.deploy import DEFAULT_STACK_NAME
from msk_autopilot_local.errors import unreachable_aws
from msk_autopilot_local.template.resolve import (
    StackError,
    function_in_template,
    load_template,
    template_functions,
)

__all__ = ["DeployedStack"]

_LOCAL_REGION = "us-east-1"  # local-aws's


@dataclass
class DeployedStack:
    """A stack deployed from `template_path`, as the account it lives in describes it."""

    template_path: Path
    stack_name: str
    region: str
    account: str
    physical_ids: Mapping[str, str]  # logical ID -> physical ID
    outputs: Mapping[str, str]
    _lambda: Any = field(repr=False)
    _configurations: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @classmethod
    def read(
        cls, clients: Any, template_path: Path, stack_name: str = DEFAULT_STACK_NAME
    ) -> DeployedStack:
        """The stack in the account `clients` (anything with `.client(service)`) talk to."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        cloudformation = clients.client("cloudformation")
        try:
            stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
            listed = cloudformation.describe_stack_resources(StackName=stack_name)
        except ClientError:
            raise StackError(
                f"stack {stack_name} is not deployed in the account AWS_ENDPOINT_URL points at: "
                "start `msk-autopilot local-aws` (which deploys it) or run `msk-autopilot deploy`"
            ) from None
        except BotoCoreError as error:
            raise StackError(
                f"cannot read stack {stack_name}: {unreachable_aws(error) or error}"
            ) from None
        (stack,) = stacks
        # arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>
        _, _, _, region, account, _ = stack["StackId"].split(":", 5)
        return cls(
            template_path=template_path,
            stack_name=stack_name,
            region=region,
            account=account,
            physical_ids={
                each["LogicalResourceId"]: each.get("PhysicalResourceId", "")
                for each in listed["StackResources"]
            },
            outputs={each["OutputKey"]: each["OutputValue"] for each in stack.get("Outputs", [])},
            _lambda=clients.client("lambda"),
        )

    @classmethod
    def from_environment(cls, template_path: Path) -> DeployedStack:
        """The stack in the account this process's environment points at (AWS_ENDPOINT_URL:
        `local-aws` deploys it there), in AWS_REGION or else local-aws's Region."""
        return cls.read(_EnvironmentClients(), template_path)

    @property
    def root(self) -> Path:
        return self.template_path.parent

    def functions(self) -> dict[str, str]:
        """Function folder name (functions/<folder>) -> logical ID, for the deployed functions."""
        return {
            folder: logical_id
            for folder, logical_id in template_functions(self.template_path).items()
            if logical_id in self.physical_ids  # its condition held
        }

    def function_logical_id(self, name: str) -> str:
        """Accepts a folder name (storage_scaler) or a logical ID (StorageScalerFunction)."""
        logical_id = function_in_template(self.template_path, name)
        if logical_id not in self.physical_ids:
            raise StackError(
                f"function {name!r} is not deployed in stack {self.stack_name}: its condition "
                "does not hold for the stack's parameters"
            )
        return logical_id

    def function_code_dir(self, logical_id: str) -> Path:
        code_uri = load_template(self.template_path)["Resources"][logical_id]["Properties"]
        return self.root / str(code_uri["CodeUri"])

    def physical_name(self, logical_id: str) -> str:
        try:
            return self.physical_ids[logical_id]
        except KeyError:
            raise StackError(f"stack {self.stack_name} has no resource {logical_id!r}") from None

    def function_configuration(self, logical_id: str) -> dict[str, Any]:
        """The deployed function's GetFunctionConfiguration, read once."""
        if logical_id not in self._configurations:
            self._configurations[logical_id] = self._lambda.get_function_configuration(
                FunctionName=self.physical_name(logical_id)
            )
        return self._configurations[logical_id]

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """The deployed function's environment variables (a fresh dict: callers add theirs)."""
        variables = self.function_configuration(logical_id).get("Environment", {})
        return dict(variables.get("Variables", {}))


class _EnvironmentClients:
    """Clients from boto3's default session, which keeps the service models it loaded: a new
    session per invocation would load them again (half a second). Endpoint and credentials
    still come from the environment when each client is made."""

    def client(self, service: str) -> Any:
        import boto3  # noqa: PLC0415  keeps `msk-autopilot --help` fast

        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        return boto3.client(service, region_name=region or _LOCAL_REGION)
