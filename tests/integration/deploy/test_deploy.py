"""`msk-autopilot deploy` into local AWS: the transformed template against what was deployed.

One deployment (sam build --cached, packaged into local S3, CreateStack over HTTP) is shared by
the comparisons; each compares the template's resources, their references resolved against the
deployed stack, with the service's own view (GetFunctionConfiguration, GetRolePolicy,
ListTargetsByRule, DescribeAlarms...). The update and delete tests come last: they change the
shared stack.
"""

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from moto import settings as moto_settings
from moto.iam.access_control import IAMPolicy, PermissionResult

from msk_autopilot_local.cli import main
from msk_autopilot_local.deploy import ARTIFACTS_BUCKET, DeployError, Deployment, deploy
from msk_autopilot_local.emulator import EmulatorServer, seed_fleet

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "msk-autopilot"
CLUSTER_ARN = (
    f"arn:aws:kafka:{REGION}:{ACCOUNT}:cluster/records/5a6b7c8d-1111-2222-3333-444455556666-1"
)
PARAMETERS = {"NotificationEmail": "ops@example.com", "RecordsClusterArn": CLUSTER_ARN}


@dataclass
class Deployed:
    deployment: Deployment
    session: boto3.Session
    endpoint_url: str

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)

    @property
    def template(self) -> dict[str, Any]:
        return dict(self.deployment.transformed)

    def physical_ids(self) -> dict[str, str]:
        return {each.logical_id: each.physical_id for each in self.deployment.resources}

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The template's resources of a type that the stack created (their condition holds)."""
        created = self.physical_ids()
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type and logical_id in created
        }


@pytest.fixture(scope="module")
def deployed(msk_emulator_server: EmulatorServer) -> Iterator[Deployed]:
    msk_emulator_server.reset()
    session = boto3.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name=REGION,
    )
    endpoint = msk_emulator_server.endpoint_url
    deployment = deploy(
        ROOT / "template.yaml",
        cloudformation=session.client("cloudformation", endpoint_url=endpoint),
        s3=session.client("s3", endpoint_url=endpoint),
        parameters=PARAMETERS,
    )
    try:
        yield Deployed(deployment, session, endpoint)
    finally:
        msk_emulator_server.reset()


