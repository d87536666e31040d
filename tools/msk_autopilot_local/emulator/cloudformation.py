"""moto's CloudFormation, completed for the transformed template of this project.

``install_cloudformation()`` registers the resource types moto has no model for
(``cfn_resources``) and corrects what moto's CloudFormation and the models it has get wrong
for this template, each as CloudFormation does it:

* Template reading: a list item that resolves to AWS::NoValue is dropped (moto keeps a null);
  a JSON-string policy document (``!Sub`` of JSON text) is the document it spells; a resource
  type without a model fails the stack (moto skips it with a warning); an update that only
  changes a parameter updates the resources reading it through ``!Sub`` as well as ``Ref``.
* Stack resources: one whose condition is false is not listed (moto lists an empty entry).
* Lambda: a function gets every property moto keeps (moto's model passes seven, dropping
  Layers, Architectures and TracingConfig) with environment values as strings; a layer
  version's Ref is its ARN and it is deleted with the stack; an event source mapping on an
  Amazon MSK cluster is accepted (one topic, a StartingPosition, BatchSize 1 to 10,000).
* IAM: a managed policy is updated in place (a new default version); a role's
  ManagedPolicyArns are attached (AWS-managed ones loaded from moto's copy) and detached
  before the role is deleted; inline policies are stored as JSON text; a managed
  policy is deleted with the stack, once nothing is attached to it.
* KMS: a key policy is stored as JSON text.

What is still not done: LoggingConfig of a function (moto's Lambda has no such setting).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import (
    EventSourceMapping,
    LambdaBackend,
    LambdaFunction,
    LayerVersion,
    lambda_backends,
)
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Stack
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.exceptions import DeleteConflictException
from moto.iam.models import (
    AWSManagedPolicy,
    IAMBackend,
    ManagedPolicy,
    Role,
    iam_backends,
)
from moto.utilities.utils import get_partition

from .cfn_resources import MODELS

__all__ = ["install_cloudformation"]

# Properties CloudFormation types as Json: a JSON string there is the document it spells.
_JSON_PROPERTIES = {
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::Role": ("AssumeRolePolicyDocument",),
}


class MskEventSourceMapping(EventSourceMapping):
    """An event source mapping on an Amazon MSK cluster, which moto's own refuses."""

    @property
    def event_source_arn(self) -> str:
        return self._event_source_arn

    @event_source_arn.setter
    def event_source_arn(self, event_source_arn: str) -> None:
        self._event_source_arn = event_source_arn

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, new_batch_size: int | None) -> None:
        # Amazon MSK: 1 to 10,000 records, default 100.
        if new_batch_size is not None and not 1 <= int(new_batch_size) <= 10_000:
            raise InvalidParameterValueException(
                f"BatchSize {new_batch_size} is outside 1 to 10000 for Amazon MSK",
            )
        self._batch_size = 100 if new_batch_size is None else int(new_batch_size)


_STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")


def _create_msk_event_source_mapping(
    backend: LambdaBackend, spec: dict[str, Any]
) -> EventSourceMapping:
    """CreateEventSourceMapping for an MSK cluster: the checks Lambda makes at once (one topic,
    a starting position); the cluster itself is reached only when the mapping polls."""
    topics = spec.get("Topics") or []
    if len(topics) != 1:
        raise InvalidParameterValueException("Topics must name exactly one topic for Amazon MSK")
    if spec.get("StartingPosition") not in _STARTING_POSITIONS:
        raise InvalidParameterValueException(
            "StartingPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP for Amazon MSK",
        )
    function = backend._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
    spec = {
        **spec,
        "RegionName": backend.region_name,
        "AccountId": backend.account_id,
        "FunctionArn": function.function_arn,
    }
    mapping = MskEventSourceMapping(spec)  # type: ignore[abstract]  # moto leaves these abstract
    backend._event_source_mappings[mapping.uuid] = mapping
    return mapping


