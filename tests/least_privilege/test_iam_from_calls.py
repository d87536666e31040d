"""Least privilege, derived from what the functions really call.

The main test run records the IAM action behind every AWS call a function handler makes
(tests/conftest.py). This suite, run after it (`make test` orders them), checks each function's
role in the transformed template against those records: every recorded call is allowed, and no
mutating action is granted that no test ever made.
"""

import json
from collections import defaultdict
from pathlib import Path

import pytest

from msk_autopilot_local.template.cfn import function_policies, transform_template
from msk_autopilot_local.template.resolve import ResolvedTemplate

ROOT = Path(__file__).resolve().parents[2]
CALL_LOG_DIR = ROOT / ".pytest-calls"
READ_ONLY = ("Describe", "List", "Get", "BatchGet", "Head", "Query", "Scan")
# Granted for AWS services acting on the function's behalf, never called by the code itself.
SERVICE_GRANTS = {
    "kms:Decrypt": "Lambda decrypts the environment variables; SQS/SNS/DynamoDB use the key",
    "kms:GenerateDataKey": "encrypted SNS topic, SQS destinations and table need data keys",
    "sqs:SendMessage": "Lambda delivers failed asynchronous events to the OnFailure queue",
}
# Actions IAM checks as part of another call (Service Authorization Reference).
DEPENDENT_ACTIONS = {
    "cloudwatch:TagResource": "cloudwatch:PutMetricAlarm",  # PutMetricAlarm with Tags
    "kms:CreateGrant": "kafka:BatchAssociateScramSecret",  # MSK grants itself the secret's key
    # MSK sets up broker log delivery to CloudWatch Logs as its caller
    "logs:CreateLogDelivery": "kafka:UpdateMonitoring",
    "logs:PutResourcePolicy": "kafka:UpdateMonitoring",
}


@pytest.fixture(scope="module")
def policies():
    return function_policies(transform_template(ROOT / "template.yaml"))


@pytest.fixture(scope="module")
def recorded() -> dict[str, set[str]]:
    logs = sorted(CALL_LOG_DIR.glob("calls-*.jsonl"))
    assert logs, "no recorded calls: run the main test suite first (make test does)"
    stack = ResolvedTemplate(ROOT / "template.yaml")
    logical = {stack.physical_name(fid): fid for fid in stack.functions().values()}
    calls: dict[str, set[str]] = defaultdict(set)
    for log in logs:
        for line in log.read_text().splitlines():
            call = json.loads(line)
            calls[logical.get(call["function"], call["function"])].add(call["action"])
    return calls


def test_every_recorded_call_is_allowed(policies, recorded):
    denied = {
        function: sorted(a for a in actions if not policies[function].allows(a))
        for function, actions in recorded.items()
    }
    assert not {f: a for f, a in denied.items() if a}, denied


def test_no_mutating_action_is_granted_that_no_test_made(policies, recorded):
    unused = {}
    for function, policy in policies.items():
        made = recorded.get(function, set())
        for action in set(policy.allowed_actions()):
            verb = action.split(":", 1)[1]
            if verb.startswith(READ_ONLY) or action in SERVICE_GRANTS:
                continue
            if action in made or DEPENDENT_ACTIONS.get(action) in made:
                continue
            unused.setdefault(function, []).append(action)
    assert not unused, f"granted but never called: {unused}"