class Resolver:
    """The template's intrinsic functions, resolved against the deployed stack: Ref by the
    stack's physical ids and parameters, Fn::GetAtt by each service's own answer."""

    def __init__(self, deployed: Deployed) -> None:
        self.deployed = deployed
        self.template = deployed.template
        self.ids = deployed.physical_ids()
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in self.template["Parameters"].items()
        } | PARAMETERS
        self.pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": STACK,
            "AWS::URLSuffix": "amazonaws.com",
        }

    def condition(self, name: str) -> bool:
        return bool(self._condition(self.template["Conditions"][name]))

    def _condition(self, expression: Any) -> Any:
        if isinstance(expression, dict):
            ((function, argument),) = expression.items()
            if function == "Condition":
                return self.condition(argument)
            if function == "Fn::Equals":
                return self.value(argument[0]) == self.value(argument[1])
            if function == "Fn::Not":
                return not self._condition(argument[0])
            if function == "Fn::And":
                return all(self._condition(each) for each in argument)
            if function == "Fn::Or":
                return any(self._condition(each) for each in argument)
        return self.value(expression)

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.ids[name]

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource_type = self.template["Resources"][logical_id]["Type"]
        physical = self.ids[logical_id]
        if attribute == "Arn":
            return self._arn(resource_type, physical)
        if (resource_type, attribute) == ("AWS::SQS::Queue", "QueueName"):
            return physical.rsplit("/", 1)[-1]
        if (resource_type, attribute) == ("AWS::SNS::Topic", "TopicName"):
            return physical.rsplit(":", 1)[-1]
        raise AssertionError(f"the test cannot resolve {logical_id}.{attribute}")

    def _arn(self, resource_type: str, physical: str) -> str:
        client = self.deployed.client
        arns = {
            "AWS::Lambda::Function": lambda: client("lambda").get_function_configuration(
                FunctionName=physical
            )["FunctionArn"],
            "AWS::SQS::Queue": lambda: client("sqs").get_queue_attributes(
                QueueUrl=physical, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"],
            "AWS::IAM::Role": lambda: client("iam").get_role(RoleName=physical)["Role"]["Arn"],
            "AWS::S3::Bucket": lambda: f"arn:aws:s3:::{physical}",
            "AWS::DynamoDB::Table": lambda: client("dynamodb").describe_table(TableName=physical)[
                "Table"
            ]["TableArn"],
            "AWS::Events::Rule": lambda: client("events").describe_rule(Name=physical)["Arn"],
            "AWS::KMS::Key": lambda: client("kms").describe_key(KeyId=physical)["KeyMetadata"][
                "Arn"
            ],
        }
        result: str = arns[resource_type]()
        return result

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def value(self, value: Any) -> Any:
        if isinstance(value, list):
            resolved = [self.value(each) for each in value]
            return [each for each in resolved if each is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Ref":
                return None if argument == "AWS::NoValue" else self.ref(argument)
            if function == "Fn::GetAtt":
                return self.get_att(*argument)
            if function == "Fn::Sub":
                if isinstance(argument, str):
                    return self.sub(argument, {})
                return self.sub(argument[0], {k: self.value(v) for k, v in argument[1].items()})
            if function == "Fn::If":
                chosen = argument[1] if self.condition(argument[0]) else argument[2]
                return self.value(chosen)
            if function == "Fn::Join":
                return argument[0].join(str(each) for each in self.value(argument[1]))
            if function == "Fn::Split":
                return self.value(argument[1]).split(argument[0])
            if function == "Fn::Select":
                return self.value(argument[1])[int(argument[0])]
        resolved = {key: self.value(each) for key, each in value.items()}
        return {key: each for key, each in resolved.items() if each is not None}


@pytest.fixture(scope="module")
def resolve(deployed: Deployed) -> Resolver:
    return Resolver(deployed)


def _document(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# --- the stack ---------------------------------------------------------------------------------


def test_every_resource_of_the_transformed_template_is_created_and_nothing_else(
    deployed: Deployed, resolve: Resolver
):
    expected = {
        logical_id: resource["Type"]
        for logical_id, resource in deployed.template["Resources"].items()
        if "Condition" not in resource or resolve.condition(resource["Condition"])
    }
    listed = {each.logical_id: each for each in deployed.deployment.resources}
    assert {k: each.resource_type for k, each in listed.items()} == expected
    assert deployed.deployment.status == "CREATE_COMPLETE"
    assert {each.status for each in listed.values()} == {"CREATE_COMPLETE"}
    assert all(each.physical_id for each in listed.values())
    # both conditional features are on, so the stack has every type the template uses
    assert len(set(expected.values())) == 22


def test_the_stack_outputs_are_the_deployed_resources(deployed: Deployed, resolve: Resolver):
    outputs = {
        key: resolve.value(spec["Value"]) for key, spec in deployed.template["Outputs"].items()
    }
    assert deployed.deployment.outputs == outputs


# --- each service's own view ------------------------------------------------------------------


def test_each_function_has_the_template_configuration(deployed: Deployed, resolve: Resolver):
    lambda_ = deployed.client("lambda")
    functions = deployed.of_type("AWS::Lambda::Function")
    assert len(functions) == 8
    for logical_id, resource in functions.items():
        expected = resolve.value(resource["Properties"])
        config = lambda_.get_function_configuration(FunctionName=resolve.ids[logical_id])
        assert config["FunctionName"] == expected["FunctionName"], logical_id
        assert config["Runtime"] == expected["Runtime"] == "python3.13", logical_id
        assert config["Architectures"] == expected["Architectures"] == ["arm64"], logical_id
        assert config["Handler"] == expected["Handler"], logical_id
        assert config["Timeout"] == expected["Timeout"], logical_id
        assert config["MemorySize"] == expected["MemorySize"], logical_id
        assert [layer["Arn"] for layer in config["Layers"]] == expected["Layers"], logical_id
        assert config["Role"] == expected["Role"], logical_id
        environment = {k: str(v) for k, v in expected["Environment"]["Variables"].items()}
        assert config["Environment"]["Variables"] == environment, logical_id
        assert config["TracingConfig"] == expected["TracingConfig"], logical_id


def test_the_layer_is_published_from_the_built_layer(deployed: Deployed, resolve: Resolver):
    ((logical_id, resource),) = deployed.of_type("AWS::Lambda::LayerVersion").items()
    arn = resolve.ids[logical_id]
    name, version = arn.rsplit(":", 2)[-2:]
    layer = deployed.client("lambda").get_layer_version(LayerName=name, VersionNumber=int(version))
    assert layer["LayerVersionArn"] == arn
    assert layer["CompatibleRuntimes"] == resource["Properties"]["CompatibleRuntimes"]
    assert layer["Content"]["CodeSize"] > 0


def test_each_role_has_the_template_policies(deployed: Deployed, resolve: Resolver):
    iam = deployed.client("iam")
    roles = deployed.of_type("AWS::IAM::Role")
    assert len(roles) == 8
    for logical_id, resource in roles.items():
        expected = resolve.value(resource["Properties"])
        name = resolve.ids[logical_id]
        role = iam.get_role(RoleName=name)["Role"]
        assert _document(role["AssumeRolePolicyDocument"]) == expected["AssumeRolePolicyDocument"]
        inline = {
            policy_name: _document(
                iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            )
            for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]
        }
        extra = {
            policy["Properties"]["PolicyName"]: resolve.value(
                policy["Properties"]["PolicyDocument"]
            )
            for policy_id, policy in deployed.of_type("AWS::IAM::Policy").items()
            if {"Ref": logical_id} in policy["Properties"]["Roles"]
        }
        template_inline = {
            policy["PolicyName"]: _document(policy["PolicyDocument"])
            for policy in expected.get("Policies", [])
        }
        assert inline == template_inline | extra, logical_id
        attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        assert sorted(p["PolicyArn"] for p in attached) == sorted(expected["ManagedPolicyArns"])


def test_each_managed_policy_has_the_template_document(deployed: Deployed, resolve: Resolver):
    iam = deployed.client("iam")
    policies = deployed.of_type("AWS::IAM::ManagedPolicy")
    assert policies
    for logical_id, resource in policies.items():
        arn = resolve.ids[logical_id]
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
        expected = _document(resolve.value(resource["Properties"]["PolicyDocument"]))
        assert _document(document["Document"]) == expected, logical_id


def test_each_rule_targets_its_function(deployed: Deployed, resolve: Resolver):
    events = deployed.client("events")
    rules = deployed.of_type("AWS::Events::Rule")
    assert len(rules) == 13
    for logical_id, resource in rules.items():
        expected = resolve.value(resource["Properties"])
        name = resolve.ids[logical_id]
        rule = events.describe_rule(Name=name)
        assert rule.get("ScheduleExpression") == expected.get("ScheduleExpression"), logical_id
        if "EventPattern" in expected:
            assert json.loads(rule["EventPattern"]) == expected["EventPattern"], logical_id
        assert rule["State"] == expected.get("State", "ENABLED"), logical_id
        targets = events.list_targets_by_rule(Rule=name)["Targets"]
        assert targets == expected["Targets"], logical_id


def test_each_rule_may_invoke_its_function(deployed: Deployed, resolve: Resolver):
    lambda_ = deployed.client("lambda")
    permissions = deployed.of_type("AWS::Lambda::Permission")
    assert len(permissions) == 14
    for logical_id, resource in permissions.items():
        expected = resolve.value(resource["Properties"])
        policy = json.loads(lambda_.get_policy(FunctionName=expected["FunctionName"])["Policy"])
        (statement,) = [s for s in policy["Statement"] if s["Sid"] == resolve.ids[logical_id]]
        assert statement["Action"] == expected["Action"], logical_id
        assert statement["Principal"] == {"Service": expected["Principal"]}, logical_id
        if "SourceArn" in expected:
            source = statement["Condition"]["ArnLike"]["AWS:SourceArn"]
            assert source == expected["SourceArn"], logical_id


def test_each_async_function_sends_failures_to_its_queue(deployed: Deployed, resolve: Resolver):
    lambda_ = deployed.client("lambda")
    configs = deployed.of_type("AWS::Lambda::EventInvokeConfig")
    assert len(configs) == 7
    for logical_id, resource in configs.items():
        expected = resolve.value(resource["Properties"])
        config = lambda_.get_function_event_invoke_config(FunctionName=expected["FunctionName"])
        assert config["DestinationConfig"] == expected["DestinationConfig"], logical_id
        assert config["MaximumRetryAttempts"] == expected["MaximumRetryAttempts"], logical_id
        assert config["MaximumEventAgeInSeconds"] == expected["MaximumEventAgeInSeconds"]
        assert resolve.ids[logical_id] == f"{expected['FunctionName']}|$LATEST"


def test_the_record_consumer_reads_the_cluster_through_its_event_source_mapping(
    deployed: Deployed, resolve: Resolver
):
    ((logical_id, resource),) = deployed.of_type("AWS::Lambda::EventSourceMapping").items()
    expected = resolve.value(resource["Properties"])
    mapping = deployed.client("lambda").get_event_source_mapping(UUID=resolve.ids[logical_id])
    assert mapping["EventSourceArn"] == CLUSTER_ARN
    assert mapping["FunctionArn"] == resolve.get_att("RecordConsumerFunction", "Arn")
    for key in (
        "Topics",
        "StartingPosition",
        "BatchSize",
        "MaximumBatchingWindowInSeconds",
        "AmazonManagedKafkaEventSourceConfig",
        "ProvisionedPollerConfig",
        "FunctionResponseTypes",
        "MaximumRetryAttempts",
        "BisectBatchOnFunctionError",
        "DestinationConfig",
    ):
        assert mapping[key] == _number_as_declared(expected[key], mapping[key]), key
    assert mapping["State"] == "Enabled"


def _number_as_declared(expected: Any, actual: Any) -> Any:
    """A Number parameter reaches the service as a number, whatever the template text says."""
    return (
        type(actual)(expected)
        if isinstance(actual, int) and not isinstance(actual, bool)
        else expected
    )


def test_the_alarms_watch_what_the_template_says(deployed: Deployed, resolve: Resolver):
    cloudwatch = deployed.client("cloudwatch")
    alarms = deployed.of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) == 10
    described = {
        alarm["AlarmName"]: alarm
        for alarm in cloudwatch.describe_alarms(AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    }
    for logical_id, resource in alarms.items():
        expected = resolve.value(resource["Properties"])
        alarm = described[resolve.ids[logical_id]]
        assert alarm["AlarmDescription"] == expected["AlarmDescription"]
        assert alarm["ComparisonOperator"] == expected["ComparisonOperator"]
        assert alarm["EvaluationPeriods"] == int(expected["EvaluationPeriods"])
        assert alarm["Threshold"] == float(expected["Threshold"])
        assert alarm["AlarmActions"] == expected["AlarmActions"]
        assert alarm.get("TreatMissingData") == expected.get("TreatMissingData")
        for key in ("Namespace", "MetricName", "Statistic"):
            assert alarm.get(key) == expected.get(key), (logical_id, key)
        assert alarm["Dimensions"] == expected.get("Dimensions", []), logical_id
        if "Period" in expected:
            assert alarm["Period"] == int(expected["Period"])
        metrics = [
            {key: each for key, each in query.items() if key != "AccountId"}
            for query in alarm.get("Metrics", [])
        ]
        assert metrics == expected.get("Metrics", []), logical_id
        assert alarm["AlarmArn"].endswith(f":alarm:{resolve.ids[logical_id]}")


def test_the_dashboard_is_the_template_body(deployed: Deployed, resolve: Resolver):
    ((logical_id, resource),) = deployed.of_type("AWS::CloudWatch::Dashboard").items()
    expected = resolve.value(resource["Properties"])
    dashboard = deployed.client("cloudwatch").get_dashboard(DashboardName=resolve.ids[logical_id])
    assert dashboard["DashboardName"] == expected["DashboardName"] == STACK
    assert json.loads(dashboard["DashboardBody"]) == json.loads(expected["DashboardBody"])


def test_the_queues_and_the_topic_carry_the_template_policies(
    deployed: Deployed, resolve: Resolver
):
    sqs = deployed.client("sqs")
    ((_, queue_policy),) = deployed.of_type("AWS::SQS::QueuePolicy").items()
    expected = resolve.value(queue_policy["Properties"])
    assert len(expected["Queues"]) == 7
    for url in expected["Queues"]:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
        assert json.loads(attributes["Attributes"]["Policy"]) == expected["PolicyDocument"]
    sns = deployed.client("sns")
    ((_, topic_policy),) = deployed.of_type("AWS::SNS::TopicPolicy").items()
    expected = resolve.value(topic_policy["Properties"])
    for arn in expected["Topics"]:
        attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        assert json.loads(attributes["Policy"]) == expected["PolicyDocument"]


def test_the_email_address_is_subscribed_to_the_topic(deployed: Deployed, resolve: Resolver):
    ((logical_id, resource),) = deployed.of_type("AWS::SNS::Subscription").items()
    expected = resolve.value(resource["Properties"])
    sns = deployed.client("sns")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=expected["TopicArn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"], s["SubscriptionArn"]) for s in subscriptions] == [
        ("email", "ops@example.com", resolve.ids[logical_id])
    ]