def install_cloudformation() -> None:
    """Register ``cfn_resources``' models and correct moto (see the module's docstring).
    Idempotent."""
    if getattr(parsing.parse_resource, "_msk_autopilot", False):
        return
    for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cache.cache_clear()  # the model map is built once from CloudFormationModel's subclasses
    for model in MODELS:  # defined after moto's, ours win where both name a type
        if parsing.get_model_map()[model.cloudformation_type()] is not model:
            raise RuntimeError(f"moto's model for {model.cloudformation_type()} shadows ours")
    original_create = LambdaBackend.create_event_source_mapping

    def create_event_source_mapping(
        self: LambdaBackend, spec: dict[str, Any]
    ) -> EventSourceMapping:
        if str(spec.get("EventSourceArn", "")).split(":")[2:3] == ["kafka"]:
            return _create_msk_event_source_mapping(self, spec)
        return original_create(self, spec)

    LambdaBackend.create_event_source_mapping = create_event_source_mapping  # type: ignore[method-assign]
    LambdaFunction.create_from_cloudformation_json = classmethod(_create_function)  # type: ignore[method-assign,assignment]
    Role.create_from_cloudformation_json = _role_with_managed_policies(  # type: ignore[method-assign]
        Role.create_from_cloudformation_json
    )
    Role.delete_from_cloudformation_json = _role_detached_first(  # type: ignore[method-assign]
        Role.delete_from_cloudformation_json
    )
    LayerVersion.delete = _delete_layer_version  # type: ignore[attr-defined]
    ManagedPolicy.update_from_cloudformation_json = classmethod(_update_managed_policy)  # type: ignore[method-assign,assignment]
    ManagedPolicy.delete = _delete_managed_policy  # type: ignore[attr-defined]
    # Ref of a layer version is its ARN (moto's has no physical id).
    LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]
    # A resource whose condition is false is not created, and not listed either.
    Stack.stack_resources = property(  # type: ignore[method-assign,assignment]
        lambda self: [each for each in self.resource_map.values() if each is not None]
    )
    Stack.parse_template = staticmethod(_json_first(Stack.parse_template))  # type: ignore[method-assign,assignment]
    parsing.parse_resource = _parse_resource(parsing.parse_resource)
    parsing.clean_json = _clean_json(parsing.clean_json)
    parsing.get_references_from_template = _references(parsing.get_references_from_template)


def _json_first(original: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """moto parses every template with the pure-Python YAML loader, about 3 s for the
    transformed template `deploy` sends (JSON, which is YAML too): JSON first, then moto's."""

    def parse_template(template: str) -> dict[str, Any]:
        try:
            parsed: dict[str, Any] = json.loads(template)
        except ValueError:
            return original(template)
        return parsed

    return parse_template


# Function properties moto's model drops, by their CreateFunction names.
_FUNCTION_PROPERTIES = {
    "Architectures": "Architectures",
    "Layers": "Layers",
    "TracingConfig": "TracingConfig",
    "KmsKeyArn": "KMSKeyArn",
    "EphemeralStorage": "EphemeralStorage",
    "PackageType": "PackageType",
    "ImageConfig": "ImageConfig",
    "Description": "Description",
    "MemorySize": "MemorySize",
    "Timeout": "Timeout",
    "VpcConfig": "VpcConfig",
    "ReservedConcurrentExecutions": "ReservedConcurrentExecutions",
}


def _create_function(
    cls: type[LambdaFunction],
    /,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> LambdaFunction:
    """CreateFunction with every property moto's Lambda keeps (moto's own model passes seven
    of them), environment values as the strings Lambda stores."""
    properties = cloudformation_json["Properties"]
    variables = properties.get("Environment", {}).get("Variables", {})
    spec = {
        "Code": properties["Code"],
        "FunctionName": properties.get("FunctionName", resource_name),
        "Handler": properties.get("Handler"),
        "Role": properties["Role"],
        "Runtime": properties.get("Runtime"),
        "Environment": {"Variables": {name: str(value) for name, value in variables.items()}},
        "Tags": {tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])},
        **{
            api: properties[name]
            for name, api in _FUNCTION_PROPERTIES.items()
            if name in properties
        },
    }
    return lambda_backends[account_id][region_name].create_function(spec)


