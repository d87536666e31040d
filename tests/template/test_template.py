"""What the deployed CloudFormation must satisfy: lint-clean, runtimes, retries, dead letters,
encryption, retention, and IAM without wildcards that only changes opted-in clusters."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from msk_autopilot_local.template.cfn import policy_document

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

FUNCTIONS = {
    "StorageScalerFunction": "storage_scaler",
    "ConfigRotatorFunction": "config_rotator",
    "ScramRotatorFunction": "scram_rotator",
    "SecurityAuditorFunction": "security_auditor",
    "RecordConsumerFunction": "record_consumer",
}
ASYNC_FUNCTIONS = [
    "StorageScalerFunction",
    "ConfigRotatorFunction",
    "ScramRotatorFunction",
    "SecurityAuditorFunction",
]
# kafka actions that change a cluster; IAM lets them be limited by the cluster's tags.
MUTATING_CLUSTER_ACTIONS = {
    "kafka:UpdateBrokerStorage",
    "kafka:UpdateStorage",
    "kafka:UpdateClusterConfiguration",
    "kafka:UpdateClusterKafkaVersion",
    "kafka:UpdateMonitoring",
    "kafka:UpdateSecurity",
    "kafka:UpdateConnectivity",
    "kafka:UpdateBrokerCount",
    "kafka:UpdateBrokerType",
    "kafka:RebootBroker",
    "kafka:BatchAssociateScramSecret",
    "kafka:BatchDisassociateScramSecret",
    "kafka:DeleteCluster",
    "kafka:PutClusterPolicy",
    "kafka:DeleteClusterPolicy",
    "kafka:TagResource",
    "kafka:UntagResource",
}


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every statement of every IAM and resource policy, with the resource that holds it."""
    parameters = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    found: list[tuple[str, dict[str, Any]]] = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        for key in ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument"):
            if key in props:
                documents.append(props[key])
        for document in documents:
            for statement in _as_list(policy_document(document, parameters)["Statement"]):
                found.append((logical_id, statement))
    return found


def role_of(template: dict[str, Any], function: str) -> dict[str, Any]:
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    return template["Resources"][role]


