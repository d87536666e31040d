"""What the deployed CloudFormation must satisfy: lint-clean, runtimes, retries, dead letters,
encryption, retention, and IAM without wildcards that only changes opted-in clusters."""

import fnmatch
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from msk_autopilot.config.desired import MSK_NAME_PREFIX
from msk_autopilot.versions.upgrader import COUPLED_PREFIX
from msk_autopilot_local.template.cfn import policy_document, possible_values

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

FUNCTIONS = {
    "StorageScalerFunction": "storage_scaler",
    "BrokerScalerFunction": "broker_scaler",
    "ConfigRotatorFunction": "config_rotator",
    "ScramRotatorFunction": "scram_rotator",
    "SecurityAuditorFunction": "security_auditor",
    "RecordConsumerFunction": "record_consumer",
    "HealthMonitorFunction": "health_monitor",
    "VersionUpgraderFunction": "version_upgrader",
}
# Functions that change clusters (each has its opted-in policy)
CHANGING_FUNCTIONS = [
    "StorageScalerFunction",
    "BrokerScalerFunction",
    "ConfigRotatorFunction",
    "ScramRotatorFunction",
    "SecurityAuditorFunction",
    "VersionUpgraderFunction",
]
ASYNC_FUNCTIONS = [*CHANGING_FUNCTIONS, "HealthMonitorFunction"]
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