def _role_with_managed_policies(original: Any) -> Any:
    """moto's Role ignores ManagedPolicyArns; CloudFormation attaches each. An AWS-managed
    policy comes from moto's copy of them, loaded into the account when first attached."""

    def create(
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Role:
        role: Role = original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = iam_backends[account_id][get_partition(region_name)]
        for arn in cloudformation_json["Properties"].get("ManagedPolicyArns", []):
            if arn not in backend.managed_policies and ":iam::aws:policy/" in arn:
                _load_aws_managed_policy(backend, arn)
            backend.attach_role_policy(arn, role.name)
        return role

    return create


def _role_detached_first(original: Any) -> Any:
    """CloudFormation detaches a role's managed policies before deleting it; moto does not."""

    def delete(
        resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend = iam_backends[account_id][get_partition(region_name)]
        role = backend.get_role(resource_name)
        for arn in list(role.managed_policies):
            backend.detach_role_policy(arn, resource_name)
        original(resource_name, cloudformation_json, account_id, region_name)

    return delete


def _load_aws_managed_policy(backend: IAMBackend, arn: str) -> None:
    name = arn.rsplit("/", 1)[-1]
    data = json.loads(aws_managed_policies_data).get(name)
    if data is None:
        return  # attach_role_policy answers NoSuchEntity, as IAM would
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    backend.aws_managed_policies.append(policy)
    backend.managed_policies[policy.arn] = policy


def _delete_layer_version(self: LayerVersion, account_id: str, region_name: str) -> None:
    """moto never deletes a stack's layer versions or managed policies."""
    lambda_backends[account_id][region_name].delete_layer_version(self.name, str(self.version))


def _update_managed_policy(
    cls: type[ManagedPolicy],
    /,
    *,
    original_resource: ManagedPolicy,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> ManagedPolicy:
    """A changed document is a new default version of the same policy, the old one deleted, as
    CloudFormation updates a managed policy in place (moto drops it from the stack)."""
    backend = iam_backends[account_id][get_partition(region_name)]
    document = json.dumps(cloudformation_json["Properties"]["PolicyDocument"])
    previous = original_resource.default_version_id
    backend.create_policy_version(original_resource.arn, document, set_as_default=True)
    backend.delete_policy_version(original_resource.arn, previous)
    return original_resource


def _delete_managed_policy(self: ManagedPolicy, account_id: str, region_name: str) -> None:
    # IAM refuses to delete an attached policy; moto's stack deletion tries it again once the
    # roles are gone, as CloudFormation deletes dependents first.
    if self.attachment_count:
        raise DeleteConflictException("Cannot delete a policy attached to entities.")
    iam_backends[account_id][get_partition(region_name)].delete_policy(self.arn)


def _parse_resource(original: Any) -> Any:
    def parse_resource(resource_json: dict[str, Any], resources_map: parsing.ResourceMap) -> Any:
        parsed = original(resource_json, resources_map)
        if parsed is None:
            # moto would skip the resource with a warning; CloudFormation would fail the stack.
            raise ValidationError(
                message=f"Template format error: Unrecognized resource types: "
                f"[{resource_json['Type']}]"
            )
        resource_class, resolved, resource_type = parsed
        properties = resolved.get("Properties", {})
        for name in _JSON_PROPERTIES.get(resource_type, ()):
            if isinstance(properties.get(name), str):
                properties[name] = json.loads(properties[name])
        if resource_type == "AWS::KMS::Key" and isinstance(properties.get("KeyPolicy"), dict):
            # moto's KMS keeps a key policy as the JSON text PutKeyPolicy takes
            properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        for policy in properties.get("Policies", []) if resource_type == "AWS::IAM::Role" else []:
            # moto's Role keeps an inline policy as given, and answers GetRolePolicy with a
            # dict's repr; PutRolePolicy takes the JSON text
            if isinstance(policy.get("PolicyDocument"), dict):
                policy["PolicyDocument"] = json.dumps(policy["PolicyDocument"])
        return resource_class, resolved, resource_type

    parse_resource._msk_autopilot = True  # type: ignore[attr-defined]
    return parse_resource


def _clean_json(original: Any) -> Any:
    """moto keeps a list item that resolves to AWS::NoValue as null; CloudFormation drops it
    (a statement under ``!If [Condition, {...}, !Ref AWS::NoValue]``)."""

    def clean_json(resource_json: Any, resources_map: parsing.ResourceMap) -> Any:
        if isinstance(resource_json, list):
            resolved = (clean_json(each, resources_map) for each in resource_json)
            return [each for each in resolved if each is not None]
        return original(resource_json, resources_map)

    return clean_json


_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def _references(original: Any) -> Any:
    """moto updates, on a parameter change alone, the resources whose ``Ref`` reads it; the
    names a ``Fn::Sub`` reads count as well, as CloudFormation reads them."""

    def references(template: Any) -> list[str]:
        found: list[str] = original(template)
        for text in _sub_texts(template):
            found.extend(name.split(".")[0] for name in _SUB_VARIABLE.findall(text))
        return found

    return references


def _sub_texts(value: Any) -> Iterable[str]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key == "Fn::Sub":
                yield inner if isinstance(inner, str) else inner[0]
            yield from _sub_texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _sub_texts(inner)