def test_the_buckets_carry_the_template_policies(deployed: Deployed, resolve: Resolver):
    s3 = deployed.client("s3")
    policies = deployed.of_type("AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for logical_id, resource in policies.items():
        expected = resolve.value(resource["Properties"])
        assert resolve.ids[logical_id] == expected["Bucket"]
        policy = s3.get_bucket_policy(Bucket=expected["Bucket"])["Policy"]
        assert json.loads(policy) == expected["PolicyDocument"], logical_id


# --- moto's IAM authorization against the deployed roles ---------------------------------------
# Why tests/least_privilege checks the recorded calls with its own evaluator rather than by
# replaying them as the deployed roles with moto's authorization on: these tests pin down where
# moto 5.2 answers differently from IAM for this template (README, "Least privilege").


@pytest.fixture
def as_deployed_role(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], boto3.Session]:
    """Credentials of a deployed role (AssumeRole through the emulator's STS), with moto's
    authorization on for every request after it (the server runs in this process)."""
    sts = deployed.client("sts")

    def assume(role_logical_id: str) -> boto3.Session:
        role_arn = f"arn:aws:iam::{ACCOUNT}:role/{deployed.physical_ids()[role_logical_id]}"
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="probe")["Credentials"]
        monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=REGION,
        )

    return assume


