"""moto's CloudFormation, completed for the transformed template of this project.

moto creates a stack's resources through ``CloudFormationModel`` subclasses, one per resource
type; it has none for seven of the types SAM's transform emits here, and its Lambda refuses an
Amazon MSK event source mapping. ``install_cloudformation()`` adds what is missing, each resource
created in the service's own backend as CloudFormation's resource handler would create it (so
DescribeAlarms, GetQueueAttributes, GetBucketPolicy... show it), with the ``Ref`` and
``Fn::GetAtt`` values CloudFormation documents, and deleted with the stack:

* ``AWS::CloudWatch::Alarm``: PutMetricAlarm with every property (metric math ``Metrics``
  included); Ref the alarm name (``AlarmName`` or ``<stack>-<logical id>-<suffix>``), GetAtt Arn.
* ``AWS::Lambda::EventInvokeConfig``: PutFunctionEventInvokeConfig; Ref ``<function>|<qualifier>``
  (the resource's primary identifier).
* ``AWS::SQS::QueuePolicy``: each queue's ``Policy`` attribute; Ref/GetAtt Id a generated id.
* ``AWS::SNS::TopicPolicy``: each topic's ``Policy`` attribute; Ref/GetAtt Id a generated id.
* ``AWS::SNS::Subscription``: Subscribe (with its attributes); Ref the subscription ARN.
* ``AWS::S3::BucketPolicy``: PutBucketPolicy; Ref the bucket name.
* ``AWS::Lambda::EventSourceMapping`` on an MSK cluster: CreateEventSourceMapping accepts a
  ``kafka`` EventSourceArn (one topic, a StartingPosition, BatchSize 1 to 10,000, default 100).

Two of moto's template readings are corrected too: a policy document given as a JSON string
(``!Sub`` of a JSON text, which CloudFormation accepts for its Json-typed properties) is parsed
instead of being quoted again, and an update that only changes a parameter updates the
resources that read it through ``!Sub`` as well as through ``Ref``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException, UnknownFunctionException
from moto.awslambda.models import (
    EventSourceMapping,
    LambdaBackend,
    LambdaFunction,
    LayerVersion,
    lambda_backends,
)
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.cloudformation.models import Stack
from moto.cloudwatch.models import (
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.core.common_models import CloudFormationModel
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.exceptions import DeleteConflictException
from moto.iam.models import (
    AWSManagedPolicy,
    IAMBackend,
    ManagedPolicy,
    Role,
    iam_backends,
)
from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.utilities.utils import get_partition

__all__ = ["install_cloudformation"]

# Properties CloudFormation types as Json: a JSON string there is the document it spells.
_JSON_PROPERTIES = {
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::Role": ("AssumeRolePolicyDocument",),
}


class _StackResource:
    """What the models below share: created from the resolved properties under a physical id,
    updated in place (delete, then create under the same id), deleted with the stack. Each model
    names CloudFormationModel directly, since moto's model map lists its direct subclasses."""

    def __init__(self, physical_resource_id: str) -> None:
        self._physical_resource_id = physical_resource_id

    @property
    def physical_resource_id(self) -> str:
        return self._physical_resource_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create(
        cls, physical_id: str, properties: dict[str, Any], account_id: str, region_name: str
    ) -> _StackResource:
        """The resource, created in its service; `physical_id` is the name moto generated
        (``<stack>-<logical id>-<suffix>``) or the one kept by an update."""
        raise NotImplementedError

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _StackResource:
        return cls.create(resource_name, cloudformation_json["Properties"], account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> _StackResource:
        original_resource.delete(account_id, region_name)
        return cls.create(
            original_resource.physical_resource_id,
            cloudformation_json["Properties"],
            account_id,
            region_name,
        )

    def delete(self, account_id: str, region_name: str) -> None:
        raise NotImplementedError


class CloudWatchAlarm(_StackResource, CloudFormationModel):
    def __init__(self, name: str, account_id: str, region_name: str) -> None:
        super().__init__(name)
        partition = get_partition(region_name)
        self.arn = f"arn:{partition}:cloudwatch:{region_name}:{account_id}:alarm:{name}"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.arn
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create(
        cls, physical_id: str, properties: dict[str, Any], account_id: str, region_name: str
    ) -> CloudWatchAlarm:
        name = properties.get("AlarmName", physical_id)
        cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=name,
            namespace=properties.get("Namespace"),  # type: ignore[arg-type]
            metric_name=properties.get("MetricName"),  # type: ignore[arg-type]
            metric_data_queries=_metric_data_queries(properties.get("Metrics")),
            comparison_operator=properties["ComparisonOperator"],
            evaluation_periods=int(properties["EvaluationPeriods"]),
            datapoints_to_alarm=_optional_int(properties.get("DatapointsToAlarm")),
            period=_optional_int(properties.get("Period")),  # type: ignore[arg-type]
            threshold=_optional_float(properties.get("Threshold")),  # type: ignore[arg-type]
            statistic=properties.get("Statistic"),  # type: ignore[arg-type]
            extended_statistic=properties.get("ExtendedStatistic"),
            description=properties.get("AlarmDescription"),  # type: ignore[arg-type]
            dimensions=properties.get("Dimensions", []),
            alarm_actions=properties.get("AlarmActions", []),
            ok_actions=properties.get("OKActions", []),
            insufficient_data_actions=properties.get("InsufficientDataActions", []),
            unit=properties.get("Unit"),
            actions_enabled=_bool(properties.get("ActionsEnabled", True)),
            treat_missing_data=properties.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=properties.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=properties.get("ThresholdMetricId"),
            tags=properties.get("Tags", []),
        )
        return cls(name, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_resource_id])


