"""The SAM template read, and resolved by hand with its defaults where no stack is deployed.

The local tools that run functions (`invoke`, `esm`, `local-aws`, the demo) read the deployed
stack instead (`msk_autopilot_local.stack`). What stays here is what a deploy cannot give:
reading template.yaml (its YAML with CloudFormation's short tags) and finding it, and the
settings the planning commands (`plan-storage`, `plan-upgrades`) take from the template's
defaults, since they run against an account before, or without, the stack deployed in it (and
the template tests, which resolve policies under many parameter values without deploying).
"""

from __future__ import annotations

import copy
import functools
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from msk_autopilot_local.errors import LocalToolError

__all__ = [
    "LOCAL_ACCOUNT",
    "ResolvedTemplate",
    "StackError",
    "find_template",
    "function_in_template",
    "load_template",
    "template_functions",
]

LOCAL_ACCOUNT = "123456789012"  # moto's default account


class StackError(LocalToolError, ValueError):
    """The template or a name in it cannot be resolved."""


class _TemplateLoader(yaml.CSafeLoader):
    """YAML loader that turns CloudFormation short tags (!Ref, !Sub...) into their long form.

    libyaml's parser: the pure-Python one took half a second per read of template.yaml, and
    every local invocation resolves the template."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    """The template as a fresh dict (callers may change theirs), parsed once per file version."""
    return copy.deepcopy(_shared_parse(path))


def _shared_parse(path: Path) -> dict[str, Any]:
    """The parse of this file version every caller shares: read it, never change it."""
    try:
        stat = path.stat()
    except OSError as error:
        raise StackError(f"cannot read template {path}: {error.strerror}") from None
    return _parsed(path.resolve(), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    del mtime_ns, size  # only the cache key: a changed file is parsed again
    try:
        with path.open(encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=_TemplateLoader)  # noqa: S506  safe loader subclass
    except OSError as error:
        raise StackError(f"cannot read template {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise StackError(f"template {path} is not valid YAML: {error}") from None
    if not isinstance(document, dict) or "Resources" not in document:
        raise StackError(f"{path} is not a CloudFormation/SAM template (no Resources)")
    return document


def find_template(start: Path | None = None) -> Path:
    """template.yaml in `start` (default: the working directory) or the nearest parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "template.yaml"
        if candidate.is_file():
            return candidate
    raise StackError(f"no template.yaml in {here} or any parent folder; pass --template")


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def template_functions(template_path: Path) -> dict[str, str]:
    """Function folder name (functions/<folder>) -> logical ID, for every function of the
    template, deployed or not."""
    return {
        Path(str(resource["Properties"]["CodeUri"]).rstrip("/")).name: logical_id
        for logical_id, resource in _shared_parse(template_path)["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def function_in_template(template_path: Path, name: str) -> str:
    """The logical ID of the template's function `name`, a folder name (storage_scaler) or a
    logical ID (StorageScalerFunction): a typo is reported from the template, before any AWS
    call."""
    functions = template_functions(template_path)
    if name in functions:
        return functions[name]
    if name in functions.values():
        return name
    known = ", ".join(f"{folder} ({logical})" for folder, logical in sorted(functions.items()))
    raise StackError(f"unknown function {name!r}; known: {known}")


@dataclass
class ResolvedTemplate:
    """A template resolved for this machine: Region, account and stack name are local."""

    template_path: Path
    region: str = "us-east-1"
    account: str = LOCAL_ACCOUNT
    stack_name: str = "msk-autopilot"
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    template: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.template = load_template(self.template_path)
        unknown = set(self.parameter_overrides) - set(self.template.get("Parameters", {}))
        if unknown:
            raise StackError(f"unknown template parameters: {', '.join(sorted(unknown))}")

    @property
    def root(self) -> Path:
        return self.template_path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        return resources

    # --- functions ------------------------------------------------------------------------

    def functions(self) -> dict[str, str]:
        """Function folder name (functions/<folder>) -> logical ID, for the functions whose
        condition holds."""
        return {
            folder: logical_id
            for folder, logical_id in template_functions(self.template_path).items()
            if logical_id in self.resources
        }

    def function_code_dir(self, logical_id: str) -> Path:
        return self.root / str(self.resources[logical_id]["Properties"]["CodeUri"])

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """Globals' variables overridden by the function's own, resolved for this machine."""
        globals_env = (
            self.template.get("Globals", {})
            .get("Function", {})
            .get("Environment", {})
            .get("Variables", {})
        )
        own_env = (
            self.resources[logical_id]["Properties"].get("Environment", {}).get("Variables", {})
        )
        merged = {**globals_env, **own_env}
        return {name: str(self.resolve(value)) for name, value in merged.items()}

    # --- names --------------------------------------------------------------------------------

    def parameter(self, name: str) -> str:
        if name in self.parameter_overrides:
            return self.parameter_overrides[name]
        spec = self.template.get("Parameters", {}).get(name)
        if spec is None:
            raise StackError(f"unknown parameter {name!r}")
        if "Default" not in spec:
            raise StackError(f"parameter {name!r} has no default; pass a value for it")
        return str(spec["Default"])

    def physical_name(self, logical_id: str) -> str:
        """The name a resource gets: its explicit name property, else stack-logical-id."""
        resource = self.resources.get(logical_id)
        if resource is None:
            raise StackError(f"unknown resource {logical_id!r}")
        name_property = {
            "AWS::SNS::Topic": "TopicName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::DynamoDB::Table": "TableName",
            "AWS::S3::Bucket": "BucketName",
            "AWS::Serverless::Function": "FunctionName",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::Serverless::LayerVersion": "LayerName",
            "AWS::CloudWatch::Dashboard": "DashboardName",
        }.get(resource["Type"])
        explicit = resource.get("Properties", {}).get(name_property) if name_property else None
        if explicit is not None:
            return str(self.resolve(explicit))
        return f"{self.stack_name}-{_kebab(logical_id)}"

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        resource = self.resources.get(name)
        if resource is None:
            raise StackError(f"!Ref to unknown name {name!r}")
        kind = resource["Type"]
        physical = self.physical_name(name)
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{self.region}:{self.account}:{physical}"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{physical}"
        if kind == "AWS::KMS::Key":
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.stack_name}/{name}"))
        return physical

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource = self.resources.get(logical_id)
        if resource is None:
            raise StackError(f"!GetAtt of unknown resource {logical_id!r}")
        physical = self.physical_name(logical_id)
        service = {
            "AWS::SQS::Queue": "sqs",
            "AWS::SNS::Topic": "sns",
            "AWS::DynamoDB::Table": "dynamodb",
            "AWS::KMS::Key": "kms",
        }.get(resource["Type"])
        if attribute in {"QueueName", "TopicName"}:
            return physical
        if attribute == "Arn":
            if resource["Type"] == "AWS::S3::Bucket":
                return f"arn:aws:s3:::{physical}"
            if resource["Type"] == "AWS::DynamoDB::Table":
                return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{physical}"
            if resource["Type"] == "AWS::KMS::Key":
                return f"arn:aws:kms:{self.region}:{self.account}:key/{self.ref(logical_id)}"
            if resource["Type"] == "AWS::Serverless::Function":
                return f"arn:aws:lambda:{self.region}:{self.account}:function:{physical}"
            if service is not None:
                return f"arn:aws:{service}:{self.region}:{self.account}:{physical}"
        raise StackError(f"!GetAtt {logical_id}.{attribute} is not known locally")

    # --- intrinsic functions ---------------------------------------------------------------------

    def condition(self, name: str) -> bool:
        spec = self.template.get("Conditions", {}).get(name)
        if spec is None:
            raise StackError(f"unknown condition {name!r}")
        return bool(self.resolve(spec))

    def resolve(self, value: Any) -> Any:  # noqa: PLR0911, PLR0912  one branch per intrinsic
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self.resolve(item) for key, item in value.items()}
        ((function, argument),) = value.items()
        match function:
            case "Ref":
                return self.ref(argument)
            case "Fn::GetAtt":
                return self.get_att(argument[0], argument[1])
            case "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._substitute(text, {k: self.resolve(v) for k, v in variables.items()})
            case "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            case "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            case "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.condition(name) else when_false)
            case "Fn::Equals":
                left, right = self.resolve(argument)
                return str(left) == str(right)
            case "Fn::Not":
                return not self.resolve(argument[0])
            case "Fn::And":
                return all(self.resolve(item) for item in argument)
            case "Fn::Or":
                return any(self.resolve(item) for item in argument)
            case "Condition":
                return self.condition(argument)
            case _:
                return {function: self.resolve(argument)}

    def _substitute(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}!][^}]*)\}", replace, text)