# Secrets Manager actions that read or change a secret's value
SECRET_VALUE_ACTIONS = {
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
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
            for listed in _as_list(policy_document(document, parameters)["Statement"]):
                found.extend((logical_id, statement) for statement in possible_values(listed))
    return found


def role_of(template: dict[str, Any], function: str) -> dict[str, Any]:
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    return template["Resources"][role]


def test_transformed_template_is_lint_clean(transformed_file):
    result = subprocess.run(
        # cfn-lint 1.x has no `python -m cfnlint`: that failed with exit 1, which this test took
        # for a pass. The program beside the interpreter is what users run.
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--format",
            "parseable",
            "--",
            str(transformed_file),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # cfn-lint exit bits: 1 a failure to run, 2 errors, 4 warnings, 8 informational
    assert result.returncode & 0b111 == 0, result.stdout + result.stderr


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
        # UpdateClusterConfiguration also names a configuration, which carries no tags: a
        # statement on configurations alone changes no cluster.
        if all(":configuration/" in arn for arn in _as_list(statement["Resource"])):
            assert mutating == {"kafka:UpdateClusterConfiguration"}, owner
            continue
        # Further keys in the same StringEquals (all must match) can only narrow the grant.
        condition = statement.get("Condition", {}).get("StringEquals", {})
        assert condition.get(f"aws:ResourceTag/{tag_key}") == "true", (owner, mutating)
        granted |= mutating
    # the functions do change clusters: the check above is not vacuous
    assert {
        "kafka:UpdateBrokerStorage",
        "kafka:UpdateBrokerType",
        "kafka:UpdateBrokerCount",
        "kafka:UpdateClusterConfiguration",
        "kafka:UpdateClusterKafkaVersion",
    } <= granted


def test_the_scram_rotator_reads_and_changes_only_opted_in_secrets(transformed):
    tag_key = transformed["Parameters"]["OptInTagKey"]["Default"]
    role_id = transformed["Resources"]["ScramRotatorFunction"]["Properties"]["Role"]["Fn::GetAtt"][
        0
    ]
    attached = {role_id} | {
        arn["Ref"]
        for arn in role_of(transformed, "ScramRotatorFunction")["Properties"]["ManagedPolicyArns"]
        if isinstance(arn, dict) and "Ref" in arn
    }
    granted = set()
    for owner, statement in policy_statements(transformed):
        actions = set(_as_list(statement.get("Action", []))) & SECRET_VALUE_ACTIONS
        if owner not in attached or statement.get("Effect") != "Allow" or not actions:
            continue
        condition = statement.get("Condition", {}).get("StringEquals", {})
        assert condition == {f"secretsmanager:ResourceTag/{tag_key}": "true"}, (owner, actions)
        granted |= actions
    assert granted == SECRET_VALUE_ACTIONS


def test_each_function_role_attaches_its_own_opted_in_policy(transformed):
    for function in CHANGING_FUNCTIONS:
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
    assert schedules == {
        "StorageSweepSchedule",
        "ConfigSweepSchedule",
        "AuditSchedule",
        "HealthSweepSchedule",
        "VersionSweepSchedule",
        "BrokerSweepSchedule",
    }


def test_the_broker_scaler_wakes_on_the_health_monitors_load_alarms_only(sam_template):
    """Its rule's name patterns match the names health.alarms gives the CPU, throughput and
    throttle alarms of any cluster and broker, and no other alarm of ours."""
    from msk_autopilot.capacity.scaler import LOAD_ALARM_METRICS  # noqa: PLC0415
    from msk_autopilot.health.alarms import ALARMS  # noqa: PLC0415

    events = sam_template["Resources"]["BrokerScalerFunction"]["Properties"]["Events"]
    detail = events["LoadAlarm"]["Properties"]["Pattern"]["detail"]
    assert detail["state"] == {"value": ["ALARM"]}
    patterns = [
        entry["wildcard"]["Fn::Sub"].replace("${AWS::StackName}", "msk-autopilot")
        for entry in detail["alarmName"]
    ]
    for unit in ALARMS:
        name = f"msk-autopilot-health-orders-eu-broker-12-{unit.id}"
        wakes = any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
        assert wakes == (set(unit.metrics) <= LOAD_ALARM_METRICS), unit.id
    assert not any(fnmatch.fnmatchcase("msk-autopilot-disk-orders-broker-1", p) for p in patterns)


def test_every_parameter_is_documented_in_the_readme(sam_template):
    readme = (ROOT / "README.md").read_text()
    for name in sam_template["Parameters"]:
        assert f"`{name}`" in readme, name


def _statements_with(transformed: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [
        statement
        for _, statement in policy_statements(transformed)
        if action in _as_list(statement.get("Action", [])) and statement["Effect"] == "Allow"
    ]


def test_the_config_rotator_writes_only_its_own_configurations(transformed):
    for action in ("kafka:CreateConfiguration", "kafka:UpdateConfiguration"):
        resources = {
            resource.rsplit(":configuration/", 1)[1]
            for statement in _statements_with(transformed, action)
            for resource in _as_list(statement["Resource"])
        }
        # the version upgrader creates configurations too, under its own names
        expected = {f"{MSK_NAME_PREFIX}*"}
        if action == "kafka:CreateConfiguration":
            expected.add(f"{COUPLED_PREFIX}*")
        assert resources == expected, action
    # moving a cluster names the configuration too (a rollback: any configuration it ran)
    resources = {
        arn.rsplit(":", 1)[1]
        for statement in _statements_with(transformed, "kafka:UpdateClusterConfiguration")
        for arn in _as_list(statement["Resource"])
    }
    assert resources == {"cluster/*", "configuration/*"}


def test_log_resource_policies_are_granted_only_in_this_account(transformed):
    for action in ("logs:PutResourcePolicy", "logs:DescribeResourcePolicies"):
        (statement,) = _statements_with(transformed, action)
        assert statement["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*"
        }


def test_the_vpc_access_policy_comes_only_with_a_vpc(transformed):
    vpc_policy = "service-role/AWSLambdaVPCAccessExecutionRole"
    for function in FUNCTIONS:
        vpc = transformed["Resources"][function]["Properties"].get("VpcConfig")
        attached = [
            arn
            for arn in role_of(transformed, function)["Properties"]["ManagedPolicyArns"]
            if vpc_policy in str(arn)
        ]
        if vpc is None:
            assert attached == [], function
            continue
        (entry,) = attached  # the policy is attached under the VpcConfig's own condition
        condition, _, absent = entry["Fn::If"]
        assert condition == vpc["Fn::If"][0], function
        assert absent == {"Ref": "AWS::NoValue"}, function
    assert "VpcConfig" in transformed["Resources"]["ScramRotatorFunction"]["Properties"]


def _evaluate(value: Any, parameters: dict[str, str]) -> Any:
    """Ref, Fn::Join and Fn::Split of parameters, as CloudFormation evaluates them."""
    if isinstance(value, list):
        return [_evaluate(each, parameters) for each in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return parameters[value["Ref"]]
    if "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return delimiter.join(_evaluate(parts, parameters))
    (delimiter, text) = value["Fn::Split"]
    return _evaluate(text, parameters).split(delimiter)


def _may_assume(transformed: dict[str, Any], role_arn: str, accounts: str) -> bool:
    conditions = transformed["Conditions"]
    assert conditions["HasAuditMemberAccounts"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AuditMemberAccountIds"}, ""]}]
    }
    parameters = {"AuditMemberAccountIds": accounts, "AuditMemberRoleName": "msk-autopilot-audit"}
    allowed = denied = False
    role = role_of(transformed, "SecurityAuditorFunction")["Properties"]
    for policy in role["Policies"]:
        for listed in _as_list(policy["PolicyDocument"]["Statement"]):
            statement = listed
            if "Fn::If" in listed:
                condition, present, absent = listed["Fn::If"]
                assert condition == "HasAuditMemberAccounts"
                statement = present if accounts else absent
            if statement.get("Action") != "sts:AssumeRole":
                continue
            if statement["Effect"] == "Allow":
                patterns = _as_list(_evaluate(statement["Resource"], parameters))
                allowed |= any(fnmatch.fnmatchcase(role_arn, p) for p in patterns)
            else:
                pattern = statement["NotResource"]["Fn::Sub"].replace("${AWS::Partition}", "aws")
                pattern = pattern.replace("${AuditMemberRoleName}", "msk-autopilot-audit")
                denied |= not fnmatch.fnmatchcase(role_arn, pattern)
    return allowed and not denied


def test_the_auditor_assumes_only_the_audit_role_of_member_accounts(transformed):
    members = "111111111111,222222222222"
    audit = "arn:aws:iam::{}:role/msk-autopilot-audit"
    assert _may_assume(transformed, audit.format("111111111111"), members)
    assert _may_assume(transformed, audit.format("222222222222"), members)
    assert not _may_assume(transformed, audit.format("333333333333"), members)
    assert not _may_assume(transformed, "arn:aws:iam::111111111111:role/Admin", members)
    assert not _may_assume(transformed, audit.format("111111111111"), "")  # no member accounts


def test_the_health_monitor_writes_only_its_own_alarms_and_dashboards_and_changes_no_cluster(
    transformed,
):
    role = role_of(transformed, "HealthMonitorFunction")
    only_the_role = {**transformed, "Resources": {"HealthMonitorRole": role}}
    by_action: dict[str, list[Any]] = {}
    for _, statement in policy_statements(only_the_role):
        if statement["Effect"] == "Allow" and "Resource" in statement:  # not the trust policy
            for action in _as_list(statement["Action"]):
                by_action.setdefault(action, []).extend(_as_list(statement["Resource"]))
    for verb in ("PutMetricAlarm", "DeleteAlarms", "DisableAlarmActions", "EnableAlarmActions"):
        resources = by_action[f"cloudwatch:{verb}"]
        assert {r["Fn::Sub"].split(":alarm:")[1] for r in resources} == {
            "${AWS::StackName}-health-*",
            "${AWS::StackName}-disk-*",
        }, verb
    for verb in ("PutDashboard", "DeleteDashboards"):
        (resource,) = by_action[f"cloudwatch:{verb}"]
        assert resource["Fn::Sub"].endswith(":dashboard/${AWS::StackName}-health-*"), verb
    assert not set(by_action) & MUTATING_CLUSTER_ACTIONS
