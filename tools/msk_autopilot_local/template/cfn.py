"""The SAM template as CloudFormation, offline: the transform, and each function's IAM policy.

`sam validate --lint` and cfn-lint check SAM resources against schemas only, so the checks that
matter (runtimes, timeouts, IAM) run on the transformed template. The transform needs no
credentials: code locations are replaced by S3 objects, as `sam package` would, and no managed
policy is looked up by name.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FunctionPolicy",
    "function_policies",
    "packaged",
    "policy_document",
    "possible_values",
    "read_sam_template",
    "transform_document",
    "transform_template",
]

# What AWS-managed policies that SAM attaches grant; they serve the Lambda service itself.
AWS_MANAGED_POLICY_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "AWSLambdaBasicExecutionRole": (
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
    "AWSXrayWriteOnlyAccess": (
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
    ),
    "AWSLambdaVPCAccessExecutionRole": (
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
    "AWSLambdaMSKExecutionRole": (
        "kafka:DescribeCluster",
        "kafka:DescribeClusterV2",
        "kafka:GetBootstrapBrokers",
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeVpcs",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
}


class _OfflinePolicyLoader:
    """The template names managed policies by ARN only, so nothing needs looking up."""

    def load(self) -> dict[str, str]:
        return {}


def packaged(template: Mapping[str, Any]) -> dict[str, Any]:
    """The template as `sam package` leaves it: code locations are S3 objects."""
    result: dict[str, Any] = json.loads(json.dumps(template))
    for logical_id, resource in result["Resources"].items():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = f"s3://msk-autopilot-artifacts/{logical_id}.zip"
    return result


def read_sam_template(template_path: Path) -> dict[str, Any]:
    """A SAM template (YAML with CloudFormation's short tags) as a document."""
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415  dev-only

    document: dict[str, Any] = yaml_parse(template_path.read_text(encoding="utf-8"))
    return document


def transform_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The SAM transform of a packaged template (code locations already S3 objects)."""
    from samtranslator.translator.transform import transform  # noqa: PLC0415  dev-only

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    transformed: dict[str, Any] = transform(
        dict(document), {}, _OfflinePolicyLoader(), passthrough_metadata=True
    )
    return transformed


def transform_template(template_path: Path) -> dict[str, Any]:
    return transform_document(packaged(read_sam_template(template_path)))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def possible_values(value: Any) -> list[Any]:
    """The values a template entry may take: each branch of an Fn::If (the stack may be
    deployed either way), nothing for AWS::NoValue, else the entry itself."""
    if isinstance(value, dict) and "Fn::If" in value:
        return [each for branch in value["Fn::If"][1:] for each in possible_values(branch)]
    if value == {"Ref": "AWS::NoValue"}:
        return []
    return [value]


def policy_document(document: Any, parameters: Mapping[str, str]) -> dict[str, Any]:
    """A policy document; a !Sub JSON string is substituted with parameter defaults (and its
    own variables, if any, with a placeholder)."""
    if isinstance(document, dict) and "Fn::Sub" in document:
        template = document["Fn::Sub"]
        text = template if isinstance(template, str) else template[0]

        def value(match: re.Match[str]) -> str:
            return parameters.get(match.group(1), "PLACEHOLDER")

        parsed: dict[str, Any] = json.loads(re.sub(r"\$\{([\w:]+)\}", value, text))
        return parsed
    result: dict[str, Any] = document
    return result


@dataclass(frozen=True)
class FunctionPolicy:
    """Everything a function's role allows: its statements and the AWS-managed grants."""

    function: str
    statements: tuple[dict[str, Any], ...]
    managed_actions: frozenset[str]

    def allowed_actions(self) -> Iterator[str]:
        for statement in self.statements:
            if statement.get("Effect") == "Allow":
                yield from _as_list(statement.get("Action", []))

    def allows(self, action: str) -> bool:
        if action in self.managed_actions:
            return True
        return any(
            fnmatch.fnmatchcase(action.lower(), pattern.lower())
            for pattern in self.allowed_actions()
        )


def function_policies(transformed: Mapping[str, Any]) -> dict[str, FunctionPolicy]:
    """Function logical ID -> what its execution role allows."""
    resources = transformed["Resources"]
    parameters = {
        name: str(spec.get("Default", "")) for name, spec in transformed["Parameters"].items()
    }
    policies: dict[str, FunctionPolicy] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        role = resources[resource["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        statements: list[dict[str, Any]] = []
        for policy in role.get("Policies", []):
            document = policy_document(policy["PolicyDocument"], parameters)
            for statement in _as_list(document["Statement"]):
                statements.extend(possible_values(statement))
        managed: set[str] = set()
        arns = [
            arn for listed in role.get("ManagedPolicyArns", []) for arn in possible_values(listed)
        ]
        for arn in arns:
            if isinstance(arn, dict) and "Ref" in arn:  # a managed policy of this template
                document = resources[arn["Ref"]]["Properties"]["PolicyDocument"]
                statements.extend(_as_list(policy_document(document, parameters)["Statement"]))
                continue
            name = str(arn.get("Fn::Sub", arn) if isinstance(arn, dict) else arn).split("/")[-1]
            managed.update(AWS_MANAGED_POLICY_ACTIONS.get(name, ()))
        policies[logical_id] = FunctionPolicy(logical_id, tuple(statements), frozenset(managed))
    return policies