def _denied(call: Callable[[], Any]) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        call()
    return str(denied.value)


def test_moto_authorizes_an_unconditioned_grant_on_a_bucket(deployed: Deployed, as_deployed_role):
    reports = deployed.physical_ids()["AuditReportBucket"]
    s3 = as_deployed_role("SecurityAuditorFunctionRole").client(
        "s3", endpoint_url=deployed.endpoint_url
    )
    s3.list_objects_v2(Bucket=reports)  # s3:ListBucket on the bucket's ARN: granted
    assert "AccessDenied" in _denied(lambda: s3.list_objects_v2(Bucket=ARTIFACTS_BUCKET))


def test_moto_denies_a_grant_on_a_table_arn_and_names_cloudwatch_actions_monitoring(
    deployed: Deployed, as_deployed_role
):
    auditor = as_deployed_role("SecurityAuditorFunctionRole")
    table = deployed.physical_ids()["IdempotencyTable"]
    dynamodb = auditor.client("dynamodb", endpoint_url=deployed.endpoint_url)
    # Granted on the table's ARN, but moto checks every service other than S3, SQS, IAM and
    # STS against the resource "*", which an ARN never matches.
    put = _denied(lambda: dynamodb.put_item(TableName=table, Item={"id": {"S": "probe"}}))
    assert "not authorized to perform: dynamodb:PutItem" in put
    # Granted as cloudwatch:GetMetricData; moto names the action by CloudWatch's signing name.
    cloudwatch = auditor.client("cloudwatch", endpoint_url=deployed.endpoint_url)
    now = datetime.now(UTC)
    query = {"Namespace": "AWS/Kafka", "MetricName": "KafkaDataLogsDiskUsed"}
    metrics = _denied(
        lambda: cloudwatch.get_metric_data(
            MetricDataQueries=[
                {"Id": "q", "MetricStat": {"Metric": query, "Period": 60, "Stat": "Maximum"}}
            ],
            StartTime=now - timedelta(minutes=5),
            EndTime=now,
        )
    )
    assert "not authorized to perform: monitoring:GetMetricData" in metrics