def test_transformed_template_is_lint_clean(transformed_file):
    result = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "parseable", "--", str(transformed_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    # cfn-lint exit bits: 2 errors, 4 warnings, 8 informational
    assert result.returncode & 0b110 == 0, result.stdout + result.stderr


def test_sam_validate_lint_passes():
    sam = os.environ.get("SAM_CLI") or str(ROOT / ".tools/sam/bin/sam")
    assert Path(sam).exists(), "the SAM CLI is installed by `make test` into .tools/sam"
    result = subprocess.run(
        [sam, "validate", "--lint", "--template-file", str(TEMPLATE), "--region", "us-east-1"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_function_is_python313_on_arm64_with_the_layer(transformed):
    functions = resources_of(transformed, "AWS::Lambda::Function")
    assert set(functions) == set(FUNCTIONS)
    (layer,) = resources_of(transformed, "AWS::Lambda::LayerVersion")
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        assert props["Layers"] == [{"Ref": layer}], name
        assert props["Handler"] == "app.lambda_handler"
        assert (ROOT / "functions" / FUNCTIONS[name] / "app.py").is_file()


def test_every_async_function_has_bounded_retries_and_a_dead_letter_queue(transformed):
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in resources_of(transformed, "AWS::Lambda::EventInvokeConfig").values()
    }
    queues = resources_of(transformed, "AWS::SQS::Queue")
    for name in ASYNC_FUNCTIONS:
        config = configs[name]
        assert 0 <= config["MaximumRetryAttempts"] <= 2, name
        assert config["MaximumEventAgeInSeconds"] <= 3600, name
        on_failure = config["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"]
        assert on_failure[0] in queues, name


def test_every_eventbridge_target_retries_boundedly_and_dead_letters(transformed):
    rules = resources_of(transformed, "AWS::Events::Rule")
    assert rules
    for name, rule in rules.items():
        for target in rule["Properties"]["Targets"]:
            assert target["RetryPolicy"]["MaximumRetryAttempts"] <= 3, name
            assert "Arn" in target["DeadLetterConfig"], name


def test_no_policy_allows_every_action(transformed):
    for owner, statement in policy_statements(transformed):
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action", []))
        assert "*" not in actions, owner
        assert not any(a.endswith(":*") and not a.startswith("kms:") for a in actions), owner


def test_mutating_kafka_actions_need_the_opt_in_tag(transformed):
    tag_key = transformed["Parameters"]["OptInTagKey"]["Default"]
    granted = set()
    for owner, statement in policy_statements(transformed):
        actions = set(_as_list(statement.get("Action", [])))
        mutating = actions & MUTATING_CLUSTER_ACTIONS
        if not mutating or statement.get("Effect") != "Allow":
            continue
        # Further keys in the same StringEquals (all must match) can only narrow the grant.
        condition = statement.get("Condition", {}).get("StringEquals", {})
        assert condition.get(f"aws:ResourceTag/{tag_key}") == "true", (owner, mutating)
        granted |= mutating
    # the functions do change clusters: the check above is not vacuous
    assert {"kafka:UpdateBrokerStorage", "kafka:UpdateClusterConfiguration"} <= granted


def test_each_function_role_attaches_its_own_opted_in_policy(transformed):
    for function in ASYNC_FUNCTIONS:
        arns = role_of(transformed, function)["Properties"]["ManagedPolicyArns"]
        assert {"Ref": function.replace("Function", "OptedInClustersPolicy")} in arns


def test_queues_topics_tables_and_buckets_are_encrypted(transformed):
    for name, queue in resources_of(transformed, "AWS::SQS::Queue").items():
        assert "KmsMasterKeyId" in queue["Properties"], name
    for name, topic in resources_of(transformed, "AWS::SNS::Topic").items():
        assert "KmsMasterKeyId" in topic["Properties"], name
    for name, table in resources_of(transformed, "AWS::DynamoDB::Table").items():
        sse = table["Properties"]["SSESpecification"]
        assert sse["SSEEnabled"] is True, name
        assert sse["SSEType"] == "KMS", name
        assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        assert table["Properties"]["TimeToLiveSpecification"]["Enabled"] is True
    for name, bucket in resources_of(transformed, "AWS::S3::Bucket").items():
        rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms", name
    key = next(iter(resources_of(transformed, "AWS::KMS::Key").values()))
    assert key["Properties"]["EnableKeyRotation"] is True


def test_every_log_group_has_a_retention_and_every_function_logs_to_one(transformed):
    groups = resources_of(transformed, "AWS::Logs::LogGroup")
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    for name, function in resources_of(transformed, "AWS::Lambda::Function").items():
        assert function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] in groups, name


def test_the_automation_alarms_on_its_own_errors_throttles_and_dead_letters(transformed):
    alarms = resources_of(transformed, "AWS::CloudWatch::Alarm").values()
    watched = set()
    for alarm in alarms:
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": "NotificationTopic"}]
        for metric in props.get("Metrics", []):
            if "MetricStat" in metric:
                watched.add(metric["MetricStat"]["Metric"]["MetricName"])
        if "MetricName" in props:
            watched.add(props["MetricName"])
    assert {"Errors", "Throttles", "ApproximateNumberOfMessagesVisible"} <= watched
    error_alarms = [a for a in alarms if a["Properties"].get("MetricName") == "Errors"]
    assert len(error_alarms) == len(FUNCTIONS)


def test_schedules_come_from_parameters(transformed):
    schedules = {
        r["Properties"]["ScheduleExpression"]["Ref"]
        for r in resources_of(transformed, "AWS::Events::Rule").values()
        if "ScheduleExpression" in r["Properties"]
    }
    assert schedules == {"StorageSweepSchedule", "ConfigSweepSchedule", "AuditSchedule"}


def test_every_parameter_is_documented_in_the_readme(sam_template):
    readme = (ROOT / "README.md").read_text()
    for name in sam_template["Parameters"]:
        assert f"`{name}`" in readme, name