def _metric_data_queries(metrics: list[dict[str, Any]] | None) -> list[MetricDataQuery] | None:
    """An alarm's ``Metrics`` as moto keeps them (its PutMetricAlarm handler builds the same)."""
    if not metrics:
        return None
    queries = []
    for metric in metrics:
        stat = metric.get("MetricStat")
        metric_stat = None
        if stat is not None:
            metric_stat = MetricStat(
                metric=Metric(
                    metric_name=stat["Metric"]["MetricName"],
                    namespace=stat["Metric"]["Namespace"],
                    dimensions=[
                        Dimension(name=each["Name"], value=each["Value"])
                        for each in stat["Metric"].get("Dimensions", [])
                    ],
                ),
                period=stat["Period"],
                stat=stat["Stat"],
                unit=stat.get("Unit"),
            )
        queries.append(
            MetricDataQuery(
                query_id=metric["Id"],
                label=metric.get("Label"),  # type: ignore[arg-type]
                period=metric.get("Period"),  # type: ignore[arg-type]
                return_data=metric.get("ReturnData"),  # type: ignore[arg-type]
                expression=metric.get("Expression"),
                metric_stat=metric_stat,
            )
        )
    return queries


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _bool(value: Any) -> bool:
    """A template Boolean: true, false, or their strings."""
    return str(value).lower() == "true"


class EventInvokeConfig(_StackResource, CloudFormationModel):
    def __init__(self, function_name: str, qualifier: str) -> None:
        super().__init__(f"{function_name}|{qualifier}")
        self.function_name = function_name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::EventInvokeConfig"

    @classmethod
    def create(
        cls, physical_id: str, properties: dict[str, Any], account_id: str, region_name: str
    ) -> EventInvokeConfig:
        config: dict[str, Any] = {
            key: properties[key]
            for key in ("DestinationConfig", "MaximumEventAgeInSeconds", "MaximumRetryAttempts")
            if key in properties
        }
        function_name = properties["FunctionName"]
        lambda_backends[account_id][region_name].put_function_event_invoke_config(
            function_name, config
        )
        return cls(function_name, properties["Qualifier"])

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            lambda_backends[account_id][region_name].delete_function_event_invoke_config(
                self.function_name
            )
        except UnknownFunctionException:
            return  # gone with its function


class QueuePolicy(_StackResource, CloudFormationModel):
    def __init__(self, physical_id: str, queue_names: list[str]) -> None:
        super().__init__(physical_id)
        self.queue_names = queue_names

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Id":
            return self.physical_resource_id
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create(
        cls, physical_id: str, properties: dict[str, Any], account_id: str, region_name: str
    ) -> QueuePolicy:
        # Ref of a queue is its URL, whose last segment is the name.
        names = [url.rstrip("/").rsplit("/", 1)[-1] for url in properties["Queues"]]
        policy = json.dumps(properties["PolicyDocument"])
        for name in names:
            sqs_backends[account_id][region_name].set_queue_attributes(name, {"Policy": policy})
        return cls(physical_id, names)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sqs_backends[account_id][region_name]
        for name in self.queue_names:
            if name in backend.queues:  # the queue may be gone already
                backend.set_queue_attributes(name, {"Policy": ""})


