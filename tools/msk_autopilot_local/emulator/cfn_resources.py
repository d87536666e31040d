"""CloudFormation resource types moto has no model for, created in the services' own backends.

Each model is created from its resolved properties as CloudFormation's resource handler would
(so DescribeAlarms, GetQueueAttributes, GetBucketPolicy... show it), answers ``Ref`` and
``Fn::GetAtt`` as CloudFormation documents, is updated in place and deleted with its stack:

* ``AWS::CloudWatch::Alarm``: PutMetricAlarm with every property (metric math ``Metrics``
  included); Ref the alarm name (``AlarmName`` or ``<stack>-<logical id>-<suffix>``), GetAtt Arn.
* ``AWS::Lambda::EventInvokeConfig``: PutFunctionEventInvokeConfig; Ref ``<function>|<qualifier>``
  (the resource's primary identifier).
* ``AWS::SQS::QueuePolicy``: each queue's ``Policy`` attribute; Ref/GetAtt Id a generated id.
* ``AWS::SNS::TopicPolicy``: each topic's ``Policy`` attribute (SNS's default policy back on
  deletion); Ref/GetAtt Id a generated id.
* ``AWS::SNS::Subscription``: Subscribe, then its attributes; Ref the subscription ARN.
* ``AWS::S3::BucketPolicy``: PutBucketPolicy; Ref the bucket name.
* ``AWS::Lambda::Permission`` (replacing moto's, which has no physical id and is never deleted):
  a statement of the function's policy whose Sid is the generated name.

``install_cloudformation`` (``cloudformation``) registers them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import lambda_backends
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudwatch.models import (
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.core.common_models import CloudFormationModel
from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.utilities.utils import get_partition

__all__ = ["MODELS"]


class _StackResource:
    """What the models below share: created from the resolved properties under a physical id,
    updated in place (delete, then create under the same id), deleted with the stack. Each model
    names CloudFormationModel directly, since moto's model map lists its direct subclasses."""

    CFN_TYPE: ClassVar[str]
    # Each Fn::GetAtt attribute the type documents, and the model's attribute holding its value.
    CFN_ATTRIBUTES: ClassVar[Mapping[str, str]] = {}

    def __init__(self, physical_resource_id: str) -> None:
        self._physical_resource_id = physical_resource_id

    @property
    def physical_resource_id(self) -> str:
        return self._physical_resource_id

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.CFN_ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name not in self.CFN_ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        value: str = getattr(self, self.CFN_ATTRIBUTES[attribute_name])
        return value

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
    CFN_TYPE = "AWS::CloudWatch::Alarm"
    CFN_ATTRIBUTES: ClassVar[Mapping[str, str]] = {"Arn": "arn"}

    def __init__(self, name: str, account_id: str, region_name: str) -> None:
        super().__init__(name)
        partition = get_partition(region_name)
        self.arn = f"arn:{partition}:cloudwatch:{region_name}:{account_id}:alarm:{name}"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

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
    CFN_TYPE = "AWS::Lambda::EventInvokeConfig"

    def __init__(self, function_name: str, qualifier: str) -> None:
        super().__init__(f"{function_name}|{qualifier}")
        self.function_name = function_name

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
    CFN_TYPE = "AWS::SQS::QueuePolicy"
    CFN_ATTRIBUTES: ClassVar[Mapping[str, str]] = {"Id": "physical_resource_id"}

    def __init__(self, physical_id: str, queue_names: list[str]) -> None:
        super().__init__(physical_id)
        self.queue_names = queue_names

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
    CFN_TYPE = "AWS::SNS::TopicPolicy"
    CFN_ATTRIBUTES: ClassVar[Mapping[str, str]] = {"Id": "physical_resource_id"}

    def __init__(self, physical_id: str, topic_arns: list[str], default_policies: list[str]):
        super().__init__(physical_id)
        self.topic_arns = topic_arns
        self.default_policies = default_policies

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
    CFN_TYPE = "AWS::SNS::Subscription"

    # The attributes a Subscription resource sets after Subscribe, and their API names.
    ATTRIBUTES = (
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "SubscriptionRoleArn",
    )

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
    CFN_TYPE = "AWS::S3::BucketPolicy"

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

    CFN_TYPE = "AWS::Lambda::Permission"

    def __init__(self, statement_id: str, function_name: str) -> None:
        super().__init__(statement_id)
        self.function_name = function_name

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


MODELS: tuple[type[CloudFormationModel], ...] = (
    CloudWatchAlarm,
    EventInvokeConfig,
    QueuePolicy,
    TopicPolicy,
    Subscription,
    BucketPolicy,
    LambdaPermission,
)