def test_moto_never_authorizes_msk_calls(
    deployed: Deployed, as_deployed_role, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", deployed.endpoint_url)
    cluster = seed_fleet(deployed.session, {"clusters": [{"name": "orders"}]}).clusters["orders"]
    kafka = as_deployed_role("SecurityAuditorFunctionRole").client("kafka")
    # The auditor is granted no kafka:TagResource; the emulator's MSK answers before any check.
    kafka.tag_resource(ResourceArn=cluster, Tags={"probe": "true"})
    assert kafka.list_tags_for_resource(ResourceArn=cluster)["Tags"] == {"probe": "true"}


def _deployed_statements(deployed: Deployed, role_logical_id: str) -> list[IAMPolicy]:
    iam = deployed.client("iam")
    role = deployed.physical_ids()[role_logical_id]
    inline = [
        iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    attached = []
    for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
        answer = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)
        attached.append(answer["PolicyVersion"]["Document"])
    return [IAMPolicy(json.dumps(_document(each))) for each in inline + attached]


def _moto_verdict(policies: list[IAMPolicy], action: str, resource: str) -> PermissionResult:
    verdicts = {policy.is_action_permitted(action, resource) for policy in policies}
    for verdict in (PermissionResult.DENIED, PermissionResult.PERMITTED):
        if verdict in verdicts:
            return verdict
    return PermissionResult.NEUTRAL


def test_moto_cannot_judge_the_opt_in_tag_condition(deployed: Deployed):
    scaler = _deployed_statements(deployed, "StorageScalerFunctionRole")
    # IAM allows this for a cluster tagged msk-autopilot:managed=true. moto checks a condition
    # key only against values the request itself carries (never aws:ResourceTag/*,
    # aws:RequestedRegion or kms:ViaService); with the emulator a key without a value fails, as
    # in IAM, so the opted-in cluster is refused.
    verdict = _moto_verdict(scaler, "kafka:UpdateBrokerStorage", CLUSTER_ARN)
    assert verdict is PermissionResult.NEUTRAL


def test_moto_reads_a_deny_with_not_resource_as_an_allow(deployed: Deployed):
    auditor = _deployed_statements(deployed, "SecurityAuditorFunctionRole")
    # OnlyTheAuditRole denies assuming any role but the audit role. moto reads a statement
    # without Resource as a trust policy's, and answers "permitted", whatever its Effect.
    admin = "arn:aws:iam::222222222222:role/admin"
    assert _moto_verdict(auditor, "sts:AssumeRole", admin) is PermissionResult.PERMITTED


# --- update and delete (they change the shared stack, so they run last) -----------------------


def test_the_command_redeploys_the_same_stack_unchanged_and_prints_each_resource(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", deployed.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.chdir(ROOT)
    overrides = [f"{key}={value}" for key, value in PARAMETERS.items()]
    code = main(["deploy", "--no-build", "--parameter-overrides", *overrides])
    output = capsys.readouterr().out.splitlines()
    assert code == 0
    assert output[0].split() == ["LogicalId", "Type", "PhysicalId", "Status"]
    rows = sorted(line.split() for line in output[1:-1])
    assert rows == sorted(
        [each.logical_id, each.resource_type, each.physical_id, "CREATE_COMPLETE"]
        for each in deployed.deployment.resources
    )
    assert output[-1] == f"stack {STACK} unchanged: CREATE_COMPLETE, {len(rows)} resources"


def test_a_second_deploy_with_a_changed_parameter_updates_in_place(
    deployed: Deployed, resolve: Resolver
):
    before = deployed.physical_ids()
    update = deploy(
        ROOT / "template.yaml",
        cloudformation=deployed.client("cloudformation"),
        s3=deployed.client("s3"),
        parameters=PARAMETERS | {"LogLevel": "DEBUG", "OptInTagKey": "team:autopilot"},
        build_first=False,
    )
    assert (update.action, update.status) == ("UPDATE", "UPDATE_COMPLETE")
    lambda_ = deployed.client("lambda")
    for logical_id in deployed.of_type("AWS::Lambda::Function"):
        config = lambda_.get_function_configuration(FunctionName=before[logical_id])
        assert config["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
        assert config["Environment"]["Variables"]["OPT_IN_TAG_KEY"] == "team:autopilot"
    # a parameter read only through !Sub reaches the document too
    iam = deployed.client("iam")
    (policy_arn,) = [
        each.physical_id
        for each in update.resources
        if each.logical_id == "StorageScalerOptedInClustersPolicy"
    ]
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]
    assert "aws:ResourceTag/team:autopilot" in json.dumps(document["Document"])
    after = {each.logical_id: each.physical_id for each in update.resources}
    assert set(after) == set(before)
    assert {each.status for each in update.resources} <= {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    kept = {"AWS::Lambda::Function", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::S3::Bucket"}
    for logical_id, resource in deployed.template["Resources"].items():
        if resource["Type"] in kept and logical_id in before:
            assert after[logical_id] == before[logical_id], logical_id


def test_deleting_the_stack_leaves_only_what_the_template_retains(
    deployed: Deployed, resolve: Resolver
):
    retained = {
        resolve.ids[logical_id]
        for logical_id, resource in deployed.template["Resources"].items()
        if resource.get("DeletionPolicy") == "Retain"
    }
    cloudformation = deployed.client("cloudformation")
    cloudformation.delete_stack(StackName=STACK)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    buckets = {b["Name"] for b in deployed.client("s3").list_buckets()["Buckets"]}
    assert buckets == retained | {ARTIFACTS_BUCKET}
    remaining = {
        "functions": deployed.client("lambda").list_functions()["Functions"],
        "layers": deployed.client("lambda").list_layers()["Layers"],
        "event source mappings": deployed.client("lambda").list_event_source_mappings()[
            "EventSourceMappings"
        ],
        "queues": deployed.client("sqs").list_queues().get("QueueUrls", []),
        "topics": deployed.client("sns").list_topics()["Topics"],
        "subscriptions": deployed.client("sns").list_subscriptions()["Subscriptions"],
        "tables": deployed.client("dynamodb").list_tables()["TableNames"],
        "rules": deployed.client("events").list_rules()["Rules"],
        "alarms": deployed.client("cloudwatch").describe_alarms()["MetricAlarms"],
        "dashboards": deployed.client("cloudwatch").list_dashboards()["DashboardEntries"],
        "log groups": deployed.client("logs").describe_log_groups()["logGroups"],
        "roles": deployed.client("iam").list_roles()["Roles"],
        "policies": deployed.client("iam").list_policies(Scope="Local")["Policies"],
    }
    assert {kind: found for kind, found in remaining.items() if found} == {}


def test_a_resource_that_cannot_be_created_fails_the_deploy_in_one_line(deployed: Deployed):
    """As in an account where `msk-autopilot local-aws` created the app's table by hand."""
    deployed.client("dynamodb").create_table(
        TableName="collides-idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(DeployError) as failed:
        deploy(
            ROOT / "template.yaml",
            cloudformation=deployed.client("cloudformation"),
            s3=deployed.client("s3"),
            stack_name="collides",
            build_first=False,
        )
    assert str(failed.value) == (
        "a resource of stack collides failed: Table already exists: collides-idempotency"
    )