class TopicPolicy(_StackResource, CloudFormationModel):
    def __init__(self, physical_id: str, topic_arns: list[str], default_policies: list[str]):
        super().__init__(physical_id)
        self.topic_arns = topic_arns
        self.default_policies = default_policies

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::TopicPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Id":
            return self.physical_resource_id
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create(
        cls, physical_id: str, properties: dict[str, Any], account_id: str, region_name: str
    ) -> TopicPolicy:
        backend = sns_backends[account_id][region_name]
        arns = list(properties["Topics"])
        # Deleting the resource gives each topic back the policy it had before (SNS's default).
        defaults = [backend.get_topic(arn).policy for arn in arns]
        for arn in arns:
            backend.set_topic_attribute(arn, "policy", json.dumps(properties["PolicyDocument"]))
        return cls(physical_id, arns, defaults)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sns_backends[account_id][region_name]
        for arn, policy in zip(self.topic_arns, self.default_policies, strict=True):
            if arn in backend.topics:  # the topic may be gone already
                backend.set_topic_attribute(arn, "policy", policy)


class Subscription(_StackResource, CloudFormationModel):
    # The attributes a Subscription resource sets after Subscribe, and their API names.
    ATTRIBUTES = (
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "SubscriptionRoleArn",
    )

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    @classmethod
    def create(
        cls, physical_id: str, properties: dict[str, Any], account_id: str, region_name: str
    ) -> Subscription:
        backend = sns_backends[account_id][region_name]
        subscription = backend.subscribe(
            properties["TopicArn"], properties["Endpoint"], properties["Protocol"]
        )
        for name in cls.ATTRIBUTES:
            if name in properties:
                value = properties[name]
                text = value if isinstance(value, str) else json.dumps(value)
                if isinstance(value, bool):
                    text = str(value).lower()
                backend.set_subscription_attributes(subscription.arn, name, text)
        return cls(subscription.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        sns_backends[account_id][region_name].unsubscribe(self.physical_resource_id)


class BucketPolicy(_StackResource, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create(
        cls, physical_id: str, properties: dict[str, Any], account_id: str, region_name: str
    ) -> BucketPolicy:
        bucket = properties["Bucket"]
        policy = json.dumps(properties["PolicyDocument"]).encode()
        s3_backends[account_id][get_partition(region_name)].put_bucket_policy(bucket, policy)
        return cls(bucket)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = s3_backends[account_id][get_partition(region_name)]
        if self.physical_resource_id in backend.buckets:  # the bucket may be gone already
            backend.delete_bucket_policy(self.physical_resource_id)


class LambdaPermission(_StackResource, CloudFormationModel):
    """Replaces moto's, which has no physical id and is never deleted: the statement's id is
    the generated name, as CloudFormation's."""

    def __init__(self, statement_id: str, function_name: str) -> None:
        super().__init__(statement_id)
        self.function_name = function_name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Permission"

    @classmethod
    def create(
        cls, physical_id: str, properties: dict[str, Any], account_id: str, region_name: str
    ) -> LambdaPermission:
        function = lambda_backends[account_id][region_name].get_function(properties["FunctionName"])
        statement = json.dumps({**properties, "StatementId": physical_id})
        function.policy.add_statement(raw=statement)
        return cls(physical_id, properties["FunctionName"])

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            function = lambda_backends[account_id][region_name].get_function(self.function_name)
        except UnknownFunctionException:
            return  # gone with its function
        function.policy.del_statement(self.physical_resource_id)


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


_MODELS: tuple[type[CloudFormationModel], ...] = (
    CloudWatchAlarm,
    EventInvokeConfig,
    QueuePolicy,
    TopicPolicy,
    Subscription,
    BucketPolicy,
    LambdaPermission,
)


def install_cloudformation() -> None:
    """Register the models above with moto's CloudFormation, let moto's Lambda create MSK event
    source mappings, and correct moto's template reading (see the module's docstring).
    Idempotent."""
    if getattr(parsing.parse_resource, "_msk_autopilot", False):
        return
    for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cache.cache_clear()  # the model map is built once from CloudFormationModel's subclasses
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
    ManagedPolicy.delete = _delete_managed_policy  # type: ignore[attr-defined]
    # Ref of a layer version is its ARN (moto's has no physical id).
    LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]
    # A resource whose condition is false is not created, and not listed either.
    Stack.stack_resources = property(  # type: ignore[method-assign,assignment]
        lambda self: [each for each in self.resource_map.values() if each is not None]
    )
    parsing.parse_resource = _parse_resource(parsing.parse_resource)
    parsing.clean_json = _clean_json(parsing.clean_json)
    parsing.get_references_from_template = _references(parsing.get_references_from_template)


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
